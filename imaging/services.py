"""Writes for imaging studies: save a draft with its findings, sign, amend, void.

Every function validates the whole study with its findings before writing anything,
so a study with one invalid finding row is not saved at all.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from core.permissions import can_draft_studies, can_sign_studies
from core.voiding import void_record
from outbox.models import Event
from outbox.services import event_write
from patients.models import Patient, Surgery

from .models import (
    STUDY_DATE_MIN,
    CalcificationFinding,
    EnhancementFinding,
    ImagingStudy,
    StudyAmendment,
    StudyProposal,
)
from .phase import phase_error, signing_error
from .vocabulary import Modality, StudyStatus, count_bin_for

STUDY_FIELDS = (
    "accession", "study_date", "modality", "phase", "laterality", "birads",
    "breast_composition", "bpe", "no_enhancement", "report_text", "lexicon_version",
)
CALC_FIELDS = (
    "group", "laterality", "morphology", "distribution", "extent_mm", "count", "count_bin",
    "quadrant", "clock", "depth", "nipple_distance_mm", "inside_tumor_bed", "clip_present",
    "observed_change",
)
ENH_FIELDS = (
    "lesion", "laterality", "lesion_type", "size_mm", "mass_shape", "mass_margin",
    "nme_distribution", "nme_pattern", "kinetics_initial", "kinetics_delayed", "quadrant",
    "clock", "depth", "nipple_distance_mm", "observed_change",
)


class StudyValidationError(ValidationError):
    """Errors of a study and its finding rows: `study`, `calcifications[i]`, `enhancements[i]`."""

    def __init__(self, study_errors: dict, calc_errors: dict[int, dict],
                 enh_errors: dict[int, dict], non_field: list[str]):
        self.study_errors = study_errors
        self.calc_errors = calc_errors
        self.enh_errors = enh_errors
        self.non_field = non_field
        flat: dict[str, list[str]] = {k: list(v) for k, v in study_errors.items()}
        for prefix, rows in (("calcifications", calc_errors), ("enhancements", enh_errors)):
            for i, errs in rows.items():
                for f, msgs in errs.items():
                    flat[f"{prefix}[{i}].{f}"] = list(msgs)
        if non_field:
            flat["__all__"] = flat.get("__all__", []) + list(non_field)
        super().__init__(flat)


def _errors_of(obj, exclude: Sequence[str], *, constraints: bool = True) -> dict[str, list[str]]:
    try:
        obj.full_clean(exclude=list(exclude), validate_constraints=constraints)
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _study_constraint_errors(study: ImagingStudy, accession_checked: bool) -> dict[str, list[str]]:
    """The study's database constraints, checked on its fields. `full_clean` would ask the
    database in a query and two savepoints for each, six statements of the ~25 the HL7 feed
    spent per report (docs/performance.md, row 9); the database still enforces them all."""
    errors: dict[str, list[str]] = {}
    if study.study_date is not None and study.study_date < STUDY_DATE_MIN:
        errors["study_date"] = ["The study date cannot be before 1900."]
    if study.accession and not accession_checked and (
            ImagingStudy.objects.filter(patient_id=study.patient_id, accession=study.accession)
            .exclude(pk=study.pk).exists()):
        errors["accession"] = ["This patient already has a study with this accession."]
    return errors


def _apply(obj, data: dict[str, Any], fields: Sequence[str]) -> None:
    for name in fields:
        if name in data:
            setattr(obj, name, data[name])


def _build_findings(study: ImagingStudy, calcifications: Sequence[dict],
                    enhancements: Sequence[dict]):
    calcs, enhs = [], []
    for row in calcifications:
        c = CalcificationFinding(study=study)
        _apply(c, row, CALC_FIELDS)
        if c.count is not None and not c.count_bin:
            c.count_bin = count_bin_for(int(c.count))
        calcs.append(c)
    for row in enhancements:
        e = EnhancementFinding(study=study)
        _apply(e, row, ENH_FIELDS)
        enhs.append(e)
    return calcs, enhs


class Unread(Enum):
    """A value the caller did not read (`study_save_draft(surgery_date=...)`)."""

    UNREAD = "unread"


UNREAD = Unread.UNREAD


def surgery_date_of(patient_id: int | None) -> date | None:
    """The date of the patient's first surgery, which starts her surveillance series."""
    if patient_id is None:
        return None
    return (Surgery.objects.filter(patient_id=patient_id).order_by("date")
            .values_list("date", flat=True).first())


