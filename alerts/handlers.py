"""What the alerts app does with outbox events: evaluate the patient's rules again."""

from outbox.handlers import handles
from outbox.models import Event

from . import evaluation

# Why an alert the history no longer supports was superseded, as the radiologist reads it.
STALE_REASONS: dict[str, str] = {
    Event.Kind.STUDY_FINALIZED: "No longer supported by the signed history once another study "
                                "was signed (its date places it before this alert's study).",
    Event.Kind.STUDY_AMENDED: "No longer supported by the signed history after a study was amended.",
    Event.Kind.PATIENTS_MERGED: "No longer supported by the signed history after two records of "
                                "the patient were merged.",
}


@handles(Event.Kind.STUDY_FINALIZED, Event.Kind.STUDY_AMENDED, Event.Kind.PATIENTS_MERGED)
def evaluate_after_signing(event: Event) -> None:
    evaluation.test_slow_evaluation_hook()
    evaluation.evaluate_patient(event.patient_pk, reason=STALE_REASONS.get(
        event.kind, evaluation.STALE_AFTER_CHANGE))
