"""The clinical rules (patients.rules) replayed through every entry path: the clinic's
pages (a field error), the API (HTTP 400 naming the field) and the CSV import (the row
number and column). Each case is a change to one record of the same course, on one side of
an edge; a refused change writes nothing."""

import csv
import io
import re
from datetime import date

import pytest
import time_machine
from django.db import IntegrityError
from django.urls import reverse
from rest_framework.test import APIClient

from api.tokens import token_create
from core.constraints import field_error_from_integrity
from patients.models import NacCourse, Pathology, Patient, Radiotherapy, Surgery, TumourProfile
from registry.importer import import_registry
from tests.patients.factories import (
    NacCourseFactory,
    PatientFactory,
    SurgeryFactory,
    TumourProfileFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
BIRTH = "1966-05-14"
TUMOUR = {"laterality": "left", "diagnosis_date": "2014-03-03", "histology": "IDC"}
NAC = {"regimen": "AC", "start_date": "2014-04-01", "end_date": "2014-09-01"}
SURGERY = {"date": "2014-10-06", "laterality": "left", "procedure": "BCS", "axilla": "none"}
RADIOTHERAPY = {"start_date": "2014-11-10", "end_date": "2014-12-19"}

# (record, changed values, field in error or None, accepted)
CASES = [
    ("surgery", {"date": "2014-09-01"}, "date", True),  # on the NAC end
    ("surgery", {"date": "2014-08-31"}, "date", False),  # a day before it
    ("surgery", {"date": "2014-03-02"}, "date", False),  # before the diagnosis
    ("surgery", {"date": "1966-05-13"}, "date", False),  # before birth
    ("surgery", {"date": "2026-06-16"}, "date", True),  # tomorrow: the day of tolerance
    ("surgery", {"date": "2026-06-17"}, "date", False),
    ("surgery", {"date": "2027-01-01"}, "date", False),
    ("surgery", {"date": "2108-01-01"}, "date", False),
    ("nac", {"start_date": "2014-03-03"}, "start_date", True),  # on the diagnosis
    ("nac", {"start_date": "2014-03-02"}, "start_date", False),
    ("nac", {"end_date": "2014-10-06"}, "end_date", True),  # on the surgery
    ("nac", {"end_date": "2014-10-07"}, "end_date", False),
    ("radiotherapy", {"start_date": "2014-10-06"}, "start_date", True),
    ("radiotherapy", {"start_date": "2014-10-05"}, "start_date", False),
    ("radiotherapy", {"end_date": "2026-06-16"}, "end_date", True),
    ("radiotherapy", {"end_date": "2026-06-17"}, "end_date", False),
    ("radiotherapy", {"end_date": "2100-01-01"}, "end_date", False),
    ("tumour", {"diagnosis_date": "2014-04-01"}, "diagnosis_date", True),  # on the NAC start
    ("tumour", {"diagnosis_date": "2014-04-02"}, "diagnosis_date", False),
    ("tumour", {"diagnosis_date": "1966-05-14"}, "diagnosis_date", False),  # on the birth
    ("tumour", {"diagnosis_date": "1800-01-01"}, "diagnosis_date", False),
    ("tumour", {"diagnosis_date": "2100-01-01"}, "diagnosis_date", False),
    ("tumour", {"diagnosis_mammogram_date": "2026-06-16"}, "diagnosis_mammogram_date", True),
    ("tumour", {"diagnosis_mammogram_date": "2026-06-17"}, "diagnosis_mammogram_date", False),
    ("pathology", {"ypt": "ypTis", "ypn": "ypN0", "rcb_class": "0"}, "rcb_class", True),
    ("pathology", {"ypt": "ypTis", "ypn": "ypN0", "rcb_class": "III"}, "rcb_class", False),
    ("pathology", {"ypt": "ypT2", "ypn": "ypN1", "rcb_class": "0"}, "rcb_class", False),
]
IDS = [f"{record}-{'-'.join(map(str, change.values()))}-{'ok' if ok else 'refused'}"
       for record, change, _, ok in CASES]


@pytest.fixture
def api_client():
    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, client='tests')[1]}")
        return client
    return make


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(date(2026, 6, 15), tick=False):
        yield


def course(site) -> Patient:
    patient = PatientFactory(site=site, mrn="INT-1", date_of_birth=date(1966, 5, 14))
    TumourProfileFactory(patient=patient, **{k: v for k, v in TUMOUR.items()})
    NacCourseFactory(patient=patient, regimen="AC", cycles=None, agents="",
                     start_date=date(2014, 4, 1), end_date=date(2014, 9, 1))
    SurgeryFactory(patient=patient, date=date(2014, 10, 6), axilla="none", margins="")
    return patient


