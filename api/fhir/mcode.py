"""mCODE resources of the export: PrimaryCancerCondition, TumorMarkerTest (ER, PR, HER2),
CancerRelatedSurgicalProcedure and one CancerDiseaseStatus per signed post-surgical exam.

Each resource names its mCODE profile in `meta.profile` and carries the elements the
profile requires (tests/api/test_fhir_mcode.py checks both). The Patient does not claim
mCODE's CancerPatient profile: that profile is US Core Patient, which requires an
administrative gender the tracker does not record.
"""

import uuid
from collections.abc import Iterable

from alerts.models import Resolution
from imaging.history import history_from_patient
from patients.models import Patient, Surgery, TumourProfile

from . import codes as c
from .disease_status import exam_statuses

# Alert resolutions that say the change was not disease: such an alert no longer makes
# its exam "worsened".
DISMISSED_RESOLUTIONS = frozenset({Resolution.BENIGN_NO_ACTION.value, Resolution.FALSE_POSITIVE.value})


def _coding(system: str, code: str, display: str = "") -> dict:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def _concept(system: str, code: str, display: str = "", text: str = "") -> dict:
    return {"coding": [_coding(system, code, display)], **({"text": text} if text else {})}


def _ref(u) -> dict:
    return {"reference": f"urn:uuid:{u}"}


def _child_id(parent: uuid.UUID, *parts: str) -> str:
    return str(uuid.uuid5(parent, ":".join(parts)))


def condition_id(p: Patient) -> str:
    return _child_id(p.uuid, "condition")


def histology_extension(tumour: TumourProfile) -> list[dict]:
    codes = c.HISTOLOGY_MORPHOLOGY.get(tumour.histology)
    if codes is None:
        return []
    (sct, sct_display), (icdo, icdo_display) = codes
    return [{"url": c.EXT_HISTOLOGY, "valueCodeableConcept": {
        "coding": [_coding(c.SNOMED, sct, sct_display), _coding(c.ICDO3, icdo, icdo_display)],
        "text": tumour.get_histology_display()}}]


def _marker(p: Patient, tumour: TumourProfile, key: str, code: tuple[str, str],
            positive: bool | None, text: str, percent: int | None = None) -> dict:
    """One TumorMarkerTest; `positive` None when the result is equivocal (text only)."""
    answer = None if positive is None else (c.POSITIVE if positive else c.NEGATIVE)
    value = {"text": text} if answer is None else _concept(c.LOINC, *answer, text=text)
    res = {
        "resourceType": "Observation",
        "id": _child_id(p.uuid, "marker", key),
        "meta": {"profile": [c.PROFILE_TUMOR_MARKER]},
        "extension": [{"url": c.EXT_RELATED_CONDITION, "valueReference": _ref(condition_id(p))}],
        "status": "final",
        "category": [_concept(c.OBS_CATEGORY, "laboratory", "Laboratory")],
        "code": _concept(c.LOINC, *code),
        "subject": _ref(p.uuid),
        # The tracker records receptors with the diagnosis, not the date of the assay.
        "effectiveDateTime": tumour.diagnosis_date.isoformat(),
        "valueCodeableConcept": value,
    }
    if percent is not None:
        res["component"] = [{
            "code": _concept(c.TRACKER, "percent-positive-nuclei", "Tumour nuclei staining (%)"),
            "valueQuantity": {"value": percent, "unit": "%", "system": c.UCUM, "code": "%"}}]
    return res


def tumour_marker_resources(p: Patient, tumour: TumourProfile) -> list[dict]:
    """ER, PR (IHC, positive at ≥ 1% of nuclei) and HER2 (IHC and ISH), those recorded."""
    out = []
    for key, code, percent in (("er", c.ER_IHC, tumour.er_percent), ("pr", c.PR_IHC, tumour.pr_percent)):
        if percent is not None:
            positive = percent >= 1
            text = f"{'Positive' if positive else 'Negative'} ({percent}% of nuclei)"
            out.append(_marker(p, tumour, key, code, positive, text, percent))
    if tumour.her2_ihc:
        positive = {"0": False, "1+": False, "3+": True}.get(tumour.her2_ihc)  # 2+ is equivocal
        label = {True: "Positive", False: "Negative", None: "Equivocal"}[positive]
        out.append(_marker(p, tumour, "her2-ihc", c.HER2_IHC, positive, f"{label} (IHC {tumour.her2_ihc})"))
    if tumour.her2_ish:
        positive = tumour.her2_ish == "amplified"
        out.append(_marker(p, tumour, "her2-ish", c.HER2_ISH, positive, tumour.get_her2_ish_display()))
    return out


