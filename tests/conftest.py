"""Shared fixtures: personas (one per role, plus a user of another site) and services.

In CI (CI=true) a test that needs PostgreSQL, Redis or Chromium fails when the service
is missing; on a developer's machine it is skipped with the reason.
"""

import os
import shutil
from importlib import import_module

import pytest
from django.contrib.auth.models import Group

from core import roles
from tests.patients.factories import SiteFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _flush_around_the_audit_trail() -> None:
    """Let the test runner empty its throwaway database between transactional tests.

    The audit trail refuses DELETE (SQLite) and TRUNCATE (PostgreSQL), and Django's flush
    uses those. Here only, in the test database, the flush steps round the trigger: it is
    dropped (SQLite) or disabled (PostgreSQL, as the owner the suite connects as) for the
    flush and put back after it. Nothing in the application can do the same.
    """
    from django.db import connection

    from audit.models import AuditEvent

    table = AuditEvent._meta.db_table
    sqlite = import_module("audit.migrations.0004_no_delete_no_truncate")
    before, after = {
        "sqlite": ([sqlite.SQLITE_DROP], [sqlite.SQLITE_CREATE]),
        "postgresql": ([f"ALTER TABLE {table} DISABLE TRIGGER audit_no_truncate"],
                       [f"ALTER TABLE {table} ENABLE TRIGGER audit_no_truncate"]),
    }[connection.vendor]
    ops = type(connection.ops)
    original = ops.sql_flush

    def sql_flush(self, style, tables, *args, **kwargs):
        statements = original(self, style, tables, *args, **kwargs)
        return [*before, *statements, *after] if table in tables else statements

    ops.sql_flush = sql_flush


@pytest.fixture(scope="session", autouse=True)
def _flushable_audit_trail():
    _flush_around_the_audit_trail()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factory users hash a password each: Argon2, the configured hasher, takes ~0.2 s of
    CPU a user (~0.5 s on the shared 2-core machine), MD5 microseconds. The configured
    hasher is tested in tests/tracker/test_security.py."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def need(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI, when a real service a test needs is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI needs this service: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def site(db):
    return SiteFactory(name="North Clinic", code="north")


@pytest.fixture
def other_site(db):
    return SiteFactory(name="South Clinic", code="south")


def _persona(role: str, site, username: str):
    user = UserFactory(username=username)
    # get_or_create: transactional (browser, worker) tests flush the groups the migration made.
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    site.members.add(user)
    return user


@pytest.fixture
def clinic_staff(site):
    return _persona(roles.CLINIC_STAFF, site, "staff")


@pytest.fixture
def radiologist(site):
    return _persona(roles.RADIOLOGIST, site, "radiologist")


@pytest.fixture
def coordinator(site):
    return _persona(roles.COORDINATOR, site, "coordinator")


@pytest.fixture
def site_admin(site):
    user = _persona(roles.ADMIN, site, "siteadmin")
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def outsider(other_site):
    """A radiologist of another site: must never see `site`'s patients."""
    return _persona(roles.RADIOLOGIST, other_site, "outsider")


@pytest.fixture
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    need(shutil.which(path) is not None, f"Chromium not found at {path}")
    return path


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def browser(chromium_path, monkeypatch):
    """Debian's Chromium driven by Playwright's sync API, for the `browser` tests.

    Assert on the page with Playwright's `expect(...)`, which waits until the condition
    holds (or times out): a count or a text read right after a click may still see the
    previous page, so no test may read one without waiting.
    """
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM must still work.
    # Set per test (not at import) so it does not leak into other tests (`check --deploy`).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from django.db import connections

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # While Playwright's sync API runs, the ORM opens a second database connection
        # here (Django keeps connections per context): the test's and the teardowns of the
        # fixtures set up after this one use it, and nothing else closes it. Close it, or
        # PostgreSQL refuses to drop the test database at the end of the session.
        connections.close_all()
    connections.close_all()


@pytest.fixture
def page(browser):
    """A fresh browser context's page; console errors and page errors are collected in
    `page.console_errors` (favicon misses aside)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1180})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and "favicon" not in msg.location.get("url", "")
            and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def postgres_db(db, settings):
    from django.db import connection

    need(connection.vendor == "postgresql", "this test needs PostgreSQL (set DATABASE_URL)")
    return connection


def pytest_collection_modifyitems(config, items):
    """Tests using `postgres_db` carry the `postgres` marker, so the SQLite pass in CI
    can deselect them (`-m "not postgres"`) while the PostgreSQL pass runs them."""
    for item in items:
        if "postgres_db" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


# The `redis_server` (a test's own redis-server) and `workers` (real `celery worker`
# subprocesses) fixtures; imported last because celery_support uses `need` from this module.
from tests.celery_support import redis_server, workers  # noqa: E402, F401
