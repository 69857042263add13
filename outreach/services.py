"""Writing letters: one at a time (a patient's letters page) or a batch from the worklist.

Each letter is rendered once, stored as printed (`Letter.html`), recorded in the contact log
("letter sent", with what was sent and the reference) in the same transaction, and audited.
A patient letter needs her consent to write and a postal address; a letter to her GP needs
her consent to write to the GP and the GP's address: without them the letter is refused
with the reason (`LetterRefused`), and a batch lists who was left out and why.
"""

import hashlib
from collections.abc import Sequence
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from core.permissions import can_work_worklist
from imaging.models import ImagingStudy
from imaging.vocabulary import StudyStatus
from patients.models import ContactDetails, Patient, Site
from patients.vocabulary import PreferredLanguage
from surveillance.models import ContactLog, ScheduledItem
from surveillance.selectors import item_label

from . import letters as L
from .models import Letter, LetterBatch, LetterKind, LetterTemplate

Recipient = Letter.Recipient
KIND_LABELS = dict(LetterKind.choices)
LANGUAGE_LABELS = dict(PreferredLanguage.choices)


class LetterRefused(ValidationError):
    """The letter cannot be written; the message says why (for the user, no patient detail)."""


def letterhead_for(site: Site, template: LetterTemplate | None) -> L.Letterhead:
    """The site's letterhead, or a plain one with the site's name until an admin writes it."""
    if template is None:
        return L.Letterhead(name=site.name, signatory_name=f"{site.name} surveillance team")
    return L.Letterhead(
        name=template.letterhead_name,
        address_lines=tuple(template.address_lines),
        phone=template.phone,
        email=template.email,
        opening_hours=template.opening_hours,
        signatory_name=template.signatory_name,
        signatory_title=template.signatory_title,
        footer=template.footer,
        version=template.version,
    )


def _template(site: Site) -> LetterTemplate | None:
    return LetterTemplate.objects.filter(site=site).first()


def _contact(patient: Patient) -> ContactDetails | None:
    return ContactDetails.objects.filter(patient=patient).first()


def _exam(item: ScheduledItem, today: date) -> L.Exam:
    overdue = item.lost_to_follow_up or item.state(today) == "overdue"
    return L.Exam(kind=item.kind, laterality=item.laterality, due_date=item.due_date, overdue=overdue)


def _patient_person(patient: Patient, contact: ContactDetails | None) -> L.Person:
    return L.Person(name=patient.full_name, address_lines=tuple(contact.address_lines) if contact else ())


def _check_patient_letter(contact: ContactDetails | None) -> None:
    if contact is None:
        raise LetterRefused("No contact details are recorded: record her address and consent first.")
    if not contact.may_write:
        raise LetterRefused("She has not agreed to receive letters (contact details, consent).")
    if not contact.has_address:
        raise LetterRefused("No postal address is recorded.")


def _check_gp_letter(contact: ContactDetails | None) -> None:
    if contact is None or not contact.gp_name or not contact.gp_address:
        raise LetterRefused("No GP name and address are recorded.")
    if not contact.may_write_to_gp:
        raise LetterRefused("She has not agreed to our writing to her GP.")


def _pending(items: Sequence[ScheduledItem], patient: Patient) -> list[ScheduledItem]:
    if not items:
        raise LetterRefused("Choose the exams the letter is about.")
    if any(i.patient_id != patient.id for i in items):
        raise LetterRefused("These exams are not all this patient's.")
    if any(i.status != ScheduledItem.Status.PENDING for i in items):
        raise LetterRefused("Some of these exams are already done or cancelled.")
    return sorted(items, key=lambda i: (i.due_date, i.id))


def _latest_surgery_date(patient: Patient) -> date | None:
    return patient.surgeries.order_by("-date").values_list("date", flat=True).first()


def _next_exam(patient: Patient, today: date) -> L.Exam | None:
    item = (
        ScheduledItem.objects.filter(
            patient=patient, status=ScheduledItem.Status.PENDING, due_date__gte=today
        )
        .order_by("due_date", "id")
        .first()
    )
    return _exam(item, today) if item else None