def snapshot(patient: Patient) -> tuple:
    """Everything a refused change must leave as it was."""
    return (
        list(TumourProfile.objects.filter(patient=patient).values_list(
            "diagnosis_date", "diagnosis_mammogram_date")),
        list(NacCourse.objects.filter(patient=patient).values_list("start_date", "end_date")),
        list(Surgery.objects.filter(patient=patient).values_list("date")),
        list(Radiotherapy.objects.filter(patient=patient).values_list("start_date", "end_date")),
        list(Pathology.objects.filter(surgery__patient=patient).values_list("ypt", "rcb_class")),
    )


# -- the clinic's pages --------------------------------------------------------------------
def page_post(client, patient: Patient, record: str, change: dict):
    uuid = patient.uuid
    if record == "tumour":
        return client.post(reverse("patient-tumour", kwargs={"uuid": uuid}), {**TUMOUR, **change})
    if record == "nac":
        pk = patient.nac_courses.get().pk
        return client.post(reverse("patient-nac-edit", kwargs={"uuid": uuid, "pk": pk}),
                           {**NAC, **change})
    if record == "radiotherapy":
        return client.post(reverse("patient-radiotherapy-add", kwargs={"uuid": uuid}),
                           {**RADIOTHERAPY, **change})
    pk = patient.surgeries.get().pk
    url = reverse("patient-surgery-edit", kwargs={"uuid": uuid, "pk": pk})
    pathology = {f"path-{k}": v for k, v in change.items()} if record == "pathology" else {}
    surgery = {**SURGERY, **(change if record == "surgery" else {})}
    return client.post(url, {**surgery, "path-pcr_definition": "ypT0is_ypN0",
                             "path-excised_calcification_histology": "not_sampled", **pathology})


@pytest.mark.parametrize(("record", "change", "field", "accepted"), CASES, ids=IDS)
def test_the_pages(client, clinic_staff, site, record, change, field, accepted):
    patient = course(site)
    client.force_login(clinic_staff)
    before = snapshot(patient)
    response = page_post(client, patient, record, change)
    if accepted:
        assert response.status_code == 302, response.context["form"].errors
        return
    assert response.status_code == 200
    form = response.context["path_form" if record == "pathology" else "form"]
    assert form.errors.get(field), form.errors
    assert 'class="field-error"' in response.content.decode()
    assert snapshot(patient) == before


# -- the API ---------------------------------------------------------------------------------
def api_body(record: str, change: dict) -> dict:
    if record == "tumour":
        return {"tumour": {**TUMOUR, **change}}
    if record == "nac":
        return {"nac_courses": [{**NAC, **change}]}
    if record == "radiotherapy":
        return {"radiotherapy": [{**RADIOTHERAPY, **change}]}
    if record == "pathology":
        return {"surgeries": [{**SURGERY, "pathology": change}]}
    return {"surgeries": [{**SURGERY, **change}]}


def api_errors_of(body: dict, record: str, field: str):
    if record == "tumour":
        return body["tumour"][field]
    key = {"nac": "nac_courses", "radiotherapy": "radiotherapy"}.get(record, "surgeries")
    row = body[key]["0"]
    return row["pathology"][field] if record == "pathology" else row[field]


@pytest.mark.parametrize(("record", "change", "field", "accepted"), CASES, ids=IDS)
def test_the_api(api_client, clinic_staff, site, record, change, field, accepted):
    patient = course(site)
    before = snapshot(patient)
    response = api_client(clinic_staff).patch(f"/api/patients/{patient.uuid}/",
                                              api_body(record, change), format="json")
    if accepted:
        assert response.status_code == 200, response.json()
        return
    assert response.status_code == 400
    assert api_errors_of(response.json(), record, field)
    assert snapshot(patient) == before


# -- the CSV import ---------------------------------------------------------------------------
COLUMNS = ["record", "site", "mrn", "given_name", "family_name", "date_of_birth",
           *TUMOUR, "diagnosis_mammogram_date", "regimen", "start_date", "end_date", "date",
           "procedure", "axilla", "ypt", "ypn", "rcb_class"]


def registry_file(record: str, change: dict) -> tuple[str, int]:
    """A new patient with her course, `change` applied; and the row it lands on."""
    key = {"site": "north", "mrn": "CSV-1"}
    rows = [
        {"record": "patient", **key, "given_name": "Ann", "family_name": "Lee",
         "date_of_birth": BIRTH},
        {"record": "tumour", **key, **TUMOUR, **(change if record == "tumour" else {})},
        {"record": "nac", **key, **NAC, **(change if record == "nac" else {})},
        {"record": "surgery", **key, **SURGERY, **(change if record in ("surgery", "pathology") else {})},
    ]
    if record == "radiotherapy":
        rows.append({"record": "radiotherapy", **key, **RADIOTHERAPY, **change})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    at = {"tumour": 3, "nac": 4, "surgery": 5, "pathology": 5, "radiotherapy": 6}[record]
    return out.getvalue(), at


