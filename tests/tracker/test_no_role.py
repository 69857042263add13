"""No role, no data: a user with a site but no role sees a message and nothing else, on
every URL of the project; a deactivated user's calendar feed stops working."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.roles import NO_ROLE_MESSAGE
from patients.access import patients_for, sites_for
from tests.patients.factories import UserFactory

from .matrix import read_matrix, request, routes, url_kwargs
from .world import build_world

pytestmark = pytest.mark.django_db
OPEN_TO_ALL = {"login", "logout", "api-token", "worklist-calendar-feed", "two-factor"}


def test_a_user_without_a_role_sees_nothing_but_a_message_on_every_url():
    world = build_world()
    roleless = UserFactory(username="roleless")
    world.site.members.add(roleless)
    assert not patients_for(roleless).exists() and not sites_for(roleless).exists()
    found, _ = routes()
    client = Client()
    client.force_login(roleless)
    seen = []
    for (name, method), _expected in sorted(read_matrix().items()):
        if name in OPEN_TO_ALL:
            continue
        route = found[name]
        url = reverse(name, kwargs=url_kwargs(world, name, route.route))
        response = request(client, method, url, api=name.startswith("api-"))
        body = response.content.decode(errors="replace")
        assert response.status_code in (403, 405), f"{method} {url}: {response.status_code}"
        assert world.patient.mrn not in body and world.patient.family_name not in body, url
        if response.status_code == 403:
            seen.append(name)
            assert NO_ROLE_MESSAGE.split(",")[0] in body.replace("&#x27;", "'"), url
    assert "patient-timeline" in seen and "api-patient-list" in seen


def test_the_api_refuses_a_token_user_without_a_role(site):
    roleless = UserFactory(username="roleless")
    site.members.add(roleless)
    client = APIClient()
    client.force_authenticate(roleless)
    response = client.get("/api/patients/")
    assert response.status_code == 403
    assert response.json()["detail"] == NO_ROLE_MESSAGE


def test_a_deactivated_users_calendar_feed_stops_working():
    world = build_world()
    url = reverse("worklist-calendar-feed", kwargs={"token": world.objects["calendar_token"]})
    assert Client().get(url).status_code == 200
    coordinator = world.users["coordinator"]
    coordinator.is_active = False
    coordinator.save()
    assert Client().get(url).status_code == 404