def _rule_errors(study: ImagingStudy, lesions: int, signing: bool,
                 surgery_date: date | None | Unread = UNREAD) -> dict[str, list[str]]:
    """The clinical rules of a study beyond its fields: its phase agrees with its date and
    the surgery date; an MRI to be signed has a lesion or an explicit "no enhancement"."""
    errors: dict[str, list[str]] = {}
    surgery = surgery_date_of(study.patient_id) if isinstance(surgery_date, Unread) else surgery_date
    if message := phase_error(phase=study.phase, study_date=study.study_date, surgery_date=surgery):
        errors["phase"] = [message]
    if signing and (message := signing_error(modality=study.modality, lesions=lesions,
                                             no_enhancement=study.no_enhancement)):
        errors["no_enhancement"] = [message]
    return errors


def _validate(study: ImagingStudy, calcs: list, enhs: list, *, signing: bool = False,
              surgery_date: date | None | Unread = UNREAD, accession_checked: bool = False) -> None:
    # uuid: generated, never typed in; its uniqueness check was a query per save. patient:
    # the caller's row, read from the database (its existence check was a query per save).
    # The final-requires-signer constraint concerns signed_by: left to the database as before.
    study_errors = _errors_of(study, exclude=["signed_by", "created_by", "uuid", "patient"],
                              constraints=False)
    for name, messages in _study_constraint_errors(study, accession_checked).items():
        study_errors.setdefault(name, []).extend(messages)
    for name, messages in _rule_errors(study, len(enhs), signing, surgery_date).items():
        study_errors.setdefault(name, []).extend(messages)
    calc_errors = {i: e for i, c in enumerate(calcs) if (e := _errors_of(c, ["study"]))}
    enh_errors = {i: e for i, x in enumerate(enhs) if (e := _errors_of(x, ["study"]))}
    non_field: list[str] = []
    if calcs and study.modality != Modality.MG:
        non_field.append("Calcification findings belong on mammograms.")
    if enhs and study.modality != Modality.MR:
        non_field.append("Enhancement findings belong on MRI studies.")
    if enhs and study.no_enhancement:
        non_field.append("A study marked 'no enhancement' cannot have enhancement findings.")
    for label, rows, key in (("calcification group", calcs, "group"),
                             ("lesion", enhs, "lesion")):
        seen: set[tuple[str, str]] = set()
        for r in rows:
            ident = (r.laterality, getattr(r, key))
            if ident in seen:
                non_field.append(f"The {label} {ident[0]} {ident[1]} is listed twice.")
            seen.add(ident)
    for r in (*calcs, *enhs):
        if study.laterality in ("left", "right") and r.laterality and r.laterality != study.laterality:
            non_field.append(
                f"A {r.laterality} finding cannot be on a {study.laterality} study."
            )
            break
    if study_errors or calc_errors or enh_errors or non_field:
        raise StudyValidationError(study_errors, calc_errors, enh_errors, non_field)


def study_save_draft(*, patient: Patient, data: dict[str, Any], by: User,
                     calcifications: Sequence[dict] = (), enhancements: Sequence[dict] = (),
                     study: ImagingStudy | None = None, signing: bool = False,
                     surgery_date: date | None | Unread = UNREAD,
                     accession_checked: bool = False) -> ImagingStudy:
    """Create or update a draft study and replace its findings; all or nothing.

    `signing`: the caller signs it next (`study_finalize`), so the signing rules are
    checked now and a refused signature saves nothing. The HL7 feed, which files hundreds of
    reports a second, passes what it read already, in this transaction, with the patient
    locked; each is a query fewer per report: `surgery_date`, her first surgery (read with
    her for the report's phase), and `accession_checked`, true when it looked the accession
    up among her studies and found no study but `study`.

    A new study is checked before its writes begin, so a refusal leaves a caller's
    transaction as it was and the writes need no savepoint of their own: a failed write
    fails the caller's transaction (two statements fewer for each report the HL7 feed
    files, docs/performance.md row 9). An existing one is checked under its lock."""
    rules = {"signing": signing, "surgery_date": surgery_date, "accession_checked": accession_checked}
    if study is not None:
        return _update_draft(study, patient=patient, data=data, by=by, calcifications=calcifications,
                             enhancements=enhancements, rules=rules)
    study = ImagingStudy(patient=patient, created_by=by)
    calcs, enhs = _checked(study, data, calcifications, enhancements, rules)
    with transaction.atomic(savepoint=False):
        study.save()
        # A new study has no findings to delete or re-read: four queries fewer for each report
        # the HL7 feed files (docs/performance.md, item 9); the snapshot is the same.
        _insert_findings(study, calcs, enhs)
        after = _as_dict_of(study, sorted(calcs, key=lambda c: (c.laterality, c.group)),
                            sorted(enhs, key=lambda e: (e.laterality, e.lesion)))
        audit_record(action=Action.CREATE, obj=study, patient=patient, changes=study_changes({}, after),
                     actor=by)
    return study


