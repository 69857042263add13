"""FHIR R4 export of one patient as a Bundle of type `collection`.

Resources: Patient; the index cancer as an mCODE PrimaryCancerCondition (body site per
breast, histology); its ER, PR and HER2 results (mCODE TumorMarkerTest); each surgery
(mCODE CancerRelatedSurgicalProcedure); per study an ImagingStudy and a DiagnosticReport
(category RAD) with Observations for the BI-RADS assessment, breast composition, each
calcification group (RDES241 with IG components, DICOM CID 6011/6013 codes) and each
enhancing lesion; one mCODE CancerDiseaseStatus per signed post-surgical exam
(`api.fhir.mcode`); a CarePlan when scheduled exams are passed in.
Entries are linked with `urn:uuid:` full URLs; ids derive from the tracker's UUIDs so
an export is stable. MRN is the Patient identifier (this is a clinical export).

Contact details, when recorded and asked for, go on the Patient: `telecom` (phones and
e-mail, the preferred channel ranked 1), `address`, `communication` (the preferred
language, BCP 47) and `generalPractitioner`, a reference to a Practitioner entry (the GP's
name, practice address and telecom). The consents have no Patient element and stay out.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from imaging.models import ImagingStudy
from patients.models import ContactDetails, Patient, Surgery

from . import codes as c
from . import mcode
from .careplan import PlannedExam, careplan_resource

CLOCK_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
               "eleven", "twelve")


def _coding(system: str, code: str, display: str = "") -> dict:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _concept(system: str, code: str, display: str = "", text: str = "") -> dict:
    out: dict = {"coding": [_coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def _cde(element: tuple[str, str]) -> dict:
    return _concept(c.RADLEX_CDE, element[0], element[1])


def _ref(u: uuid.UUID | str) -> str:
    return f"urn:uuid:{u}"


def _child_id(parent: uuid.UUID, *parts: str) -> uuid.UUID:
    return uuid.uuid5(parent, ":".join(parts))


def _mm(value) -> dict:
    return {"value": float(value), "unit": "mm", "system": c.UCUM, "code": "mm"}


def load_patient_for_export(patient_id: int) -> Patient:
    """The patient with everything the bundle reads, in a fixed number of queries."""
    return (
        Patient.objects.select_related("site", "tumour", "contact")
        .prefetch_related(
            "nac_courses", "radiotherapy", "events", "alerts",
            Prefetch("surgeries", queryset=Surgery.objects.select_related("pathology")),
            Prefetch("studies", queryset=ImagingStudy.objects.order_by("study_date", "id")
                     .select_related("signed_by")
                     .prefetch_related("calcifications", "enhancements", "amendments")),
        )
        .get(pk=patient_id)
    )


def patient_resource(p: Patient, contact: ContactDetails | None = None) -> dict:
    res = {
        "resourceType": "Patient",
        "id": str(p.uuid),
        "identifier": [{
            "type": _concept(c.V2_0203, "MR", "Medical record number"),
            "system": f"urn:breast-surveillance-tracker:site:{p.site.code}:mrn",
            "value": p.mrn,
        }],
        "active": p.follow_up_status not in ("deceased", "transferred"),
        "name": [{"family": p.family_name, "given": [p.given_name]}],
        "birthDate": p.date_of_birth.isoformat(),
    }
    if p.follow_up_status == "deceased":
        res["deceasedBoolean"] = True
    if contact is not None:
        res.update(_contact_elements(p, contact))
    return res


def _contact_elements(p: Patient, contact: ContactDetails) -> dict:
    preferred = {"phone": ("phone", contact.mobile_phone or contact.home_phone),
                 "text": ("sms", contact.mobile_phone),
                 "email": ("email", contact.email)}.get(contact.preferred_channel)
    telecom = []
    for system, value, use in (("phone", contact.mobile_phone, "mobile"),
                               ("sms", contact.mobile_phone if contact.may_text else "", "mobile"),
                               ("phone", contact.home_phone, "home"),
                               ("email", contact.email, "home")):
        if value:
            point = {"system": system, "value": value, "use": use}
            if preferred == (system, value):
                point["rank"] = 1
            telecom.append(point)
    out: dict = {}
    if telecom:
        out["telecom"] = telecom
    if contact.address_line1:
        address = {"use": "home", "type": "postal", "text": ", ".join(contact.address_lines),
                   "line": [x for x in (contact.address_line1, contact.address_line2) if x]}
        for key, value in (("city", contact.city), ("postalCode", contact.postal_code),
                           ("country", contact.country)):
            if value:
                address[key] = value
        out["address"] = [address]
    out["communication"] = [{
        "language": _concept(c.BCP47, contact.preferred_language,
                             contact.get_preferred_language_display()),
        "preferred": True,
    }]
    if contact.gp_name:
        out["generalPractitioner"] = [{"reference": _ref(_child_id(p.uuid, "gp")),
                                       "display": contact.gp_name}]
    return out


def gp_resource(p: Patient, contact: ContactDetails) -> dict | None:
    """The GP as a Practitioner (name as written: the tracker does not split it)."""
    if not contact.gp_name:
        return None
    res: dict = {"resourceType": "Practitioner", "id": str(_child_id(p.uuid, "gp")),
                 "name": [{"text": contact.gp_name}]}
    telecom = [{"system": system, "value": value, "use": "work"}
               for system, value in (("phone", contact.gp_phone), ("email", contact.gp_email)) if value]
    if telecom:
        res["telecom"] = telecom
    lines = ([contact.gp_practice] if contact.gp_practice else []) + contact.gp_address_lines
    if lines:
        res["address"] = [{"use": "work", "text": ", ".join(lines), "line": lines}]
    return res


def condition_resource(p: Patient) -> dict | None:
    tumour = getattr(p, "tumour", None)
    if tumour is None:
        return None
    breasts = ["left", "right"] if tumour.laterality == "bilateral" else [tumour.laterality]
    recurred = any("recurrence" in e.kind or e.kind == "contralateral" for e in p.events.all())
    status = "recurrence" if recurred else ("remission" if p.surgeries.all() else "active")
    notes = [f"Histology: {tumour.get_histology_display()}",
             f"Subtype: {tumour.get_subtype_display()}"]
    if tumour.grade:
        notes.append(f"Grade {tumour.grade}")
    res = {
        "resourceType": "Condition",
        "id": mcode.condition_id(p),
        "meta": {"profile": [c.PROFILE_PRIMARY_CANCER]},
        "extension": mcode.histology_extension(tumour),
        "clinicalStatus": _concept(c.CONDITION_CLINICAL, status),
        "verificationStatus": _concept(c.CONDITION_VER, "confirmed"),
        "category": [_concept(c.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
        "code": _concept(c.SNOMED, *c.BREAST_CANCER, text=tumour.get_histology_display()),
        "bodySite": [_concept(c.SNOMED, *c.BODY_SITE[b]) for b in breasts],
        "subject": {"reference": _ref(p.uuid)},
        "onsetDateTime": tumour.diagnosis_date.isoformat(),
        "note": [{"text": "; ".join(notes)}],
    }
    if not res["extension"]:
        del res["extension"]  # mixed or other histology: no single morphology code
    return res


def _report_code(study: ImagingStudy) -> dict:
    if study.modality == "MR":
        return _concept(c.LOINC, *c.REPORT_CODE["MR"])
    if study.modality == "MG":
        key = "MG_screening" if study.phase == "surveillance" else "MG_diagnostic"
        return _concept(c.LOINC, *c.REPORT_CODE[key])
    return {"text": "US Breast"}


def _birads_concept(study: ImagingStudy, text: str = "") -> dict:
    """RadLex's assessment category; SNOMED's mammography assessment too on a mammogram."""
    concept = _concept(c.RADLEX_CDE, c.BIRADS_VALUE[study.birads], text=text)
    if study.modality == "MG" and study.birads in c.BIRADS_SNOMED:
        concept = _with_translation(concept, (c.SNOMED, *c.BIRADS_SNOMED[study.birads]))
    return concept


def _obs_status(study: ImagingStudy) -> str:
    if not study.is_final:
        return "preliminary"
    return "amended" if study.amendments.all() else "final"


def _observation(study: ImagingStudy, obs_id: uuid.UUID, patient_ref: str, code: dict,
                 **fields) -> dict:
    return {
        "resourceType": "Observation",
        "id": str(obs_id),
        "status": _obs_status(study),
        "category": [_concept(c.OBS_CATEGORY, "imaging", "Imaging")],
        "code": code,
        "subject": {"reference": patient_ref},
        "effectiveDateTime": study.study_date.isoformat(),
        "derivedFrom": [{"reference": _ref(study.uuid)}],
        **fields,
    }


def _component(element: tuple[str, str], **value) -> dict:
    return {"code": _cde(element), **value}


def _tracker_component(code: str, display: str, **value) -> dict:
    return {"code": _concept(c.TRACKER, code, display), **value}


def _location_components(f) -> list[dict]:
    out = []
    if f.quadrant in c.QUADRANT_VALUE:
        out.append(_component(c.QUADRANT, valueCodeableConcept=_concept(
            c.RADLEX_CDE, c.QUADRANT_VALUE[f.quadrant], f.get_quadrant_display())))
    elif f.quadrant in c.REGION_VALUE:
        out.append(_component(c.REGION, valueCodeableConcept=_concept(
            c.RADLEX_CDE, c.REGION_VALUE[f.quadrant], f.get_quadrant_display())))
    if f.clock:
        word = CLOCK_WORDS[f.clock - 1]
        out.append(_component(c.CLOCK, valueCodeableConcept=_concept(
            c.RADLEX_CDE, f"RDE1558_{word}OclockPosition", f"{f.clock} o'clock")))
    if f.depth:
        out.append(_component(c.DEPTH, valueCodeableConcept=_concept(
            c.RADLEX_CDE, f"RDE1559_{f.depth}", f.depth)))
    if f.nipple_distance_mm is not None:
        out.append(_tracker_component("nipple-distance", "Distance from nipple",
                                      valueQuantity=_mm(f.nipple_distance_mm)))
    if f.observed_change:
        out.append(_component(c.OBSERVED_CHANGES, valueCodeableConcept=_concept(
            c.RADLEX_CDE, c.OBSERVED_CHANGE_VALUE[f.observed_change],
            f.get_observed_change_display())))
    return out


def _with_translation(concept: dict, translation: tuple[str, str, str]) -> dict:
    """`concept` with a second coding (the same meaning in another code system)."""
    concept["coding"].append(_coding(*translation))
    return concept


def calcification_observation(study, calc, patient_ref: str) -> dict:
    comps = [
        _component(c.CALC_TYPE, valueCodeableConcept=_with_translation(_concept(
            c.RADLEX_CDE, c.CALC_TYPE_VALUE[calc.morphology], calc.get_morphology_display()),
            c.CALC_TYPE_CID6011[calc.morphology])),
        _component(c.OBSERVED_DISTRIBUTION, valueCodeableConcept=_with_translation(_concept(
            c.RADLEX_CDE, c.DISTRIBUTION_VALUE[calc.distribution],
            calc.get_distribution_display()), c.CALC_DISTRIBUTION_CID6013[calc.distribution])),
        _component(c.DISTRIBUTION_WIDTH, valueQuantity=_mm(calc.extent_mm)),
        _tracker_component("count-bin", "Calcification count bin", valueString=calc.count_bin),
        _tracker_component("inside-tumor-bed", "Inside the tumour bed",
                           valueBoolean=calc.inside_tumor_bed),
        _tracker_component("clip-present", "Clip present", valueBoolean=calc.clip_present),
    ]
    if calc.count is not None:
        comps.append(_component(c.OBSERVED_COUNT, valueInteger=calc.count))
    comps.extend(_location_components(calc))
    return _observation(
        study, _child_id(study.uuid, "calc", calc.laterality, calc.group), patient_ref,
        _concept(c.RADLEX_CDE, *c.CALCIFICATION_SET, text=f"Calcification group {calc.group}"),
        bodySite=_concept(c.SNOMED, *c.BODY_SITE[calc.laterality]),
        component=comps,
    )


def enhancement_observation(study, enh, patient_ref: str) -> dict:
    comps = []
    for field, display in c.ENH_COMPONENT.items():
        value = getattr(enh, field)
        if value:
            comps.append(_tracker_component(field.replace("_", "-"), display,
                                            valueCodeableConcept=_concept(c.TRACKER, value)))
    if enh.size_mm is not None:
        comps.append(_component(c.OBSERVED_SIZE, valueQuantity=_mm(enh.size_mm)))
    comps.extend(_location_components(enh))
    return _observation(
        study, _child_id(study.uuid, "enh", enh.laterality, enh.lesion), patient_ref,
        _concept(c.TRACKER, *c.ENHANCEMENT, text=f"Enhancing lesion {enh.lesion}"),
        bodySite=_concept(c.SNOMED, *c.BODY_SITE[enh.laterality]),
        component=comps,
    )


def study_resources(study: ImagingStudy, patient_ref: str) -> list[dict]:
    """ImagingStudy, its Observations and the DiagnosticReport that lists them."""
    observations = []
    if study.birads:
        observations.append(_observation(
            study, _child_id(study.uuid, "birads"), patient_ref, _cde(c.BIRADS_ELEMENT),
            valueCodeableConcept=_birads_concept(study, text=f"BI-RADS {study.get_birads_display()}")))
    if study.breast_composition:
        observations.append(_observation(
            study, _child_id(study.uuid, "composition"), patient_ref, _cde(c.BREAST_COMPOSITION),
            valueCodeableConcept=_concept(
                c.RADLEX_CDE, c.COMPOSITION_VALUE[study.breast_composition],
                study.get_breast_composition_display())))
    observations += [calcification_observation(study, x, patient_ref)
                     for x in study.calcifications.all()]
    observations += [enhancement_observation(study, x, patient_ref)
                     for x in study.enhancements.all()]
    if study.modality == "MR" and study.no_enhancement:
        observations.append(_observation(
            study, _child_id(study.uuid, "no-enhancement"), patient_ref,
            _concept(c.TRACKER, *c.ENHANCEMENT), valueBoolean=False,
            note=[{"text": "No enhancement (MRI complete response)."}]))

    series_uid = f"2.25.{_child_id(study.uuid, 'series').int}"
    imaging = {
        "resourceType": "ImagingStudy",
        "id": str(study.uuid),
        "status": "available",
        "subject": {"reference": patient_ref},
        "started": study.study_date.isoformat(),
        "modality": [_coding(c.DICOM, study.modality)],
        "numberOfSeries": 1,
        "series": [{
            "uid": series_uid,
            "modality": _coding(c.DICOM, study.modality),
            "bodySite": _coding(c.SNOMED, "76752008", "Breast structure"),
            "laterality": _coding(c.SNOMED, *c.LATERALITY[study.laterality]),
        }],
        "description": f"{study.get_modality_display()} ({study.get_phase_display()})",
    }
    if study.accession:
        imaging["identifier"] = [{"type": _concept(c.V2_0203, "ACSN", "Accession ID"),
                                  "value": study.accession}]
    report = {
        "resourceType": "DiagnosticReport",
        "id": str(_child_id(study.uuid, "report")),
        "status": _obs_status(study),
        "category": [_concept(c.V2_0074, "RAD", "Radiology")],
        "code": _report_code(study),
        "subject": {"reference": patient_ref},
        "effectiveDateTime": study.study_date.isoformat(),
        "imagingStudy": [{"reference": _ref(study.uuid)}],
        "result": [{"reference": _ref(o["id"])} for o in observations],
    }
    if study.signed_at:
        report["issued"] = study.signed_at.isoformat()
    if study.signed_by:
        report["resultsInterpreter"] = [{"display": study.signed_by.get_full_name()
                                         or study.signed_by.get_username()}]
    if study.report_text:
        report["conclusion"] = study.report_text
    if study.birads:
        report["conclusionCode"] = [_birads_concept(study)]
    return [imaging, *observations, report]


def patient_bundle(patient: Patient, *, planned: Sequence[PlannedExam] = (),
                   now: datetime | None = None, with_contact: bool = True) -> dict:
    """The patient's record as a FHIR R4 `collection` Bundle (a plain JSON dict).

    `with_contact`: include the contact details (phones, address, language, GP); the API
    leaves them out for roles that do not see them.
    """
    p = load_patient_for_export(patient.pk)
    ref = _ref(p.uuid)
    contact = getattr(p, "contact", None) if with_contact else None
    condition = condition_resource(p)
    resources = [patient_resource(p, contact), condition]
    if contact is not None:
        resources.append(gp_resource(p, contact))
    if condition is not None:
        resources.extend(mcode.tumour_marker_resources(p, p.tumour))
    resources.extend(mcode.surgical_procedure_resources(p, p.surgeries.all(), condition is not None))
    studies = list(p.studies.all())
    for study in studies:
        resources.extend(study_resources(study, ref))
    resources.extend(mcode.disease_status_resources(
        p, condition is not None, obs_status={s.id: _obs_status(s) for s in studies},
        study_uuids={s.id: s.uuid for s in studies}))
    resources.append(careplan_resource(resource_id=str(_child_id(p.uuid, "careplan")),
                                       patient_ref=ref, planned=planned))
    return {
        "resourceType": "Bundle",
        "id": str(_child_id(p.uuid, "bundle")),
        "type": "collection",
        "timestamp": (now or timezone.now()).isoformat(),
        "entry": [{"fullUrl": _ref(r["id"]), "resource": r} for r in resources if r],
    }
