"""Reads for the letters pages."""

from django.db.models import QuerySet

from imaging.models import ImagingStudy
from imaging.vocabulary import StudyStatus
from patients.models import Patient
from surveillance.models import ContactLog, ScheduledItem

from .models import Letter, LetterBatch


def patient_letters(patient: Patient) -> QuerySet[Letter]:
    return patient.letters.select_related("created_by", "study").defer("html").order_by("-created_at", "-id")


def letter_options(patient: Patient) -> tuple[list[ScheduledItem], list[ImagingStudy]]:
    """Her pending exams up to a year ahead, and her signed studies with an assessment."""
    items = list(
        patient.scheduled_items.filter(status=ScheduledItem.Status.PENDING).order_by("due_date", "id")[:12]
    )
    studies = list(
        ImagingStudy.objects.filter(patient=patient, status=StudyStatus.FINAL)
        .exclude(birads="")
        .order_by("-study_date", "-id")[:20]
    )
    return items, studies


def patient_letter_contacts(patient: Patient) -> QuerySet[ContactLog]:
    return (
        ContactLog.objects.filter(patient=patient, outcome=ContactLog.Outcome.LETTER_SENT)
        .select_related("by", "item")
        .order_by("-at", "-id")[:50]
    )


def batch_letters(batch: LetterBatch) -> list[Letter]:
    """The batch's letters in the order they were written (the worklist's order)."""
    return list(batch.letters.select_related("patient", "patient__site").order_by("id"))