def _study_result(study: ImagingStudy) -> L.StudyResult:
    return L.StudyResult(
        modality=study.modality,
        study_date=study.study_date,
        birads=study.birads,
        breast_composition=study.breast_composition,
    )


def _summary(kind: str, language: str, exams: list[ScheduledItem], study: ImagingStudy | None) -> str:
    what = KIND_LABELS[kind]
    if study is not None:
        what += f": {study.get_modality_display()} of {study.study_date:%d %b %Y}, BI-RADS {study.birads}"
    elif exams:
        what += ": " + "; ".join(f"{item_label(i)} due {i.due_date:%d %b %Y}" for i in exams)
    return f"{what} ({LANGUAGE_LABELS.get(language, language)})"[:300]


@transaction.atomic
def letter_create(
    *,
    kind: str,
    patient: Patient,
    by: AbstractBaseUser,
    items: Sequence[ScheduledItem] = (),
    study: ImagingStudy | None = None,
    batch: LetterBatch | None = None,
    today: date | None = None,
) -> Letter:
    """Write one letter, store it as printed and log it against the items it is about.

    kinds: due reminder / overdue recall (`items`: her pending exams), result (`study`: a
    signed study of hers with an assessment), GP (`items`: her outstanding exams, may be
    empty; her latest signed study is quoted).
    """
    if not can_work_worklist(by):
        raise PermissionDenied("Only coordinators, clinic staff and admins write letters.")
    today = today or timezone.localdate()
    contact = _contact(patient)
    template = _template(patient.site)
    head = letterhead_for(patient.site, template)
    exams: list[ScheduledItem] = []
    inputs: dict = {"kind": kind}
    if kind == LetterKind.GP:
        _check_gp_letter(contact)
        language = template.gp_letter_language if template else "en-gb"
        exams = sorted(items, key=lambda i: (i.due_date, i.id))
        study = (
            ImagingStudy.objects.filter(patient=patient, status=StudyStatus.FINAL)
            .exclude(birads="")
            .order_by("-study_date", "-id")
            .first()
        )
    else:
        _check_patient_letter(contact)
        language = contact.preferred_language
    if kind in (LetterKind.DUE_REMINDER, LetterKind.OVERDUE_RECALL):
        exams = _pending(items, patient)
    elif kind == LetterKind.RESULT:
        if study is None or study.patient_id != patient.id:
            raise LetterRefused("Choose one of her signed studies.")
        if study.status != StudyStatus.FINAL:
            raise LetterRefused("Only a signed study has a result to send.")
        if not study.birads:
            raise LetterRefused("This study has no BI-RADS assessment to explain.")
        exams = list(study.scheduled_items.all())
    elif kind != LetterKind.GP:
        raise LetterRefused("Unknown kind of letter.")

    letter = Letter(
        patient=patient,
        kind=kind,
        language=language,
        created_by=by,
        batch=batch,
        recipient=Recipient.GP if kind == LetterKind.GP else Recipient.PATIENT,
        study=study if kind in (LetterKind.RESULT, LetterKind.GP) else None,
        template_version=head.version,
    )
    patient_person = _patient_person(patient, contact)
    recipient = (
        L.Person(
            name=contact.gp_name,
            address_lines=tuple(
                ([contact.gp_practice] if contact.gp_practice else []) + contact.gp_address_lines
            ),
        )
        if kind == LetterKind.GP
        else patient_person
    )
    attempts = ContactLog.objects.filter(item__in=exams).count() if kind == LetterKind.GP and exams else 0
    document = L.LetterInput(
        kind=kind,
        language=language,
        letterhead=head,
        recipient=recipient,
        patient=patient_person,
        mrn=patient.mrn,
        date_of_birth=patient.date_of_birth,
        reference=letter.reference,
        today=today,
        exams=[_exam(i, today) for i in exams] if kind != LetterKind.RESULT else (),
        study=_study_result(study) if letter.study is not None else None,
        next_exam=_next_exam(patient, today) if kind == LetterKind.RESULT else None,
        surgery_date=_latest_surgery_date(patient) if kind == LetterKind.GP else None,
        attempts=attempts,
        gp_greeting=contact.gp_name,
    )
    letter.html = L.render_letter(document)
    letter.sha256 = hashlib.sha256(letter.html.encode()).hexdigest()
    letter.summary = _summary(kind, language, exams if kind != LetterKind.RESULT else [], letter.study)
    letter.inputs = {
        **inputs,
        "language": language,
        "template_version": head.version,
        "items": [str(i.uuid) for i in exams],
        "study": str(study.uuid) if study else None,
        "today": today.isoformat(),
    }
    letter.full_clean(exclude=["patient", "created_by", "batch", "study"])
    letter.save()
    letter.items.set(exams)
    note = f"{letter.summary}. Letter {letter.reference}" + (" to her GP" if kind == LetterKind.GP else "")
    logs = ContactLog.objects.bulk_create(
        [
            ContactLog(item=i, patient=patient, outcome=ContactLog.Outcome.LETTER_SENT, note=note, by=by)
            for i in exams
        ]
        or [ContactLog(item=None, patient=patient, outcome=ContactLog.Outcome.LETTER_SENT, note=note, by=by)]
    )
    letter.contacts.set(logs)
    audit_record(
        action=Action.EXPORT,
        obj=letter,
        patient=patient,
        changes={"letter": kind, "language": language, "reference": letter.reference},
    )
    return letter


