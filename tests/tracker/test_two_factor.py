"""Two-factor authentication: radiologists and administrators give a code from an
authenticator app after their password when the policy is on; others may enrol."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.patients.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def policy(settings):
    settings.TWO_FACTOR_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def login(client: Client, username: str):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def test_a_radiologist_enrols_then_reaches_the_pages(client, radiologist, site):
    login(client, "radiologist")
    response = client.get(reverse("patient-list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor"))
    page = client.get(response["Location"]).content.decode()
    assert "<svg" in page and "Turn on" in page  # the QR code to scan
    secret = re.search(r"<code>([A-Z2-7=]+)</code>", page).group(1)
    device = TOTPDevice.objects.get(user=radiologist, confirmed=False)
    assert secret.rstrip("=")
    wrong = client.post(reverse("two-factor"), {"code": "123456", "next": "/patients/"})
    assert "not right" in wrong.content.decode()
    done = client.post(reverse("two-factor"), {"code": code(device), "next": "/patients/"})
    assert done.status_code == 302 and done["Location"] == "/patients/"
    assert client.get(reverse("patient-list")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_an_enrolled_admin_gives_a_code_at_each_login(client, site_admin):
    device = TOTPDevice.objects.create(user=site_admin, name="phone", confirmed=True)
    login(client, "siteadmin")
    assert client.get("/admin/").status_code == 302
    assert client.get(reverse("api-tokens"), HTTP_ACCEPT="text/html").status_code == 302
    assert client.get("/api/patients/").status_code == 403  # the API by session, too
    page = client.get(reverse("two-factor")).content.decode()
    assert "<svg" not in page and "Verify" in page  # no new QR code: the key stays secret
    client.post(reverse("two-factor"), {"code": code(device)})
    assert client.get("/admin/").status_code == 200


def test_clinic_staff_and_coordinators_need_no_second_factor(client, clinic_staff, coordinator):
    login(client, "staff")
    assert client.get(reverse("patient-list")).status_code == 200


def test_a_user_who_enrols_of_their_own_accord_is_asked_too(client, coordinator):
    device = TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True)
    login(client, "coordinator")
    assert client.get(reverse("worklist")).status_code == 302
    client.post(reverse("two-factor"), {"code": code(device)})
    assert client.get(reverse("worklist")).status_code == 200


def test_the_policy_is_on_unless_debug(settings):
    import subprocess
    import sys

    from tests.tracker.test_security import ROOT

    script = "from django.conf import settings; print(settings.TWO_FACTOR_REQUIRED)"
    for debug, expected in (("false", "True"), ("true", "False")):
        env = {"PATH": "/usr/bin:/bin", "DEBUG": debug, "SECRET_KEY": "x" * 50,
               "DJANGO_SETTINGS_MODULE": "tracker.settings"}
        out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + script],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert out.stdout.strip() == expected, out.stderr