@pytest.mark.parametrize(("record", "change", "field", "accepted"), CASES, ids=IDS)
def test_the_csv_import(site, record, change, field, accepted):
    text, row = registry_file(record, change)
    report = import_registry(text)
    if accepted:
        assert report.ok, report.lines()
        return
    assert not report.written and not Patient.objects.filter(mrn="CSV-1").exists()
    assert any(p.row == row and p.column == field for p in report.problems), report.lines()


def test_the_csv_import_checks_rows_against_stored_records(site):
    """A row for a patient already in the tracker is checked against her stored course."""
    patient = course(site)
    text = ("record,site,mrn,regimen,start_date,end_date\n"
            f"nac,north,{patient.mrn},T,2014-05-01,2014-10-07\n")
    report = import_registry(text)
    assert [(p.row, p.column) for p in report.problems] == [(2, "end_date")]
    assert "NAC cannot end after the surgery (6 Oct 2014)" in report.problems[0].message


# -- visits (the clinic's pages only) ---------------------------------------------------------
@pytest.mark.parametrize(("day", "accepted"), [
    ("2026-06-16", True), ("2026-06-17", False), ("2027-06-15", False),
    ("1966-05-14", True), ("1966-05-13", False),
])
def test_a_visit(client, clinic_staff, site, day, accepted):
    patient = course(site)
    client.force_login(clinic_staff)
    response = client.post(reverse("patient-visit-add", kwargs={"uuid": patient.uuid}),
                           {"date": day, "kind": "clinical_exam"})
    assert (response.status_code == 302) is accepted
    assert patient.visits.exists() is accepted
    if not accepted:
        assert response.context["form"].errors["date"]


# -- the patient herself --------------------------------------------------------------------
@pytest.mark.parametrize(("birth", "accepted"), [("2014-03-02", True), ("2014-03-03", False)])
def test_a_date_of_birth_after_the_diagnosis(api_client, clinic_staff, site, birth, accepted):
    patient = course(site)
    NacCourse.objects.all().delete()
    Surgery.objects.all().delete()
    response = api_client(clinic_staff).patch(f"/api/patients/{patient.uuid}/",
                                              {"date_of_birth": birth}, format="json")
    assert response.status_code == (200 if accepted else 400)
    if not accepted:
        assert "before the diagnosis" in response.json()["date_of_birth"][0]


# -- constraints reach people as field errors ----------------------------------------------
def test_a_constraint_violation_is_a_field_error_not_its_name(client, clinic_staff, site):
    """"Constraint “calc_extent_not_negative” is violated." was shown at the top of the form."""
    from imaging.models import CalcificationFinding
    finding = CalcificationFinding(group="L1", laterality="left", morphology="round",
                                   distribution="grouped", extent_mm=-1, count_bin="1-5",
                                   inside_tumor_bed=True)
    errors = {}
    try:
        finding.validate_constraints()
    except Exception as exc:  # noqa: BLE001 — the ValidationError's layout is the point
        errors = exc.message_dict
    assert errors == {"extent_mm": ["The extent cannot be negative."]}


@pytest.mark.parametrize("text", [
    "CHECK constraint failed: nac_end_not_before_start",
    'new row for relation "patients_naccourse" violates check constraint '
    '"nac_end_not_before_start"',
])
def test_a_database_refusal_names_the_field(text):
    error = field_error_from_integrity(IntegrityError(text))
    assert error.message_dict == {"end_date": ["NAC end date cannot be before its start date."]}


def test_an_unknown_constraint_is_not_guessed():
    assert field_error_from_integrity(IntegrityError("UNIQUE constraint failed: x.y")) is None


def input_tag(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html).group(0)


def test_number_inputs_have_their_bounds(client, clinic_staff, site):
    patient = course(site)
    client.force_login(clinic_staff)
    html = client.get(reverse("patient-tumour", kwargs={"uuid": patient.uuid})).content.decode()
    assert 'min="0"' in input_tag(html, "er_percent") and 'max="100"' in input_tag(html, "er_percent")
    html = client.get(reverse("patient-nac-add", kwargs={"uuid": patient.uuid})).content.decode()
    assert 'min="1"' in input_tag(html, "cycles") and 'max="50"' in input_tag(html, "cycles")
    pk = patient.surgeries.get().pk
    html = client.get(reverse("patient-surgery-edit", kwargs={"uuid": patient.uuid, "pk": pk})
                      ).content.decode()
    assert 'min="0"' in input_tag(html, "path-rcb_index")
    assert 'max="10"' in input_tag(html, "path-rcb_index")