def _breast_sites(laterality: str) -> list[dict]:
    breasts = ["left", "right"] if laterality == "bilateral" else [laterality]
    return [_concept(c.SNOMED, *c.BODY_SITE[b]) for b in breasts]


def surgical_procedure_resources(p: Patient, surgeries: Iterable[Surgery],
                                 has_condition: bool) -> list[dict]:
    """The breast operation and, when done, the axillary one: one Procedure each."""
    out = []
    for surgery in surgeries:
        parts = [("breast", c.SURGERY_CODE[surgery.procedure], surgery.get_procedure_display())]
        if surgery.axilla in c.AXILLA_CODE:
            parts.append(("axilla", c.AXILLA_CODE[surgery.axilla], surgery.get_axilla_display()))
        for part, code, text in parts:
            res = {
                "resourceType": "Procedure",
                "id": _child_id(p.uuid, "surgery", str(surgery.pk), part),
                "meta": {"profile": [c.PROFILE_SURGICAL_PROCEDURE]},
                "status": "completed",
                "code": _concept(c.SNOMED, *code, text=text),
                "subject": _ref(p.uuid),
                "performedDateTime": surgery.date.isoformat(),
                "bodySite": _breast_sites(surgery.laterality) if part == "breast" else [],
            }
            if not res["bodySite"]:
                del res["bodySite"]
            # mCODE requires a reason: the primary cancer, or its code when there is no
            # tumour profile to export as a Condition.
            if has_condition:
                res["reasonReference"] = [_ref(condition_id(p))]
            else:
                res["reasonCode"] = [_concept(c.SNOMED, *c.BREAST_CANCER)]
            out.append(res)
    return out


def standing_alert_study_ids(alerts: Iterable) -> set[int]:
    """Studies that raised an alert not dismissed as benign or a false positive."""
    return {a.study_id for a in alerts
            if a.study_id is not None and a.resolution not in DISMISSED_RESOLUTIONS}


def disease_status_resources(p: Patient, has_condition: bool, obs_status: dict[int, str],
                             study_uuids: dict[int, uuid.UUID]) -> list[dict]:
    """One CancerDiseaseStatus per signed post-surgical exam, oldest first.

    `obs_status`: the FHIR status (final/amended) of each study by id; `study_uuids`:
    each study's UUID, the id of its ImagingStudy (and the parent of its report's id).
    """
    history = history_from_patient(p)
    statuses = exam_statuses(history, standing_alert_study_ids(p.alerts.all()))
    out = []
    for study in history.final_studies():
        judged = statuses.get(study.id)
        if judged is None:
            continue
        study_uuid = study_uuids[study.id]
        res = {
            "resourceType": "Observation",
            "id": _child_id(study_uuid, "disease-status"),
            "meta": {"profile": [c.PROFILE_DISEASE_STATUS]},
            "extension": [{"url": c.EXT_EVIDENCE_TYPE,
                           "valueCodeableConcept": _concept(c.SNOMED, *c.EVIDENCE_IMAGING)}],
            "status": obs_status[study.id],
            "category": [_concept(c.OBS_CATEGORY, "imaging", "Imaging")],
            "code": _concept(c.LOINC, *c.DISEASE_STATUS),
            "subject": _ref(p.uuid),
            "effectiveDateTime": study.study_date.isoformat(),
            "valueCodeableConcept": _concept(c.SNOMED, *c.DISEASE_STATUS_VALUE[judged.status]),
            "derivedFrom": [_ref(study_uuid), _ref(_child_id(study_uuid, "report"))],
            "note": [{"text": judged.reason}],
        }
        if has_condition:
            res["focus"] = [_ref(condition_id(p))]
        out.append(res)
    return out