@transaction.atomic
def letters_for_worklist(
    *,
    items: Sequence[ScheduledItem],
    by: AbstractBaseUser,
    gp_letters: bool = False,
    today: date | None = None,
) -> LetterBatch:
    """One letter per patient for the ticked items, printed together (`LetterBatch`).

    A patient with an overdue (or lost) item gets a recall listing her ticked items, one with
    due items only a reminder; with `gp_letters`, the GP of each patient with an overdue item
    gets a letter too. A patient who cannot get a letter is listed with the reason; the
    others' letters are written all the same.
    """
    if not can_work_worklist(by):
        raise PermissionDenied("Only coordinators, clinic staff and admins write letters.")
    today = today or timezone.localdate()
    batch = LetterBatch.objects.create(created_by=by)
    by_patient: dict[int, list[ScheduledItem]] = {}
    for item in items:
        by_patient.setdefault(item.patient_id, []).append(item)
    order = sorted(by_patient.values(), key=lambda its: (min(i.due_date for i in its), its[0].patient_id))
    skipped = []
    for patient_items in order:
        patient = patient_items[0].patient
        overdue = any(_exam(i, today).overdue for i in patient_items)
        kind = LetterKind.OVERDUE_RECALL if overdue else LetterKind.DUE_REMINDER
        wanted = [(kind, Recipient.PATIENT)] + (
            [(LetterKind.GP, Recipient.GP)] if gp_letters and overdue else []
        )
        for letter_kind, recipient in wanted:
            try:
                with transaction.atomic():
                    letter_create(
                        kind=letter_kind,
                        patient=patient,
                        by=by,
                        items=patient_items,
                        batch=batch,
                        today=today,
                    )
            except LetterRefused as exc:
                skipped.append(
                    {"patient": str(patient.uuid), "recipient": recipient, "reason": exc.messages[0]}
                )
    batch.skipped = skipped
    batch.save(update_fields=["skipped"])
    return batch


@transaction.atomic
def letter_template_save(*, template: LetterTemplate, by: AbstractBaseUser) -> LetterTemplate:
    """Save a site's letterhead and signature; the version goes up, letters already sent
    keep the one they were printed with."""
    template.full_clean()
    if template.pk:
        template.version = (
            LetterTemplate.objects.filter(pk=template.pk).values_list("version", flat=True).first() or 0
        ) + 1
    template.updated_by = by
    template.save()
    return template
