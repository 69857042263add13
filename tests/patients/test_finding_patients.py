"""Finding patients: the list's search (POSTed, never in a URL), the duplicate warning on
registration (page and API), and the API's MRN lookup — all site-scoped, in a fixed number
of queries."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from api.tokens import token_create
from audit.models import Action, AuditEvent
from patients.models import Patient
from patients.selectors import mrn_key, read_search
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client():
    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, client='tests')[1]}")
        return client
    return make


@pytest.fixture
def helen(site):
    return PatientFactory(site=site, mrn="NC-100001", given_name="Helen", family_name="Marsh",
                          date_of_birth=date(1966, 3, 14))


@pytest.fixture
def others(site, other_site):
    PatientFactory(site=site, mrn="NC-100002", given_name="Ruth", family_name="Marshall",
                   date_of_birth=date(1970, 1, 2))
    PatientFactory(site=site, mrn="NC-200001", given_name="Ann", family_name="Helm",
                   date_of_birth=date(1966, 3, 15))
    PatientFactory(site=other_site, mrn="NC-100001", given_name="Helen", family_name="Marsh",
                   date_of_birth=date(1966, 3, 14))


def search(client, q):
    response = client.post(reverse("patient-list"), {"q": q}, follow=True)
    return [(p["name"], p["mrn"]) for p in response.context["rows"]], response


HELEN = [("Marsh, Helen", "NC-100001")]


@pytest.mark.parametrize("q", [
    "100001", "NC100001", "NC-100001", "nc-100001", "NC 100001", "Marsh, Helen", "Helen Marsh",
    "marsh helen", "1966-03-14", "14 Mar 1966", "14/03/1966", "Marsh 1966-03-14",
])
def test_the_list_finds_her_however_she_is_written(client, clinic_staff, helen, others, q):
    client.force_login(clinic_staff)
    found, response = search(client, q)
    assert found == HELEN
    # The words stay out of every address: the redirect and the page's own links.
    assert all(q not in url and q.replace(" ", "+") not in url for url, _ in response.redirect_chain)
    assert q not in response.context["query"]


@pytest.mark.parametrize("q", ["100003", "Marsh, Ann", "1966-03-16", "31 Feb 1966", "NC-9"])
def test_the_list_finds_no_one_else(client, clinic_staff, helen, others, q):
    client.force_login(clinic_staff)
    assert search(client, q)[0] == []


def test_a_prefix_of_the_mrn_still_finds(client, clinic_staff, helen, others):
    client.force_login(clinic_staff)
    assert [mrn for _, mrn in search(client, "NC-1000")[0]] == ["NC-100001", "NC-100002"]


def test_the_search_survives_paging_and_a_bare_visit_clears_it(client, clinic_staff, helen, others):
    client.force_login(clinic_staff)
    _, response = search(client, "Marsh, Helen")
    url = response.redirect_chain[-1][0]
    assert "search=1" in url
    sorted_page = client.get(f"{url}&sort=-name")
    assert [r["name"] for r in sorted_page.context["rows"]] == ["Marsh, Helen"]
    assert "search=1" in sorted_page.context["sort_query"]
    assert len(client.get(reverse("patient-list")).context["rows"]) == 3
    # An old bookmark's words in the address are not searched.
    assert len(client.get(reverse("patient-list"), {"q": "Marsh"}).context["rows"]) == 3


def test_the_audit_trail_keeps_the_words_the_url_does_not(client, clinic_staff, helen):
    client.force_login(clinic_staff)
    search(client, "Marsh, Helen")
    event = AuditEvent.objects.filter(action=Action.LIST).latest("id")
    assert event.changes["query"]["q"] == ["Marsh, Helen"]
    assert "Marsh" not in event.request_path


def test_the_search_costs_the_same_whatever_is_typed(client, clinic_staff, helen, others):
    client.force_login(clinic_staff)
    counts = []
    for q in ("Marsh", "NC-100001 Helen", "Marsh, Helen 14 Mar 1966"):
        _, response = search(client, q)
        url = response.redirect_chain[-1][0]
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts


def test_reading_a_search():
    assert read_search("Marsh, Helen 14 Mar 1966").born == date(1966, 3, 14)
    assert read_search("Marsh, Helen 14 Mar 1966").words == ("Marsh", "Helen")
    assert read_search("31/02/1966").unreadable_date
    assert mrn_key("nc-100.001") == "NC100001"


# -- the duplicate warning on registration ----------------------------------------------------
REGISTRATION = {"site": "", "mrn": "NC-555", "given_name": "helen ", "family_name": "MARSH",
                "date_of_birth": "1966-03-14", "follow_up_status": "active"}


def register(client, site, **extra):
    return client.post(reverse("patient-create"), {**REGISTRATION, "site": site.pk, **extra})


def test_the_page_warns_links_and_waits_for_confirmation(client, clinic_staff, site, helen):
    client.force_login(clinic_staff)
    response = register(client, site)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Already registered?" in html and "MRN NC-100001" in html
    assert helen.get_absolute_url() in html
    assert 'type="checkbox" name="confirm_duplicate"' in html
    assert not Patient.objects.filter(mrn="NC-555").exists()
    response = register(client, site, confirm_duplicate="on")
    assert response.status_code == 302
    assert Patient.objects.filter(mrn="NC-555").exists()


@pytest.mark.parametrize(("change", "warned"), [
    ({}, True), ({"date_of_birth": "1966-03-15"}, False), ({"given_name": "Helena"}, False),
    ({"mrn": "NC-100001"}, False),  # the same MRN: the uniqueness error, not this warning
])
def test_what_counts_as_a_possible_duplicate(client, clinic_staff, site, helen, change, warned):
    client.force_login(clinic_staff)
    html = register(client, site, **change).content.decode()
    assert ("Already registered?" in html) is warned


def test_another_sites_namesake_is_no_duplicate(client, clinic_staff, site, other_site):
    PatientFactory(site=other_site, mrn="X-1", given_name="Helen", family_name="Marsh",
                   date_of_birth=date(1966, 3, 14))
    client.force_login(clinic_staff)
    assert register(client, site).status_code == 302


def test_the_api_answers_409_with_the_link_until_confirmed(api_client, clinic_staff, site, helen):
    body = {k: v for k, v in REGISTRATION.items() if k != "site"}
    response = api_client(clinic_staff).post("/api/patients/", body, format="json")
    assert response.status_code == 409
    duplicates = response.json()["duplicates"]
    assert [d["uuid"] for d in duplicates] == [str(helen.uuid)]
    assert duplicates[0]["url"].endswith(f"/api/patients/{helen.uuid}/")
    assert not Patient.objects.filter(mrn="NC-555").exists()
    response = api_client(clinic_staff).post("/api/patients/", {**body, "confirm_duplicate": True},
                                             format="json")
    assert response.status_code == 201
    assert "confirm_duplicate" not in response.json()


# -- the API's MRN lookup ---------------------------------------------------------------------
@pytest.mark.parametrize("mrn", ["NC-100001", "nc100001", "100001", " NC 100001 "])
def test_the_lookup_finds_by_mrn_in_the_body(api_client, clinic_staff, helen, others, mrn,
                                             django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = api_client(clinic_staff).post("/api/patients/lookup/", {"mrn": mrn},
                                                 format="json")
    assert response.status_code == 200, response.json()
    assert [p["uuid"] for p in response.json()] == [str(helen.uuid)]  # not the other site's


def test_the_lookup_says_404_for_an_unknown_mrn(api_client, clinic_staff, helen):
    response = api_client(clinic_staff).post("/api/patients/lookup/", {"mrn": "100009"},
                                             format="json")
    assert response.status_code == 404


def test_the_lookup_is_not_a_get(api_client, clinic_staff, helen):
    response = api_client(clinic_staff).get("/api/patients/lookup/", {"mrn": "100001"})
    assert response.status_code == 405
