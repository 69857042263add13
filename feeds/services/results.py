"""ORU^R01: each OBR (with its OBX) becomes, or updates, a draft study through
`imaging.services`, and the findings proposed from its report text are kept with it.

Nothing here signs a study: a radiologist confirms or edits the draft and signs it.
"""

from dataclasses import dataclass

from django.db.models import Q

from imaging.models import ImagingStudy
from imaging.services import (
    CALC_FIELDS,
    ENH_FIELDS,
    UNREAD,
    StudyValidationError,
    study_propose,
    study_save_draft,
)
from imaging.vocabulary import Modality
from patients.models import Patient

from .. import mapping
from ..models import Message, Order
from ..parsing import Reader, error, parse_date
from ..proposals import propose
from .common import TREATMENT_DATES, Outcome, find_patient, identity, procedure_codes, unique_row

TEXT_TYPES = {"TX", "FT", "ST", "CE", "CWE", ""}
# Study fields and the HL7 fields they come from (for AE reasons).
OBR_FIELD = {"study_date": "OBR-7", "accession": "OBR-3", "modality": "OBR-4", "laterality": "OBR-4",
             "birads": "OBX-5", "report_text": "OBX-5", "phase": "OBR-7"}


@dataclass
class Result:
    """One OBR and its OBX segments, as the tracker reads them."""

    number: int  # the OBR's position among the message's OBR segments
    accession: str
    placer: str
    study_date: object
    code: str
    procedure_text: str
    section: str
    result_status: str
    report_text: str
    birads: str | None


def process(ctx) -> Outcome:
    who = identity(ctx.reader, ctx.rep)
    ctx.message.mrn = who.mrn
    results = read_results(ctx.reader)
    ctx.message.accession = results[0].accession
    patient = ctx.forced_patient
    if patient is None:
        patient, hold = find_patient(ctx.site, who)
        if hold is not None:
            return hold
    details, study_id = [], None
    for result in results:
        outcome = _apply(ctx, patient, result)
        if outcome.status == Message.Status.HELD:
            # A hold is not a refusal: the drafts of the OBRs before this one stay filed. When
            # the held message is processed again they are found by accession and updated
            # with the same report, never filed twice.
            return outcome
        details.append(outcome.detail)
        study_id = outcome.study_id or study_id
    return Outcome(patient=patient, study_id=study_id, detail=" ".join(details))


def read_results(reader: Reader) -> list[Result]:
    """Every OBR with the OBX segments that follow it (AE when there is none)."""
    names = reader.segment_names()
    if "OBR" not in names:
        raise error("An ORU^R01 needs an OBR segment (the procedure and its date).", "OBR")
    groups: list[list[int]] = []
    obx_number = 0
    for name in names:
        if name == "OBR":
            groups.append([])
        elif name == "OBX":
            obx_number += 1
            if groups:
                groups[-1].append(obx_number)
    return [_read(reader, i, obx) for i, obx in enumerate(groups, start=1)]


def _read(reader: Reader, n: int, obx_numbers: list[int]) -> Result:
    accession = (reader.value("OBR", 3, number=n) or reader.value("OBR", 18, number=n)
                 or reader.value("ORC", 3))
    if not accession:
        raise error("OBR-3 (filler order number, the accession) is empty: the tracker files each "
                    "report under its accession.", "OBR-3")
    if len(accession) > 64:
        raise error("The accession in OBR-3 is longer than 64 characters.", "OBR-3")
    raw_date = reader.value("OBR", 7, number=n) or reader.value("OBR", 22, number=n)
    study_date = parse_date(raw_date)
    if study_date is None:
        shown = f" ('{raw_date[:20]}')" if raw_date else ""
        raise error(f"OBR-7 (observation date){shown} is not an HL7 date (YYYYMMDD[HHMM]).", "OBR-7")
    lines, birads = [], None
    for number in obx_numbers:
        value_type = reader.value("OBX", 2, number=number).upper()
        code = reader.value("OBX", 3, 1, 1, number=number)
        name = reader.value("OBX", 3, 1, 2, number=number)
        if mapping.is_birads_observation(code, name):
            value = reader.value("OBX", 5, number=number)
            birads = mapping.birads_from(value)
            if birads is None:
                raise error(f"OBX {number} is a BI-RADS assessment but its value '{value[:20]}' is not a "
                            "BI-RADS category (0–6, 4A–4C).", f"OBX-5 ({number})")
        elif value_type in TEXT_TYPES:
            lines.append(reader.text("OBX", 5, number=number))
    return Result(number=n, accession=accession, placer=reader.value("OBR", 2, number=n),
                  study_date=study_date, code=reader.value("OBR", 4, 1, 1, number=n),
                  procedure_text=reader.value("OBR", 4, 1, 2, number=n),
                  section=reader.value("OBR", 24, number=n),
                  result_status=reader.value("OBR", 25, number=n).upper(),
                  report_text="\n".join(line for line in lines if line is not None).strip(),
                  birads=birads)