@transaction.atomic
def _update_draft(study: ImagingStudy, *, patient: Patient, data: dict[str, Any], by: User,
                  calcifications: Sequence[dict], enhancements: Sequence[dict],
                  rules: dict[str, Any]) -> ImagingStudy:
    # Re-read under lock: the caller's copy may predate a signature.
    study = ImagingStudy.objects.select_for_update().get(pk=study.pk)
    if study.is_final:
        raise PermissionDenied("A final study can only be changed by an amendment.")
    before = study_as_dict(study)
    calcs, enhs = _checked(study, data, calcifications, enhancements, rules)
    study.save()
    _replace_findings(study, calcs, enhs)
    changes = study_changes(before, study_as_dict(study))
    if changes:
        audit_record(action=Action.UPDATE, obj=study, patient=patient, changes=changes, actor=by)
    return study


def _checked(study: ImagingStudy, data: dict[str, Any], calcifications: Sequence[dict],
             enhancements: Sequence[dict], rules: dict[str, Any]) -> tuple[list, list]:
    """Apply the form's values to `study` and build its findings; StudyValidationError if
    they break a rule."""
    _apply(study, data, STUDY_FIELDS)
    calcs, enhs = _build_findings(study, calcifications, enhancements)
    _validate(study, calcs, enhs, **rules)
    return calcs, enhs


def _replace_findings(study: ImagingStudy, calcs: list, enhs: list) -> None:
    study.calcifications.all().delete()
    study.enhancements.all().delete()
    _insert_findings(study, calcs, enhs)


def _insert_findings(study: ImagingStudy, calcs: list, enhs: list) -> None:
    for f in (*calcs, *enhs):
        f.study = study
    if calcs:
        CalcificationFinding.objects.bulk_create(calcs)
    if enhs:
        EnhancementFinding.objects.bulk_create(enhs)


@transaction.atomic
def study_finalize(*, study: ImagingStudy, by: User) -> ImagingStudy:
    """Sign a draft study; writes the outbox event that triggers alert evaluation."""
    if not can_sign_studies(by):
        raise PermissionDenied("Only a radiologist can sign a study.")
    study = ImagingStudy.objects.select_for_update().get(pk=study.pk)
    if study.is_final:
        return study  # signing twice is harmless: one signature, one evaluation
    errors = _rule_errors(study, study.enhancements.count(), signing=True)
    if errors:
        raise StudyValidationError(errors, {}, {}, [])
    study.status = StudyStatus.FINAL
    study.signed_by = by
    study.signed_at = timezone.now()
    study.full_clean(exclude=["created_by"])
    study.save()
    event_write(kind=Event.Kind.STUDY_FINALIZED, patient_id=study.patient_id, object_id=study.id)
    audit_record(action=Action.SIGN, obj=study, patient=study.patient, actor=by,
                 changes={"status": {"before": StudyStatus.DRAFT, "after": StudyStatus.FINAL}})
    return study


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _finding_rows(findings, fields: Sequence[str]) -> list[dict]:
    return [{f: _plain(getattr(x, f)) for f in fields} for x in findings]


def study_changes(before: dict, after: dict) -> dict:
    """Field-by-field before/after of two study snapshots (see `study_as_dict`)."""
    changes = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changes[key] = {"before": before.get(key), "after": after.get(key)}
    return changes


def study_as_dict(study: ImagingStudy) -> dict:
    return _as_dict_of(study, study.calcifications.all(), study.enhancements.all())


