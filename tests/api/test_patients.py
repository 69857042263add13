import pytest

from patients.models import Patient
from tests.patients.factories import (
    NacCourseFactory,
    PathologyFactory,
    PatientFactory,
    SurgeryFactory,
    TumourProfileFactory,
)

URL = "/api/patients/"

NEW_PATIENT = {
    "mrn": "N-100",
    "given_name": "Maria",
    "family_name": "Example",
    "date_of_birth": "1966-05-14",
    "tumour": {"laterality": "left", "diagnosis_date": "2014-03-03", "histology": "IDC",
               "grade": 3, "er_percent": 50, "pr_percent": 0, "her2_ihc": "3+"},
    "nac_courses": [
        {"regimen": "AC", "cycles": 4, "start_date": "2014-04-01", "end_date": "2014-06-03"},
        {"regimen": "paclitaxel + trastuzumab", "start_date": "2014-06-17"},
    ],
    "radiotherapy": [{"start_date": "2014-11-10", "end_date": "2014-12-19"}],
    "surgeries": [{"date": "2014-10-06", "laterality": "left", "procedure": "BCS",
                   "axilla": "ALND", "pathology": {"ypt": "ypT0", "ypn": "ypN0"}}],
}


def full_patient(site, **kwargs):
    patient = PatientFactory(site=site, **kwargs)
    TumourProfileFactory(patient=patient)
    NacCourseFactory(patient=patient)
    PathologyFactory(surgery=SurgeryFactory(patient=patient))
    return patient