def procedure(result: Result) -> tuple[str, str | None]:
    """(modality, laterality or None) of an OBR, from the admins' procedure codes first."""
    mapped = procedure_codes().get(result.code) if result.code else None
    if mapped is not None:
        return mapped.modality, (mapped.laterality or mapping.laterality_from_text(result.procedure_text))
    modality = mapping.modality_from(section=result.section, procedure_text=result.procedure_text)
    if modality is None:
        raise error(f"Procedure '{result.code or result.procedure_text or 'empty'}' (OBR-4) is not a "
                    "mammogram, MRI or ultrasound the tracker knows: an administrator adds its code under "
                    "Hospital feeds › Procedure codes, then processes the message again.", "OBR-4")
    return modality, mapping.laterality_from_text(result.procedure_text)


def _apply(ctx, patient: Patient, result: Result) -> Outcome:
    if result.result_status in ("X", "D"):
        return Outcome(detail=f"OBR {result.number}: the result was cancelled ({result.result_status}); "
                              "nothing filed.")
    modality, laterality = procedure(result)
    study = unique_row(ImagingStudy.objects.select_for_update().filter(patient=patient,
                                                                       accession=result.accession))
    if study is not None and _newer_report_applied(ctx, patient, result.accession):
        return Outcome(study_id=study.id, detail=f"OBR {result.number}: older than the report already "
                                                 "filed (MSH-7): kept, not applied.")
    if study is not None and study.is_final:
        if study.report_text.strip() == result.report_text:
            return Outcome(study_id=study.id, detail=f"OBR {result.number}: same report as the signed study.")
        return Outcome.held(Message.HoldReason.STUDY_SIGNED,
                            f"Accession {result.accession}: the report changed after the study was signed; "
                            "a radiologist amends the study.", patient=patient)
    proposal = propose(result.report_text, modality)
    if laterality is None and proposal and proposal.get("laterality"):
        laterality = proposal["laterality"]
    data = {
        "accession": result.accession, "study_date": result.study_date, "modality": modality,
        "laterality": laterality or "bilateral", "report_text": result.report_text,
        "phase": _phase(patient, result.study_date),
    }
    if result.birads:
        data["birads"] = result.birads
    if study is not None and study.modality != modality:
        raise error(f"Accession {result.accession} was filed as {study.modality}; this report says "
                    f"{modality}.", "OBR-4")
    calcs, enhs = _current_findings(study)
    new = study is None
    verb = "Draft study filed" if new else "Draft study updated"
    try:
        study = study_save_draft(patient=patient, data=data, by=ctx.user, study=study,
                                 calcifications=calcs, enhancements=enhs,
                                 # read with her by `find_patient`, and the accession above
                                 surgery_date=getattr(patient, "first_surgery", UNREAD),
                                 accession_checked=True)
    except StudyValidationError as exc:
        raise error(*_reason(exc)) from exc
    if proposal:
        study_propose(study=study, proposal=proposal, source=f"HL7 message {ctx.message.pk}", new_draft=new)
    Order.objects.filter(Q(accession=result.accession) | Q(placer_number=result.placer, placer_number__gt=""),
                         patient=patient).update(study=study, status=Order.Status.COMPLETED,
                                                 message=ctx.message)
    return Outcome(patient=patient, study_id=study.id,
                   detail=f"{verb}: {Modality(modality).label}, accession {result.accession}.")


def _newer_report_applied(ctx, patient: Patient, accession: str) -> bool:
    if ctx.header.message_time is None:
        return False
    return Message.objects.filter(patient=patient, accession=accession, message_type="ORU^R01",
                                  status=Message.Status.PROCESSED,
                                  message_time__gt=ctx.header.message_time).exists()


def _current_findings(study: ImagingStudy | None) -> tuple[list[dict], list[dict]]:
    """A draft's findings as rows, so an updated report keeps what a person entered."""
    if study is None:
        return [], []
    calcs = [{f: getattr(c, f) for f in CALC_FIELDS} for c in study.calcifications.all()]
    enhs = [{f: getattr(e, f) for f in ENH_FIELDS} for e in study.enhancements.all()]
    return calcs, enhs


def _phase(patient: Patient, study_date) -> str:
    if not hasattr(patient, "first_surgery"):  # chosen in the queue: read her dates now
        patient = Patient.objects.annotate(**TREATMENT_DATES).get(pk=patient.pk)
    surgeries = [patient.first_surgery] if patient.first_surgery else []
    return mapping.phase_for(study_date, surgery_dates=surgeries, nac_start=patient.nac_start,
                             nac_end=patient.nac_end)


def _reason(exc: StudyValidationError) -> tuple[str, str]:
    parts, where = [], ""
    for field, messages in exc.study_errors.items():
        location = OBR_FIELD.get(field, "")
        where = where or location
        parts.append(f"{location or field}: {' '.join(messages)}")
    parts.extend(exc.non_field)
    return "; ".join(parts) or "The study is not valid.", where
