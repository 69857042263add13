import os
import secrets
import subprocess
import sys
import time
from importlib import import_module
from pathlib import Path

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from tests.patients.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(settings):
    # The suite hashes with MD5 (tests/conftest.py): put back the configured hashers.
    settings.PASSWORD_HASHERS = import_module(os.environ["DJANGO_SETTINGS_MODULE"]).PASSWORD_HASHERS
    user = UserFactory(username="hashed")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(PASSWORD)


def test_repeated_failed_logins_lock_the_account(client, clinic_staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "staff", "password": "nope"})
    locked = client.post(reverse("login"), {"username": "staff", "password": PASSWORD})
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert "_auth_user_id" not in client.session


def test_login_page_has_csrf_and_a_strict_content_security_policy(client):
    response = client.get(reverse("login"))
    assert b"csrfmiddlewaretoken" in response.content
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_idle_session_times_out(client, clinic_staff, settings):
    client.force_login(clinic_staff)
    session = client.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 5
    session.save()
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert "_auth_user_id" not in client.session


def test_check_deploy_passes_with_production_values(tmp_path):
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; a deployment never does.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"} | {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "tracker.example.org",
        "SECURE_SSL_REDIRECT": "true",
        "SESSION_COOKIE_SECURE": "true",
        "CSRF_COOKIE_SECURE": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_responses_with_patient_data_are_never_stored(client, radiologist, site):
    from rest_framework.test import APIClient

    from tests.patients.factories import PatientFactory

    patient = PatientFactory(site=site)
    client.force_login(radiologist)
    api = APIClient()
    api.force_authenticate(radiologist)
    responses = {
        "page": client.get(patient.get_absolute_url()),
        "list": client.get(reverse("patient-list")),
        "api": api.get(f"/api/patients/{patient.uuid}/"),
        "fhir": api.get(f"/api/patients/{patient.uuid}/fhir/"),
        "csv": api.get("/api/patients/export.csv/"),
        "cohort csv": client.get("/cohort/export.csv"),
    }
    for what, response in responses.items():
        assert response.status_code == 200, what
        assert "no-store" in response["Cache-Control"], what


def _django(env: dict, *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY", "SECRET_KEY_FILE", "DEBUG")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=base | env,
                          capture_output=True, text=True, timeout=120)


def test_refuses_to_start_without_a_secret_key_unless_debug():
    refused = _django({"DEBUG": "false"}, "check")
    assert refused.returncode != 0
    assert "Set SECRET_KEY or SECRET_KEY_FILE" in refused.stderr
    assert _django({"DEBUG": "true"}, "check").returncode == 0
    assert _django({"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50)}, "check").returncode == 0


@pytest.mark.parametrize(("password", "accepted"), [
    ("short-pw-1", False),            # 10 characters
    ("password1234", False),          # common
    ("123456789012345", False),       # numeric
    ("quiet-harbour-lamp", True),
])
def test_password_validators(password, accepted):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password)
    except ValidationError:
        assert not accepted
    else:
        assert accepted
