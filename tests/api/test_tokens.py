"""API tokens: hashed, expiring, revocable, one per client, listed for their owner."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from api.models import ApiToken
from api.tokens import token_create
from tests.patients.factories import PASSWORD

pytestmark = pytest.mark.django_db


def obtain(http, **data):
    return http.post("/api/auth/token/", {"username": "staff", "password": PASSWORD, **data})


def authed(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_the_endpoint_issues_a_hashed_expiring_token_for_a_client(client, clinic_staff, settings):
    response = obtain(client, client="PACS bridge")
    assert response.status_code == 201
    body = response.json()
    assert len(body["token"]) == 64 and body["client"] == "PACS bridge"
    stored = ApiToken.objects.get(user=clinic_staff)
    assert body["token"] not in (stored.digest, stored.token_key)  # only a digest is kept
    assert stored.expiry - timezone.now() > settings.REST_KNOX["TOKEN_TTL"] - timedelta(minutes=1)
    assert authed(body["token"]).get("/api/patients/").status_code == 200
    bad = client.post("/api/auth/token/", {"username": "staff", "password": "nope"})
    assert bad.status_code == 400 and "non_field_errors" in bad.json()


def test_one_token_per_client(client, clinic_staff):
    first = obtain(client, client="script").json()["token"]
    second = obtain(client, client="script").json()["token"]
    other = obtain(client, client="PACS").json()["token"]
    assert ApiToken.objects.filter(user=clinic_staff).count() == 2
    assert authed(first).get("/api/patients/").status_code == 401
    assert authed(second).get("/api/patients/").status_code == 200
    assert authed(other).get("/api/patients/").status_code == 200


def test_a_token_expires(clinic_staff, settings):
    _, token = token_create(user=clinic_staff, client="script")
    assert authed(token).get("/api/patients/").status_code == 200
    with time_machine.travel(timezone.now() + settings.REST_KNOX["TOKEN_TTL"] + timedelta(hours=1)):
        assert authed(token).get("/api/patients/").status_code == 401
    assert not ApiToken.objects.exists()


def test_logout_revokes_the_token_used(clinic_staff):
    _, token = token_create(user=clinic_staff, client="script")
    _, other = token_create(user=clinic_staff, client="PACS")
    assert authed(token).post("/api/auth/logout/").status_code == 204
    assert authed(token).get("/api/patients/").status_code == 401
    assert authed(other).get("/api/patients/").status_code == 200


def test_a_deactivated_users_token_stops_working(clinic_staff):
    _, token = token_create(user=clinic_staff, client="script")
    clinic_staff.is_active = False
    clinic_staff.save()
    assert authed(token).get("/api/patients/").status_code == 401


def test_the_owner_lists_makes_and_revokes_tokens_on_a_page(client, clinic_staff, radiologist):
    token_create(user=radiologist, client="someone else's")
    client.force_login(clinic_staff)
    url = reverse("api-tokens")
    made = client.post(url, {"client": "Nightly export"})
    page = made.content.decode()
    raw = ApiToken.objects.get(user=clinic_staff)
    assert "Nightly export" in page and raw.token_key in page
    assert "someone else" not in page
    shown = page.split('<code class="token">')[1].split("</code>")[0]
    assert len(shown) == 64 and authed(shown).get("/api/patients/").status_code == 200
    listing = client.get(url).content.decode()
    assert shown not in listing and raw.token_key in listing  # never shown again
    client.post(url, {"revoke": raw.token_key})
    assert not ApiToken.objects.filter(user=clinic_staff).exists()
    assert authed(shown).get("/api/patients/").status_code == 401


def test_two_factor_users_need_a_code_for_a_token(client, radiologist, settings):
    settings.TWO_FACTOR_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no wait after the wrong code
    device = TOTPDevice.objects.create(user=radiologist, name="phone", confirmed=True)
    data = {"username": "radiologist", "password": PASSWORD}
    refused = client.post("/api/auth/token/", data)
    assert refused.status_code == 400 and "otp_token" in refused.json()
    wrong = client.post("/api/auth/token/", {**data, "otp_token": "000000"})
    assert wrong.status_code == 400
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert client.post("/api/auth/token/", {**data, "otp_token": code}).status_code == 201
