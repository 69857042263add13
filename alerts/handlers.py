"""What the alerts app does with outbox events: evaluate the patient's rules again."""

from outbox.handlers import handles
from outbox.models import Event

from . import evaluation


@handles(Event.Kind.STUDY_FINALIZED, Event.Kind.STUDY_AMENDED)
def evaluate_after_signing(event: Event) -> None:
    evaluation.test_slow_evaluation_hook()
    evaluation.evaluate_patient(event.patient_pk)