def _as_dict_of(study: ImagingStudy, calcs, enhs) -> dict:
    data = {f: _plain(getattr(study, f)) for f in STUDY_FIELDS}
    data["calcifications"] = _finding_rows(calcs, CALC_FIELDS)
    data["enhancements"] = _finding_rows(enhs, ENH_FIELDS)
    return data


@transaction.atomic
def study_amend(*, study: ImagingStudy, by: User, reason: str,
                data: dict[str, Any], calcifications: Sequence[dict],
                enhancements: Sequence[dict]) -> StudyAmendment | None:
    """Change a final study. Keeps who, when, why and the before/after of every change.

    Returns None when nothing changed (no amendment is recorded, nothing re-evaluated).
    """
    if not can_sign_studies(by):
        raise PermissionDenied("Only a radiologist can amend a final study.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the signed study is being amended."})
    study = ImagingStudy.objects.select_for_update().get(pk=study.pk)
    before = study_as_dict(study)
    _apply(study, data, STUDY_FIELDS)
    calcs, enhs = _build_findings(study, calcifications, enhancements)
    _validate(study, calcs, enhs, signing=True)
    study.save()
    _replace_findings(study, calcs, enhs)
    changes = study_changes(before, study_as_dict(study))
    if not changes:
        transaction.set_rollback(True)
        return None
    amendment = StudyAmendment.objects.create(study=study, amended_by=by, reason=reason,
                                              changes=changes)
    audit_record(action=Action.AMEND, obj=study, patient=study.patient, actor=by,
                 changes=changes | {"reason": reason})
    event_write(kind=Event.Kind.STUDY_AMENDED, patient_id=study.patient_id, object_id=study.id)
    return amendment


def can_void_study(user, study: ImagingStudy) -> bool:
    """A draft is voided by whoever may draft studies; a signed study only by a radiologist
    (who may amend it instead)."""
    return can_sign_studies(user) if study.is_final else can_draft_studies(user)


@transaction.atomic
def study_void(*, study: ImagingStudy, by: User, reason: str | None) -> ImagingStudy:
    """Void a study with a reason. A signed study is never deleted: voided, it stays in the
    patient's history (struck through, with its reason) and leaves every rule, the plan,
    the cohort and the exports; the `study_voided` event supersedes its alerts and
    re-evaluates and re-matches the patient. Voiding a voided study changes nothing."""
    if not can_void_study(by, study):
        raise PermissionDenied("Only a radiologist can void a signed study."
                               if study.is_final else "Your role cannot void this study.")
    study = ImagingStudy.all_objects.select_for_update().get(pk=study.pk)
    if not void_record(study, by=by, reason=reason):
        return study
    audit_record(action=Action.VOID, obj=study, patient=study.patient, actor=by,
                 changes={"voided": {"before": False, "after": True}, "reason": study.void_reason,
                          "status": study.status})
    event_write(kind=Event.Kind.STUDY_VOIDED, patient_id=study.patient_id, object_id=study.id)
    return study


def study_propose(*, study: ImagingStudy, proposal: dict, source: str,
                  new_draft: bool = False) -> StudyProposal:
    """Keep findings proposed from the report text with a draft (replacing earlier ones that
    nobody reviewed yet). They are shown in the study form, never written to the study.
    `new_draft`: the draft was filed in this transaction, so there is nothing to replace."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("study_propose must run in the transaction that wrote the draft")
    if study.is_final:
        raise PermissionDenied("A signed study takes no proposals.")
    values = {"proposal": proposal, "source": source[:100], "reviewed_by": None, "reviewed_at": None}
    # Update, else insert: no savepoint and no read (update_or_create costs five queries more
    # per message of the HL7 feed's ≥ 200 per second); the study row is locked by the caller.
    if not new_draft and StudyProposal.objects.filter(study=study).update(**values):
        return StudyProposal.objects.get(study=study)
    return StudyProposal.objects.create(study=study, **values)


def proposal_reviewed(*, study: ImagingStudy, by: User, summary: dict) -> None:
    """A person saved the study form over its proposal: from now on the form shows what
    they saved. The audit trail keeps which proposed values they kept or changed."""
    updated = StudyProposal.objects.filter(study=study, reviewed_at=None).update(
        reviewed_by=by, reviewed_at=timezone.now())
    if updated:
        audit_record(action=Action.UPDATE, obj=study, patient=study.patient, actor=by,
                     changes={"proposal_reviewed": summary})
