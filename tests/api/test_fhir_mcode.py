"""mCODE in the FHIR export: the resources are there, parse with fhir.resources (R4B, whose
Observation, Condition and Procedure are R4's), and carry what each profile requires.

`PROFILE_REQUIREMENTS` restates, per mCODE STU4 profile, the elements with a minimum
cardinality of 1 and the fixed or required codes (the profile's own and those of the US
Core profile it derives from); `check_profile` fails on any that is missing. A full
StructureDefinition validation needs the HL7 Java validator, which is out of reach here.
"""

from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle

from alerts.models import Alert
from api.fhir import codes as c
from api.fhir.bundle import patient_bundle
from imaging import vocabulary as iv
from tests.imaging.factories import (
    CalcificationFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import (
    PathologyFactory,
    PatientFactory,
    RadiotherapyFactory,
    SurgeryFactory,
    TumourProfileFactory,
)


def has_coding(concept: dict | None, system: str, code: str) -> bool:
    return any(x.get("system") == system and x.get("code") == code
               for x in (concept or {}).get("coding", []))


def _ext(res: dict, url: str) -> list[dict]:
    return [e for e in res.get("extension", []) if e["url"] == url]


PROFILE_REQUIREMENTS = {
    # USCoreCondition (problems/health concerns): category us-core slice, code, subject.
    c.PROFILE_PRIMARY_CANCER: [
        ("category problem-list-item", lambda r: any(
            has_coding(x, c.CONDITION_CATEGORY, "problem-list-item") for x in r.get("category", []))),
        ("code", lambda r: bool(r.get("code", {}).get("coding"))),
        ("subject", lambda r: "reference" in r.get("subject", {})),
        ("histology extension has a value", lambda r: all(
            "valueCodeableConcept" in e for e in _ext(r, c.EXT_HISTOLOGY))),
    ],
    # USCoreObservationLab: status, category laboratory, code, subject, effective, value.
    c.PROFILE_TUMOR_MARKER: [
        ("status", lambda r: r.get("status") in {"final", "amended", "preliminary", "corrected"}),
        ("category laboratory", lambda r: any(
            has_coding(x, c.OBS_CATEGORY, "laboratory") for x in r.get("category", []))),
        ("code", lambda r: bool(r.get("code", {}).get("coding"))),
        ("subject", lambda r: "reference" in r.get("subject", {})),
        ("effectiveDateTime", lambda r: "effectiveDateTime" in r),
        ("value[x] 1..1", lambda r: sum(k.startswith("value") for k in r) == 1),
    ],
    # USCoreProcedure + mcode-reason-required: status, code, subject, performed (when
    # completed), a reason.
    c.PROFILE_SURGICAL_PROCEDURE: [
        ("status completed", lambda r: r.get("status") == "completed"),
        ("code", lambda r: bool(r.get("code", {}).get("coding"))),
        ("subject", lambda r: "reference" in r.get("subject", {})),
        ("performed", lambda r: "performedDateTime" in r),
        ("reason", lambda r: bool(r.get("reasonReference") or r.get("reasonCode"))),
    ],
    # CancerDiseaseStatus: code fixed 97509-4, subject, effectiveDateTime, value
    # CodeableConcept; specimen, device, referenceRange, hasMember, component not used.
    c.PROFILE_DISEASE_STATUS: [
        ("status", lambda r: r.get("status") in {"final", "amended"}),
        ("code LOINC 97509-4", lambda r: has_coding(r.get("code"), c.LOINC, "97509-4")),
        ("subject", lambda r: "reference" in r.get("subject", {})),
        ("effectiveDateTime", lambda r: "effectiveDateTime" in r),
        ("valueCodeableConcept from the condition status trend set", lambda r: any(
            has_coding(r.get("valueCodeableConcept"), c.SNOMED, code)
            for code, _ in c.DISEASE_STATUS_VALUE.values())),
        ("no unused elements", lambda r: not {"specimen", "device", "referenceRange",
                                              "hasMember", "component"} & set(r)),
        ("evidence type imaging", lambda r: any(
            has_coding(e["valueCodeableConcept"], c.SNOMED, "363679005")
            for e in _ext(r, c.EXT_EVIDENCE_TYPE))),
    ],
}


def check_profile(resource: dict) -> None:
    for profile in resource.get("meta", {}).get("profile", []):
        for name, ok in PROFILE_REQUIREMENTS[profile]:
            assert ok(resource), f"{resource['resourceType']} {resource['id']}: {profile} needs {name}"


def profiled(bundle: dict, profile: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"]
            if profile in e["resource"].get("meta", {}).get("profile", [])]


@pytest.fixture
def treated_patient(site):
    """The demo's case-report patient: IDC, ER 50% / PR 0% / HER2 3+, BCS + ALND, then surveillance."""
    patient = PatientFactory(site=site)
    TumourProfileFactory(patient=patient, laterality="left", histology="IDC", er_percent=50,
                         pr_percent=0, her2_ihc="3+", her2_ish="amplified")
    PathologyFactory(surgery=SurgeryFactory(patient=patient, date=date(2014, 10, 6)))
    RadiotherapyFactory(patient=patient)  # ends 2014-12-19
    post_nac = ImagingStudyFactory(patient=patient, final=True, phase="post_nac", birads="6",
                                   study_date=date(2014, 9, 1))
    CalcificationFindingFactory(study=post_nac, group="L1", extent_mm=58)
    exams = {}
    for day, extent, birads in [(date(2015, 6, 15), 30, "3"), (date(2016, 6, 14), 22, "3"),
                                (date(2017, 6, 12), 21, "3"), (date(2018, 6, 12), 40, "4B")]:
        exams[day.year] = ImagingStudyFactory(patient=patient, final=True, study_date=day, birads=birads)
        CalcificationFindingFactory(study=exams[day.year], group="L1", extent_mm=extent,
                                    morphology="amorphous", distribution="grouped")
    exams["mri"] = ImagingStudyFactory(patient=patient, final=True, modality="MR", birads="1",
                                       no_enhancement=True, study_date=date(2015, 12, 1))
    ImagingStudyFactory(patient=patient, study_date=date(2019, 6, 1))  # a draft: no status
    Alert.objects.create(patient=patient, rule="calc_extent_increase", severity="medium",
                         breast="left", study=exams[2018], dedup_key="k-2018", reason="grew")
    Alert.objects.create(patient=patient, rule="calc_extent_increase", severity="medium",
                         breast="left", study=exams[2017], dedup_key="k-2017", reason="x",
                         state="resolved", resolution="false_positive",
                         resolved_by=exams[2017].signed_by)
    return patient, exams


def test_bundle_parses_and_every_profiled_resource_meets_its_profile(treated_patient):
    patient, _ = treated_patient
    bundle = patient_bundle(patient)
    Bundle.model_validate(bundle)
    profiles = {p for e in bundle["entry"] for p in e["resource"].get("meta", {}).get("profile", [])}
    assert profiles == set(PROFILE_REQUIREMENTS)
    for entry in bundle["entry"]:
        check_profile(entry["resource"])
    urls = {e["fullUrl"] for e in bundle["entry"]}
    for res in (r["resource"] for r in bundle["entry"]):
        refs = [*res.get("focus", []), *res.get("reasonReference", []), *res.get("derivedFrom", []),
                *(e["valueReference"] for e in _ext(res, c.EXT_RELATED_CONDITION))]
        assert all(ref["reference"] in urls for ref in refs)


def test_primary_cancer_condition(treated_patient):
    patient, _ = treated_patient
    (condition,) = profiled(patient_bundle(patient), c.PROFILE_PRIMARY_CANCER)
    assert condition["resourceType"] == "Condition"
    assert has_coding(condition["code"], c.SNOMED, "254837009")
    (histology,) = _ext(condition, c.EXT_HISTOLOGY)
    assert has_coding(histology["valueCodeableConcept"], c.SNOMED, "82711006")
    assert has_coding(histology["valueCodeableConcept"], c.ICDO3, "8500/3")
    assert has_coding(condition["bodySite"][0], c.SNOMED, "80248007")


@pytest.mark.parametrize(("histology", "codes"), [
    ("ILC", {"89740008", "8520/3"}), ("DCIS", {"86616005", "8500/2"}), ("mixed", None),
])
def test_histology_codes(site, histology, codes):
    patient = PatientFactory(site=site)
    TumourProfileFactory(patient=patient, histology=histology)
    (condition,) = profiled(patient_bundle(patient), c.PROFILE_PRIMARY_CANCER)
    found = _ext(condition, c.EXT_HISTOLOGY)
    if codes is None:
        assert found == []
    else:
        assert {x["code"] for x in found[0]["valueCodeableConcept"]["coding"]} == codes


def test_tumour_markers(treated_patient):
    patient, _ = treated_patient
    markers = {m["code"]["coding"][0]["code"]: m
               for m in profiled(patient_bundle(patient), c.PROFILE_TUMOR_MARKER)}
    assert set(markers) == {"85337-4", "85339-0", "85319-2", "85318-4"}
    er, pr = markers["85337-4"], markers["85339-0"]
    assert has_coding(er["valueCodeableConcept"], c.LOINC, "LA6576-8")  # ER 50%: positive
    assert er["component"][0]["valueQuantity"]["value"] == 50
    assert has_coding(pr["valueCodeableConcept"], c.LOINC, "LA6577-6")  # PR 0%: negative
    assert has_coding(markers["85319-2"]["valueCodeableConcept"], c.LOINC, "LA6576-8")  # IHC 3+
    assert has_coding(markers["85318-4"]["valueCodeableConcept"], c.LOINC, "LA6576-8")  # amplified
    assert er["effectiveDateTime"] == "2014-03-03"  # the diagnosis date


@pytest.mark.parametrize(("er", "her2_ihc", "expected"), [
    (1, "2+", {"85337-4": "LA6576-8", "85319-2": None}),   # 1% is positive; 2+ is equivocal
    (0, "1+", {"85337-4": "LA6577-6", "85319-2": "LA6577-6"}),
    (None, "", {}),
])
def test_marker_thresholds_and_missing_values(site, er, her2_ihc, expected):
    patient = PatientFactory(site=site)
    TumourProfileFactory(patient=patient, er_percent=er, pr_percent=None, her2_ihc=her2_ihc, her2_ish="")
    markers = profiled(patient_bundle(patient), c.PROFILE_TUMOR_MARKER)
    found = {m["code"]["coding"][0]["code"]: m["valueCodeableConcept"] for m in markers}
    assert set(found) == set(expected)
    for code, answer in expected.items():
        if answer is None:
            assert "coding" not in found[code] and found[code]["text"].startswith("Equivocal")
        else:
            assert has_coding(found[code], c.LOINC, answer)


def test_surgical_procedures(treated_patient):
    patient, _ = treated_patient
    bundle = patient_bundle(patient)
    procedures = {p["code"]["coding"][0]["code"]: p for p in profiled(bundle, c.PROFILE_SURGICAL_PROCEDURE)}
    assert set(procedures) == {"64368001", "234262008"}  # BCS, axillary dissection
    bcs = procedures["64368001"]
    assert bcs["performedDateTime"] == "2014-10-06"
    assert has_coding(bcs["bodySite"][0], c.SNOMED, "80248007")
    (condition,) = profiled(bundle, c.PROFILE_PRIMARY_CANCER)
    assert bcs["reasonReference"] == [{"reference": f"urn:uuid:{condition['id']}"}]


def test_mastectomy_with_sentinel_node_and_no_tumour_profile(site):
    patient = PatientFactory(site=site)
    SurgeryFactory(patient=patient, procedure="mastectomy", axilla="SLNB", laterality="bilateral")
    bundle = patient_bundle(patient)
    Bundle.model_validate(bundle)
    procedures = profiled(bundle, c.PROFILE_SURGICAL_PROCEDURE)
    assert {p["code"]["coding"][0]["code"] for p in procedures} == {"69031006", "396487001"}
    for p in procedures:
        check_profile(p)
        assert has_coding(p["reasonCode"][0], c.SNOMED, "254837009")
    breast = next(p for p in procedures if p["code"]["coding"][0]["code"] == "69031006")
    assert len(breast["bodySite"]) == 2


def test_one_disease_status_per_signed_post_surgical_exam(treated_patient):
    patient, exams = treated_patient
    bundle = patient_bundle(patient)
    statuses = {s["effectiveDateTime"]: s for s in profiled(bundle, c.PROFILE_DISEASE_STATUS)}
    # Not the post-NAC exam, not the draft.
    assert set(statuses) == {"2015-06-15", "2015-12-01", "2016-06-14", "2017-06-12", "2018-06-12"}
    value = {day: s["valueCodeableConcept"]["coding"][0]["code"] for day, s in statuses.items()}
    assert value == {
        "2015-06-15": "709137006",  # post-treatment baseline: undetermined
        "2015-12-01": "103338009",  # MRI without enhancement: no evidence of disease
        "2016-06-14": "268910001",  # 30 → 22 mm: improved
        "2017-06-12": "359746009",  # 22 → 21 mm, its alert a false positive: stable
        "2018-06-12": "271299001",  # an alert stands: worsened
    }
    (condition,) = profiled(bundle, c.PROFILE_PRIMARY_CANCER)
    worse = statuses["2018-06-12"]
    assert worse["focus"] == [{"reference": f"urn:uuid:{condition['id']}"}]
    assert {"reference": f"urn:uuid:{exams[2018].uuid}"} in worse["derivedFrom"]
    assert worse["note"][0]["text"]


def test_birads_snomed_codes_on_mammograms_only(site):
    patient = PatientFactory(site=site)
    expected = {"0": "397138000", "1": "397140005", "2": "397141009", "3": "397143007",
                "4": "397144001", "4A": "397144001", "4B": "397144001", "4C": "397144001",
                "5": "397145000", "6": None}
    for i, birads in enumerate(expected):
        ImagingStudyFactory(patient=patient, final=True, birads=birads, study_date=date(2016, 1, 1 + i))
    ImagingStudyFactory(patient=patient, final=True, modality="MR", birads="4", no_enhancement=True,
                        study_date=date(2016, 2, 1))
    bundle = patient_bundle(patient)
    Bundle.model_validate(bundle)
    reports = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"]
    for report in reports:
        birads = next(b for b, code in iv.BiRads.choices if has_coding(
            report["conclusionCode"][0], c.RADLEX_CDE, c.BIRADS_VALUE[b]))
        snomed = [x["code"] for x in report["conclusionCode"][0]["coding"] if x["system"] == c.SNOMED]
        if report["code"]["coding"][0]["code"] == "30794-2":  # the MRI
            assert snomed == []
        else:
            assert snomed == ([expected[birads]] if expected[birads] else [])


def test_every_morphology_and_distribution_has_its_dicom_code():
    assert set(c.CALC_TYPE_CID6011) == set(iv.Morphology.values)
    assert set(c.CALC_DISTRIBUTION_CID6013) == set(iv.Distribution.values)


def test_calcification_components_carry_cid_codes(treated_patient):
    patient, _ = treated_patient
    bundle = patient_bundle(patient)
    calcs = [e["resource"] for e in bundle["entry"]
             if has_coding(e["resource"].get("code"), c.RADLEX_CDE, "RDES241")]
    latest = next(o for o in calcs if o["effectiveDateTime"] == "2018-06-12")
    comps = {x["code"]["coding"][0]["code"]: x["valueCodeableConcept"] for x in latest["component"]
             if "valueCodeableConcept" in x}
    assert has_coding(comps["RDE1565"], c.RADLEX_CDE, "RDE1565_amorphous")
    assert has_coding(comps["RDE1565"], c.SNOMED, "129760005")
    assert has_coding(comps["RDE1568"], c.SNOMED, "129766004")
