"""The audit trail survives the application's own database role (PostgreSQL).

`manage.py migrate` runs as the owner (MIGRATE_DATABASE_URL) and grants the application
role (DATABASE_URL); connected as that role, the application works, and nothing it can
send erases or rewrites the trail: UPDATE, DELETE, TRUNCATE, DISABLE TRIGGER, DROP
TRIGGER all fail. A database and a role of its own, made and dropped here.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
ATTACKS = [
    "UPDATE audit_auditevent SET action = 'view'",
    "DELETE FROM audit_auditevent",
    "TRUNCATE audit_auditevent",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_append_only ON audit_auditevent",
    "DROP TRIGGER audit_no_truncate ON audit_auditevent",
    "ALTER TABLE audit_auditevent RENAME TO audit_gone",
    "DROP TABLE audit_auditevent",
    "CREATE TRIGGER sneak BEFORE INSERT ON audit_auditevent FOR EACH ROW "
    "EXECUTE FUNCTION audit_append_only()",
]


@pytest.fixture
def owner_and_app(postgres_db):
    """(owner URL, application URL) of a new database owned by the suite's user."""
    s = postgres_db.settings_dict
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    suffix = uuid.uuid4().hex[:8]
    dbname, role = f"tracker_roles_{suffix}", f"tracker_app_{suffix}"
    admin = psycopg.connect(host=host, port=port, user=s["USER"], password=s["PASSWORD"] or None,
                            dbname="postgres", autocommit=True)
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'app-test'").format(sql.Identifier(role)))
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    yield (f"postgres://{auth}@{host}:{port}/{dbname}",
           f"postgres://{role}:app-test@{host}:{port}/{dbname}", role)
    admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(dbname)))
    admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    admin.close()


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=base | env,
                          capture_output=True, text=True, timeout=300)


def test_the_application_role_cannot_erase_the_audit_trail(owner_and_app):
    owner_url, app_url, role = owner_and_app
    env = {"DATABASE_URL": app_url, "MIGRATE_DATABASE_URL": owner_url}
    # --skip-checks: the system checks are not what this test is about (the suite runs them
    # once, tests/tracker/test_security.py); they cost a few seconds here.
    migrated = manage("migrate", "--no-input", "--skip-checks", env=env)
    assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-3000:]
    assert f"Granted the application role '{role}'" in migrated.stdout

    # The application, as its role, reads and writes the clinical tables and appends to the trail.
    script = ("from audit.services import audit_record; from patients.models import Site;"
              "s = Site.objects.create(name='Probe', code='probe'); s.name = 'Probe 2'; s.save();"
              "audit_record(action='login', actor_username='probe');"
              "from audit.models import AuditEvent; print('events', AuditEvent.objects.count())")
    shell = manage("shell", "-c", script, env={"DATABASE_URL": app_url})
    assert shell.returncode == 0, shell.stderr[-3000:]
    assert "events" in shell.stdout

    with psycopg.connect(app_url, autocommit=True) as app:
        assert app.execute("SELECT current_user").fetchone()[0] == role
        count = app.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0]
        assert count >= 3  # the site's create and update, and the login
        refused = []
        for statement in ATTACKS:
            try:
                app.execute(statement)
            except psycopg.errors.InsufficientPrivilege:
                refused.append(statement)
        assert refused == ATTACKS
        assert app.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] == count
        app.execute("UPDATE patients_site SET name = 'Probe 3' WHERE code = 'probe'")  # clinical: allowed

    # Even the owner cannot rewrite, delete or truncate while the triggers stand.
    with psycopg.connect(owner_url, autocommit=True) as owner:
        for statement in ATTACKS[:3]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                owner.execute(statement)
