"""Every URL pattern × every role (and anonymous, and a user of another site) gives the
status docs/permissions.md says. A URL without a row in that table fails this test."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.patients.factories import UserFactory

from .matrix import missing_rows, read_matrix, request, routes, url_kwargs
from .world import COLUMNS, build_world

pytestmark = pytest.mark.django_db


def test_every_url_pattern_has_a_matrix_row():
    problems = missing_rows(read_matrix())
    assert not problems, "\n".join(problems)


def test_a_new_url_without_a_row_fails_naming_it(settings):
    settings.ROOT_URLCONF = "tests.tracker.urls_with_extra"
    problems = missing_rows(read_matrix())
    assert problems == [
        "URL pattern 'unnamed/' has no name, so the permission matrix cannot list it",
        "URL 'brand-new' (brand-new/<uuid:uuid>/) GET: no row in docs/permissions.md",
    ]


def _login(client: Client, user) -> str | None:
    if user is None:
        return None
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.mark.parametrize("column", COLUMNS)
def test_matrix(column):
    world = build_world()
    matrix = read_matrix()
    found, _ = routes()
    client = Client()
    session = _login(client, world.users.get(column))
    mismatches = []
    for (name, method), expected in sorted(matrix.items()):
        route = found.get(name)
        if route is None:
            continue  # reported by test_every_url_pattern_has_a_matrix_row
        url = reverse(name, kwargs=url_kwargs(world, name, route.route))
        if session is not None:  # a logout (or a lockout) in one cell must not leak into the next
            client.cookies[settings.SESSION_COOKIE_NAME] = session
        else:
            client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
        response = request(client, method, url, api=name.startswith("api-"))
        if response.status_code != expected[column]:
            mismatches.append(f"{method} {url} ({name}) as {column}: got {response.status_code}, "
                              f"matrix says {expected[column]}")
    assert not mismatches, "\n".join(mismatches)


def test_other_site_never_sees_the_patient():
    """The 200s of the other-site column are lists and feeds: none holds the patient."""
    world = build_world()
    client = Client()
    client.force_login(world.users["other_site"])
    for name in ("dashboard", "patient-list", "alert-inbox", "worklist", "api-patient-list",
                 "api-study-list", "api-alert-list", "cohort", "cohort-export"):
        response = client.get(reverse(name))
        body = response.content.decode()
        assert world.patient.mrn not in body, name
        assert str(world.patient.uuid) not in body, name


def test_django_admin():
    world = build_world()
    index = reverse("admin:index")
    anonymous = Client().get(index)
    assert anonymous.status_code == 302 and reverse("admin:login") in anonymous["Location"]
    for column in ("clinic_staff", "radiologist", "coordinator", "other_site"):
        client = Client()
        client.force_login(world.users[column])
        response = client.get(index)
        assert response.status_code == 302, column
        assert reverse("admin:login") in response["Location"], column
    client = Client()
    client.force_login(world.users["admin"])
    assert client.get(index).status_code == 200
    nobody = UserFactory(username="nobody")  # no role: the "no role" page
    client = Client()
    client.force_login(nobody)
    assert client.get(index).status_code == 403


@pytest.mark.parametrize(("column", "shown", "hidden"), [
    ("clinic_staff", ["study-create", "patient-edit", "patient-visit-add"], []),
    ("radiologist", ["study-create", "patient-visit-add"], ["patient-edit"]),
    ("coordinator", ["patient-visit-add"], ["study-create", "patient-edit"]),
    ("admin", ["study-create", "patient-edit", "patient-visit-add"], []),
])
def test_timeline_offers_only_what_the_role_may_do(column, shown, hidden):
    """The buttons follow the matrix: no button leading to a 403."""
    world = build_world()
    client = Client()
    client.force_login(world.users[column])
    html = client.get(world.patient.get_absolute_url()).content.decode()
    for name in shown:
        assert reverse(name, kwargs={"uuid": world.patient.uuid}) in html, (column, name)
    for name in hidden:
        assert reverse(name, kwargs={"uuid": world.patient.uuid}) not in html, (column, name)
