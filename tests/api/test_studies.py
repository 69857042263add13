import pytest

from imaging.models import ImagingStudy
from outbox.models import Event
from tests.imaging.factories import (
    CalcificationFindingFactory,
    EnhancementFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import PatientFactory

URL = "/api/studies/"


@pytest.fixture
def patient(site):
    return PatientFactory(site=site)


def mammogram(patient, **overrides) -> dict:
    return {
        "patient": str(patient.uuid), "study_date": "2016-06-20", "modality": "MG",
        "phase": "surveillance", "laterality": "bilateral", "birads": "2",
        "breast_composition": "c", "accession": "A-1",
        "calcifications": [
            {"group": "L1", "laterality": "left", "morphology": "fine_pleomorphic",
             "distribution": "segmental", "extent_mm": "36.5", "count": 25,
             "quadrant": "UOQ", "clock": 2, "observed_change": "stable", "inside_tumor_bed": True},
            {"group": "R1", "laterality": "right", "morphology": "round",
             "distribution": "diffuse", "extent_mm": 4, "count_bin": "1-5",
             "inside_tumor_bed": False},
        ],
        **overrides,
    }


def test_create_study_with_findings_in_one_request(api_client, clinic_staff, patient):
    response = api_client(clinic_staff).post(URL, mammogram(patient), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["patient"] == str(patient.uuid)
    assert [c["group"] for c in body["calcifications"]] == ["L1", "R1"]
    assert body["calcifications"][0]["count_bin"] == ">20"  # derived from count
    study = ImagingStudy.objects.get(uuid=body["uuid"])
    assert study.created_by == clinic_staff and study.calcifications.count() == 2


def test_bad_birads_is_400_naming_the_field_and_allowed_values(api_client, clinic_staff, patient):
    response = api_client(clinic_staff).post(URL, mammogram(patient, birads="7"), format="json")
    assert response.status_code == 400
    message = response.json()["birads"][0]
    assert '"7" is not a valid choice' in message
    assert all(f'"{v}"' in message for v in ("0", "3", "4A", "4C", "6"))
    assert not ImagingStudy.objects.exists()


def test_finding_row_errors_are_reported_per_row(api_client, clinic_staff, patient):
    data = mammogram(patient)
    data["calcifications"][1]["count"] = 12  # bin says 1-5
    data["calcifications"].append({"group": "R2", "laterality": "right", "morphology": "rim",
                                   "distribution": "grouped", "extent_mm": 3,
                                   "count_bin": "1-5", "clock": 13, "inside_tumor_bed": False})
    response = api_client(clinic_staff).post(URL, data, format="json")
    assert response.status_code == 400
    errors = response.json()["calcifications"]
    assert list(errors) == ["2"] and "clock" in errors["2"]
    data["calcifications"].pop()
    response = api_client(clinic_staff).post(URL, data, format="json")
    assert response.status_code == 400
    errors = response.json()["calcifications"]
    assert list(errors) == ["1"] and "belongs in bin 11-20" in errors["1"]["count_bin"][0]


def test_study_rules_are_non_field_errors(api_client, clinic_staff, patient):
    data = mammogram(patient, enhancements=[{"lesion": "E1", "laterality": "left",
                                             "lesion_type": "focus"}])
    response = api_client(clinic_staff).post(URL, data, format="json")
    assert response.status_code == 400
    assert "Enhancement findings belong on MRI studies." in response.json()["non_field_errors"]


def test_future_date_and_model_rules_are_400(api_client, clinic_staff, patient):
    response = api_client(clinic_staff).post(
        URL, mammogram(patient, study_date="2999-01-01"), format="json")
    assert response.status_code == 400 and "study_date" in response.json()
    response = api_client(clinic_staff).post(
        URL, mammogram(patient, modality="MR", calcifications=[], bpe="mild"), format="json")
    assert response.status_code == 400 and "breast_composition" in response.json()


def test_duplicate_accession_is_400(api_client, clinic_staff, patient):
    ImagingStudyFactory(patient=patient, accession="A-1")
    response = api_client(clinic_staff).post(URL, mammogram(patient), format="json")
    assert response.status_code == 400


def test_another_sites_patient_cannot_get_a_study(api_client, outsider, patient):
    response = api_client(outsider).post(URL, mammogram(patient), format="json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["patient"][0]


def test_coordinator_cannot_draft(api_client, coordinator, patient):
    assert api_client(coordinator).post(URL, mammogram(patient), format="json").status_code == 403


def test_radiologist_drafts_updates_and_signs(api_client, radiologist, patient):
    client = api_client(radiologist)
    uuid = client.post(URL, mammogram(patient), format="json").json()["uuid"]
    response = client.patch(f"{URL}{uuid}/", {"birads": "3"}, format="json")
    assert response.status_code == 200
    assert response.json()["birads"] == "3"
    assert len(response.json()["calcifications"]) == 2  # left out: kept
    response = client.post(f"{URL}{uuid}/sign/")
    assert response.status_code == 200
    assert response.json()["status"] == "final"
    assert response.json()["signed_by"] == "radiologist"
    study_id = ImagingStudy.objects.get(uuid=uuid).id
    assert Event.objects.filter(object_id=study_id, kind="study_finalized").count() == 1
    response = client.patch(f"{URL}{uuid}/", {"birads": "4"}, format="json")
    assert response.status_code == 409


def test_only_radiologists_sign_and_amend(api_client, clinic_staff, patient):
    study = ImagingStudyFactory(patient=patient)
    client = api_client(clinic_staff)
    assert client.post(f"{URL}{study.uuid}/sign/").status_code == 403
    final = ImagingStudyFactory(patient=patient, final=True, study_date="2017-01-01")
    response = client.post(f"{URL}{final.uuid}/amend/", {"reason": "typo", "birads": "3"},
                           format="json")
    assert response.status_code == 403


def test_amend_needs_a_reason_and_records_changes(api_client, radiologist, patient):
    study = ImagingStudyFactory(patient=patient, final=True)
    CalcificationFindingFactory(study=study, group="L1", extent_mm=30)
    client = api_client(radiologist)
    response = client.post(f"{URL}{study.uuid}/amend/", {"birads": "3"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = client.post(f"{URL}{study.uuid}/amend/", {"reason": "  ", "birads": "3"},
                           format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = client.post(f"{URL}{study.uuid}/amend/",
                           {"reason": "Misread category", "birads": "3"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["changes"]["birads"] == {"before": "2", "after": "3"}
    study.refresh_from_db()
    assert study.birads == "3" and study.calcifications.count() == 1
    same = client.post(f"{URL}{study.uuid}/amend/", {"reason": "again", "birads": "3"},
                       format="json")
    assert same.status_code == 204


def test_amend_a_draft_is_409(api_client, radiologist, patient):
    study = ImagingStudyFactory(patient=patient)
    response = api_client(radiologist).post(f"{URL}{study.uuid}/amend/", {"reason": "x"},
                                            format="json")
    assert response.status_code == 409


def test_other_sites_studies_are_404(api_client, outsider, patient):
    study = ImagingStudyFactory(patient=patient)
    client = api_client(outsider)
    assert client.get(f"{URL}{study.uuid}/").status_code == 404
    assert client.post(f"{URL}{study.uuid}/sign/").status_code == 404
    assert client.get(URL).json()["count"] == 0


def test_filters(api_client, coordinator, patient, site):
    mg = ImagingStudyFactory(patient=patient, modality="MG")
    mr = ImagingStudyFactory(patient=patient, modality="MR", birads="", study_date="2017-02-01",
                             final=True)
    ImagingStudyFactory(patient=PatientFactory(site=site))
    client = api_client(coordinator)
    uuids = lambda q: {s["uuid"] for s in client.get(URL + q).json()["results"]}  # noqa: E731
    assert uuids(f"?patient={patient.uuid}") == {str(mg.uuid), str(mr.uuid)}
    assert uuids(f"?patient={patient.uuid}&modality=MR") == {str(mr.uuid)}
    assert uuids("?status=final") == {str(mr.uuid)}
    assert uuids("?date_after=2017-01-01") == {str(mr.uuid)}
    assert client.get(URL + "?patient=not-a-uuid").status_code == 400


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_is_constant(api_client, coordinator, patient, rows,
                                      django_assert_max_num_queries):
    for i in range(rows):
        study = ImagingStudyFactory(patient=patient, accession=f"Q{i}")
        CalcificationFindingFactory(study=study)
        EnhancementFindingFactory(study=ImagingStudyFactory(patient=patient, modality="MR",
                                                            birads=""))
    client = api_client(coordinator)
    with django_assert_max_num_queries(10):
        response = client.get(URL + "?page_size=100")
    assert response.json()["count"] == rows * 2
