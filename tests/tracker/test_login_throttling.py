"""Login throttling keys on the real client behind the trusted proxy, and limits a source
that sprays passwords over many accounts."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import Action, AuditEvent
from tests.patients.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ATTACKER, COLLEAGUE = "203.0.113.5", "198.51.100.7"


def via_proxy(ip: str) -> Client:
    """A browser behind the documented nginx: the connection is the proxy's (loopback),
    the proxy names the client in X-Real-IP."""
    return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=ip)


def login(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_an_attacker_behind_the_proxy_cannot_lock_out_a_radiologist(radiologist, settings):
    attacker = via_proxy(ATTACKER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(attacker, "radiologist", "guess")
    assert login(attacker, "radiologist", PASSWORD).status_code == 429
    # The radiologist, at another address behind the same proxy, still logs in.
    assert login(via_proxy(COLLEAGUE), "radiologist", PASSWORD).status_code == 302
    failed = AuditEvent.objects.filter(action=Action.LOGIN_FAILED).first()
    assert failed.ip == ATTACKER


def test_the_header_is_not_believed_from_anyone_but_the_proxy(radiologist, settings):
    """A client that reaches the app directly cannot escape its lockout by inventing addresses."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(Client(REMOTE_ADDR="192.0.2.9", HTTP_X_REAL_IP=f"10.0.0.{n}"), "radiologist", "guess")
    locked = login(Client(REMOTE_ADDR="192.0.2.9", HTTP_X_REAL_IP="10.9.9.9"), "radiologist", PASSWORD)
    assert locked.status_code == 429


def test_the_trusted_proxies_are_configurable(radiologist, settings):
    settings.TRUSTED_PROXIES = ["10.1.0.0/16"]
    proxied = Client(REMOTE_ADDR="10.1.2.3", HTTP_X_REAL_IP=ATTACKER)
    login(proxied, "radiologist", "guess")
    loopback = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=COLLEAGUE)
    login(loopback, "radiologist", "guess")
    assert list(AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("id")
                .values_list("ip", flat=True)) == [ATTACKER, "127.0.0.1"]


def test_password_spraying_from_one_source_is_stopped(db, settings):
    settings.LOGIN_SOURCE_FAILURE_LIMIT = 8
    victim = UserFactory(username="victim")
    sprayer = via_proxy(ATTACKER)
    for n in range(settings.LOGIN_SOURCE_FAILURE_LIMIT):  # one guess per account: no account lockout
        assert login(sprayer, f"user{n}", "Winter2026!").status_code == 200
    assert login(sprayer, victim.username, PASSWORD).status_code == 429
    # Other sources are not affected.
    assert login(via_proxy(COLLEAGUE), victim.username, PASSWORD).status_code == 302
