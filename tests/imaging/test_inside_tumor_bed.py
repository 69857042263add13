"""Whether a calcification group lies in the tumour bed decides a new group's severity
(high outside, medium inside: calc_new_group), so it is an explicit answer everywhere: no
default on the page, in the API or in the CSV import."""

import re
from datetime import date

import pytest
from django.urls import reverse

from imaging.models import CalcificationFinding, ImagingStudy
from registry.importer import import_registry
from tests.imaging.test_views import create_url, mammogram_post
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(site):
    return PatientFactory(site=site, date_of_birth=date(1966, 5, 14))


def test_the_model_has_no_default():
    assert not CalcificationFinding._meta.get_field("inside_tumor_bed").has_default()


def test_a_new_row_offers_no_answer(client, clinic_staff, patient):
    client.force_login(clinic_staff)
    html = client.get(create_url(patient)).content.decode()
    select = re.search(r'<select name="calc-0-inside_tumor_bed"[^>]*>.*?</select>', html, re.S).group(0)
    assert "selected" not in select.replace('value="" selected', "")  # "Choose…" only
    assert 'type="checkbox" name="calc-0-inside_tumor_bed"' not in html


@pytest.mark.parametrize(("answer", "stored"), [("", None), ("True", True), ("False", False)])
def test_the_page_requires_an_answer(client, clinic_staff, patient, answer, stored):
    client.force_login(clinic_staff)
    response = client.post(create_url(patient), mammogram_post({"group": "L1",
                                                                "inside_tumor_bed": answer}))
    if stored is None:
        assert response.status_code == 200
        assert response.context["calcs"].forms[0].errors["inside_tumor_bed"] == [
            "Say whether the group is inside the tumour bed."]
        assert not ImagingStudy.objects.exists()
    else:
        assert response.status_code == 302
        assert CalcificationFinding.objects.get().inside_tumor_bed is stored


def test_an_existing_answer_is_shown_when_editing(client, clinic_staff, patient):
    from tests.imaging.factories import CalcificationFindingFactory, ImagingStudyFactory
    study = ImagingStudyFactory(patient=patient, modality="MG", status="draft", signed_by=None,
                                signed_at=None)
    CalcificationFindingFactory(study=study, inside_tumor_bed=False)
    client.force_login(clinic_staff)
    html = client.get(reverse("study-edit", kwargs={"uuid": study.uuid})).content.decode()
    select = re.search(r'<select name="calc-0-inside_tumor_bed"[^>]*>.*?</select>', html, re.S).group(0)
    assert '<option value="False" selected>' in select


def test_the_api_requires_an_answer(client, clinic_staff, patient):
    from rest_framework.test import APIClient

    from api.tokens import token_create
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=clinic_staff, client='t')[1]}")
    body = {"patient": str(patient.uuid), "study_date": "2021-03-04", "modality": "MG",
            "calcifications": [{"group": "L1", "laterality": "left", "morphology": "round",
                                "distribution": "grouped", "extent_mm": 4, "count_bin": "1-5"}]}
    response = api.post("/api/studies/", body, format="json")
    assert response.status_code == 400
    assert response.json()["calcifications"]["0"]["inside_tumor_bed"] == ["This field is required."]
    body["calcifications"][0]["inside_tumor_bed"] = False
    assert api.post("/api/studies/", body, format="json").status_code == 201


def test_the_import_requires_an_answer(site):
    text = ("record,site,mrn,given_name,family_name,date_of_birth,accession,study_date,modality,"
            "group,laterality,morphology,distribution,extent_mm,count_bin,inside_tumor_bed\n"
            "patient,north,T-1,Ann,Lee,1966-05-14,,,,,,,,,,\n"
            "study,north,T-1,,,,S1,2021-03-04,MG,,,,,,,\n"
            "calcification,north,T-1,,,,S1,,,L1,left,round,grouped,4,1-5,\n"
            "calcification,north,T-1,,,,S1,,,L2,left,round,grouped,4,1-5,no\n")
    report = import_registry(text)
    assert [(p.row, p.column, p.message) for p in report.problems] == [
        (4, "inside_tumor_bed", "Required on a calcification row.")]
    assert not report.written
