"""The FHIR export parses with the `fhir.resources` R4B models (R4B keeps R4's Patient,
Condition, ImagingStudy, DiagnosticReport, Observation and CarePlan) and carries the
codes of docs/api.md, "FHIR R4 export"."""

from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from fhir.resources.R4B.bundle import Bundle

from api.fhir import codes as c
from api.fhir.bundle import patient_bundle
from api.fhir.careplan import PlannedExam
from patients.models import Patient
from registry.importer import import_registry
from tests.api.helpers import scheduled
from tests.imaging.factories import (
    CalcificationFindingFactory,
    EnhancementFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import PatientFactory, SiteFactory, TumourProfileFactory, example_signers

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "registry-example.csv"


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def codes_of(concept: dict) -> set[tuple[str, str]]:
    return {(x["system"], x["code"]) for x in concept.get("coding", [])}


@pytest.fixture
def case_patient(site):
    patient = PatientFactory(site=site)
    TumourProfileFactory(patient=patient, laterality="left")
    mg = ImagingStudyFactory(patient=patient, final=True, birads="4A", accession="ACC-9",
                             breast_composition="c", phase="surveillance")
    CalcificationFindingFactory(study=mg, group="L1", count=25, quadrant="UOQ", clock=2,
                                depth="middle", observed_change="increase_size")
    pre = ImagingStudyFactory(patient=patient, final=True, phase="post_nac", laterality="left",
                              study_date=date(2014, 9, 15))
    CalcificationFindingFactory(study=pre, group="L1")
    mr = ImagingStudyFactory(patient=patient, modality="MR", birads="3", laterality="bilateral",
                             study_date=date(2016, 2, 1))
    EnhancementFindingFactory(study=mr, lesion="E1", size_mm=12, kinetics_delayed="washout")
    ImagingStudyFactory(patient=patient, modality="MR", birads="1", no_enhancement=True,
                        final=True, study_date=date(2017, 2, 1))
    return patient


def test_bundle_parses_as_fhir_and_links_resolve(case_patient):
    bundle = patient_bundle(case_patient)
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    for entry in bundle["entry"]:
        res = entry["resource"]
        for ref in [res.get("subject", {}), *res.get("result", []),
                    *res.get("imagingStudy", []), *res.get("derivedFrom", [])]:
            if "reference" in ref:
                assert ref["reference"] in full_urls


def test_patient_and_condition(case_patient):
    bundle = patient_bundle(case_patient)
    (patient,) = resources(bundle, "Patient")
    assert patient["id"] == str(case_patient.uuid)
    assert patient["identifier"][0]["value"] == case_patient.mrn
    (condition,) = resources(bundle, "Condition")
    assert codes_of(condition["bodySite"][0]) == {(c.SNOMED, "80248007")}
    assert (c.SNOMED, "254837009") in codes_of(condition["code"])


def test_imaging_studies_and_reports_carry_design_codes(case_patient):
    bundle = patient_bundle(case_patient)
    studies = {s["started"]: s for s in resources(bundle, "ImagingStudy")}
    assert studies["2016-01-15"]["modality"][0]["code"] == "MG"
    assert studies["2016-01-15"]["series"][0]["laterality"]["code"] == "51440002"
    assert studies["2014-09-15"]["series"][0]["laterality"]["code"] == "7771000"
    assert studies["2016-02-01"]["modality"][0]["code"] == "MR"
    assert studies["2016-01-15"]["identifier"][0]["value"] == "ACC-9"
    reports = {r["effectiveDateTime"]: r for r in resources(bundle, "DiagnosticReport")}
    for report in reports.values():
        assert codes_of(report["category"][0]) == {(c.V2_0074, "RAD")}
    assert codes_of(reports["2016-01-15"]["code"]) == {(c.LOINC, "24606-6")}
    assert codes_of(reports["2014-09-15"]["code"]) == {(c.LOINC, "26346-7")}
    assert codes_of(reports["2016-02-01"]["code"]) == {(c.LOINC, "30794-2")}
    assert reports["2016-02-01"]["status"] == "preliminary"  # a draft
    assert reports["2016-01-15"]["status"] == "final"


def test_observations_birads_calcification_enhancement(case_patient):
    bundle = patient_bundle(case_patient)
    obs = resources(bundle, "Observation")
    birads = [o for o in obs if (c.RADLEX_CDE, "RDE1586") in codes_of(o["code"])]
    assert {o["valueCodeableConcept"]["coding"][0]["code"] for o in birads} >= {
        "RDE1586_category4ASuspiciousAbnormalityLowLikelihoodOfBeingCancer",
        "RDE1586_category3ProbablyBenignFinding"}
    calcs = [o for o in obs if (c.RADLEX_CDE, "RDES241") in codes_of(o["code"])]
    assert len(calcs) == 2
    latest = next(o for o in calcs if o["effectiveDateTime"] == "2016-01-15")
    comps = {x["code"]["coding"][0]["code"]: x for x in latest["component"]}
    assert comps["RDE1565"]["valueCodeableConcept"]["coding"][0]["code"] == "RDE1565_finePleomorphic"
    assert comps["RDE1568"]["valueCodeableConcept"]["coding"][0]["code"] == "RDE1568_segmental"
    assert comps["RDE1569"]["valueQuantity"]["value"] == 30.0
    assert comps["RDE1567"]["valueInteger"] == 25
    assert comps["RDE1566"]["valueCodeableConcept"]["coding"][0]["code"] == "RDE1566_increaseInSize"
    assert comps["RDE1563"]["valueCodeableConcept"]["coding"][0]["code"] == "RDE1563_upperOuter"
    assert comps["RDE1558"]["valueCodeableConcept"]["coding"][0]["code"] == "RDE1558_twoOclockPosition"
    assert codes_of(latest["bodySite"]) == {(c.SNOMED, "80248007")}
    enh = [o for o in obs if (c.TRACKER, "mri-enhancement") in codes_of(o["code"])]
    lesion = next(o for o in enh if "component" in o)
    assert any(x["code"]["coding"][0]["code"] == "RDE1570" for x in lesion["component"])
    none = next(o for o in enh if "valueBoolean" in o)
    assert none["valueBoolean"] is False


def test_careplan_only_from_planned_exams(case_patient):
    assert resources(patient_bundle(case_patient), "CarePlan") == []
    planned = [PlannedExam("mammogram", date(2026, 6, 1), "due"),
               PlannedExam("mri", date(2026, 12, 1), "upcoming"),
               PlannedExam("clinical_exam", date(2025, 1, 1), "done")]
    bundle = patient_bundle(case_patient, planned=planned)
    Bundle.model_validate(bundle)
    (plan,) = resources(bundle, "CarePlan")
    details = [a["detail"] for a in plan["activity"]]
    assert [d["status"] for d in details] == ["completed", "scheduled", "scheduled"]
    assert details[1]["code"]["coding"][0]["code"] == "24606-6"


def test_every_bundle_of_the_example_registry_parses(db):
    SiteFactory(code="north"), SiteFactory(code="south")
    example_signers()
    assert import_registry(EXAMPLE.read_text()).ok
    for patient in Patient.objects.all():
        bundle = patient_bundle(patient)
        Bundle.model_validate(bundle)
        assert resources(bundle, "Condition")


def test_endpoint_scoped_and_fhir_json(api_client, coordinator, outsider, case_patient):
    url = f"/api/patients/{case_patient.uuid}/fhir/"
    response = api_client(coordinator).get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    Bundle.model_validate_json(response.content)
    assert api_client(outsider).get(url).status_code == 404


def test_export_query_count_does_not_grow_with_studies(case_patient, django_assert_max_num_queries):
    for i in range(20):
        CalcificationFindingFactory(study=ImagingStudyFactory(patient=case_patient, final=True,
                                                              accession=f"X{i}"))
    with django_assert_max_num_queries(14):
        patient_bundle(case_patient)


def test_endpoint_has_careplan_of_the_scheduled_items(api_client, coordinator, case_patient):
    today = date(2026, 11, 22)
    due = scheduled(case_patient, today + timedelta(days=10), kind="clinical_exam")
    scheduled(case_patient, today + timedelta(days=200), laterality="right")
    scheduled(case_patient, today - timedelta(days=100), kind="mri")
    scheduled(case_patient, today - timedelta(days=400), status="done",
              done_on=today - timedelta(days=390), done_source="elsewhere")
    scheduled(case_patient, today - timedelta(days=800), kind="diagnostic_mammogram",
              laterality="left", status="cancelled", cancel_reason="declined by the patient")
    client = api_client(coordinator)
    with time_machine.travel(today, tick=False):
        response = client.get(f"/api/patients/{case_patient.uuid}/fhir/")
    bundle = response.json()
    parsed = Bundle.model_validate(bundle)
    (plan,) = resources(bundle, "CarePlan")
    (parsed_plan,) = [e.resource for e in parsed.entry if e.resource.__resource_type__ == "CarePlan"]
    assert len(parsed_plan.activity) == 5
    assert plan["subject"]["reference"] == f"urn:uuid:{case_patient.uuid}"
    details = [a["detail"] for a in plan["activity"]]  # oldest due date first
    assert [d["status"] for d in details] == ["cancelled", "completed", "not-started",
                                              "scheduled", "scheduled"]
    assert [d["scheduledPeriod"]["start"] for d in details][3] == due.due_date.isoformat()
    assert codes_of(details[0]["code"]) == {(c.LOINC, "26346-7")}
    assert codes_of(details[2]["code"]) == {(c.LOINC, "30794-2")}
    assert codes_of(details[3]["code"]) == {(c.SNOMED, "5880005")}
    assert details[4]["description"] == "Mammogram — Right"


def test_endpoint_without_schedule_has_no_careplan(api_client, coordinator, case_patient):
    bundle = api_client(coordinator).get(f"/api/patients/{case_patient.uuid}/fhir/").json()
    assert resources(bundle, "CarePlan") == []


@pytest.mark.parametrize("items", [1, 30])
def test_endpoint_query_count_does_not_grow_with_items(api_client, coordinator, case_patient,
                                                       items, django_assert_max_num_queries):
    for i in range(items):
        scheduled(case_patient, date(2017, 1, 1) + timedelta(days=90 * i))
    client = api_client(coordinator)
    # auth (1), the user's roles (1: no role, no data), patient lookup (1), scheduled
    # items (1), the export itself (12, with the alerts its disease statuses read), the
    # audit trail: the FHIR download record and the view record (2); the token's expiry
    # check (1)
    with django_assert_max_num_queries(19):
        bundle = client.get(f"/api/patients/{case_patient.uuid}/fhir/").json()
    assert len(resources(bundle, "CarePlan")[0]["activity"]) == items