def test_clinic_staff_creates_a_patient_with_nested_history(api_client, clinic_staff, site):
    response = api_client(clinic_staff).post(URL, NEW_PATIENT, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["site"] == "north"
    assert body["tumour"]["subtype"] == "HR+/HER2+"
    assert [c["regimen"] for c in body["nac_courses"]] == ["AC", "paclitaxel + trastuzumab"]
    assert body["surgeries"][0]["pathology"]["pcr"] is True
    patient = Patient.objects.get(uuid=body["uuid"])
    assert patient.site == site and patient.nac_courses.count() == 2


def test_create_is_all_or_nothing_with_per_row_errors(api_client, clinic_staff, site):
    data = {**NEW_PATIENT, "nac_courses": [
        NEW_PATIENT["nac_courses"][0],
        {"regimen": "T", "start_date": "2014-06-17", "end_date": "2014-01-01"},
    ]}
    response = api_client(clinic_staff).post(URL, data, format="json")
    assert response.status_code == 400
    errors = response.json()["nac_courses"]
    assert list(errors) == ["1"] and "end_date" in errors["1"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("field,value,fragment", [
    ("date_of_birth", "yesterday", "Date has wrong format"),
    ("follow_up_status", "missing", '"missing" is not a valid choice. Allowed values: "active"'),
    ("lifetime_risk_percent", "250", "less than or equal to 100"),
])
def test_invalid_fields_are_400_with_the_field_named(api_client, clinic_staff, site, field,
                                                     value, fragment):
    response = api_client(clinic_staff).post(URL, {**NEW_PATIENT, field: value}, format="json")
    assert response.status_code == 400
    assert fragment in " ".join(response.json()[field])


def test_nested_choice_error_names_allowed_values(api_client, clinic_staff, site):
    data = {**NEW_PATIENT, "tumour": {**NEW_PATIENT["tumour"], "her2_ihc": "4+"}}
    response = api_client(clinic_staff).post(URL, data, format="json")
    assert response.status_code == 400
    assert '"3+"' in response.json()["tumour"]["her2_ihc"][0]


def test_duplicate_mrn_at_the_site_is_400(api_client, clinic_staff, site):
    PatientFactory(site=site, mrn="N-100")
    response = api_client(clinic_staff).post(URL, NEW_PATIENT, format="json")
    assert response.status_code == 400
    assert "MRN already exists" in response.json()["non_field_errors"][0]


def test_site_must_be_one_of_the_users_sites(api_client, clinic_staff, site, other_site):
    response = api_client(clinic_staff).post(URL, {**NEW_PATIENT, "site": "south"}, format="json")
    assert response.status_code == 400 and "site" in response.json()


@pytest.mark.parametrize("persona", ["coordinator", "radiologist"])
def test_only_clinic_staff_and_admins_write_patients(api_client, request, persona, site):
    user = request.getfixturevalue(persona)
    assert api_client(user).post(URL, NEW_PATIENT, format="json").status_code == 403
    patient = PatientFactory(site=site)
    response = api_client(user).patch(f"{URL}{patient.uuid}/", {"notes": "x"}, format="json")
    assert response.status_code == 403


def test_patch_updates_fields_and_replaces_given_lists_only(api_client, clinic_staff, site):
    patient = full_patient(site)
    response = api_client(clinic_staff).patch(
        f"{URL}{patient.uuid}/",
        {"follow_up_status": "completed",
         "radiotherapy": [{"start_date": "2014-11-10", "end_date": "2014-12-19"}]},
        format="json")
    assert response.status_code == 200, response.json()
    patient.refresh_from_db()
    assert patient.follow_up_status == "completed"
    assert patient.radiotherapy.count() == 1
    assert patient.nac_courses.count() == 1  # not in the request: kept


def test_coordinator_reads_and_other_sites_are_404(api_client, coordinator, outsider, site):
    patient = full_patient(site)
    assert api_client(coordinator).get(f"{URL}{patient.uuid}/").status_code == 200
    assert api_client(outsider).get(f"{URL}{patient.uuid}/").status_code == 404
    assert api_client(outsider).patch(f"{URL}{patient.uuid}/", {}, format="json").status_code in (
        403, 404)
    assert api_client(outsider).get(URL).json()["count"] == 0


def test_unauthenticated_requests_get_401_not_a_login_redirect(api_client, site):
    response = api_client().get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_session_authentication_works_too(client, coordinator, site):
    from tests.patients.factories import PASSWORD

    full_patient(site)
    client.login(username=coordinator.username, password=PASSWORD)
    assert client.get(URL).json()["count"] == 1


def test_list_filters(api_client, coordinator, site):
    a = full_patient(site)
    b = PatientFactory(site=site, follow_up_status="completed")
    TumourProfileFactory(patient=b, er_percent=0, pr_percent=0, her2_ihc="0")
    client = api_client(coordinator)
    uuids = lambda q: {p["uuid"] for p in client.get(URL + q).json()["results"]}  # noqa: E731
    assert uuids("?subtype=triple_negative") == {str(b.uuid)}
    assert uuids("?follow_up_status=active") == {str(a.uuid)}
    assert uuids("?pcr=true") == {str(a.uuid)}
    assert client.get(URL + "?subtype=purple").status_code == 400


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_is_constant(api_client, coordinator, site, rows,
                                      django_assert_max_num_queries):
    for _ in range(rows):
        full_patient(site)
    client = api_client(coordinator)
    with django_assert_max_num_queries(9):
        response = client.get(URL + "?page_size=50")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("patients", [2, 12])
def test_list_reads_nested_rows_in_a_fixed_number_of_queries(api_client, clinic_staff, site, patients,
                                                             django_assert_max_num_queries):
    """The nested rows come from the prefetched lists (`PrefetchedListSerializer`)."""
    made = []
    for n in range(patients):
        patient = PatientFactory(site=site, family_name=f"P{n:02d}")
        NacCourseFactory(patient=patient, regimen=f"AC-{n}")
        PathologyFactory(surgery=SurgeryFactory(patient=patient), ypt="ypT0", ypn="ypN0")
        made.append(patient)
    client = api_client(clinic_staff)
    with django_assert_max_num_queries(8):  # with the audit trail's record of the read
        body = client.get(URL, {"page_size": 50}).json()
    rows = {row["uuid"]: row for row in body["results"]}
    for n, patient in enumerate(made):
        row = rows[str(patient.uuid)]
        assert [c["regimen"] for c in row["nac_courses"]] == [f"AC-{n}"]
        assert row["surgeries"][0]["pathology"]["pcr"] is True and row["radiotherapy"] == []
    detail = client.get(f"{URL}{made[0].uuid}/").json()
    assert detail["nac_courses"] == rows[str(made[0].uuid)]["nac_courses"]
