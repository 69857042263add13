"""What the alerts app does with outbox events: evaluate the patient's rules again."""

from outbox.handlers import handles
from outbox.models import Event

from . import evaluation
from .models import Alert
from .services import alerts_supersede

# Why an alert the history no longer supports was superseded, as the radiologist reads it.
STALE_REASONS: dict[str, str] = {
    Event.Kind.STUDY_FINALIZED: "No longer supported by the signed history once another study "
                                "was signed (its date places it before this alert's study).",
    Event.Kind.STUDY_AMENDED: "No longer supported by the signed history after a study was amended.",
    Event.Kind.PATIENTS_MERGED: "No longer supported by the signed history after two records of "
                                "the patient were merged.",
}
VOIDED_STUDY = "The study that raised it was voided: it no longer takes part in any rule."
CHANGED_ANCHORS = ("No longer supported by the signed history once the treatment dates (surgery, "
                   "NAC, radiotherapy) were corrected.")


@handles(Event.Kind.STUDY_FINALIZED, Event.Kind.STUDY_AMENDED, Event.Kind.PATIENTS_MERGED)
def evaluate_after_signing(event: Event) -> None:
    evaluation.test_slow_evaluation_hook()
    evaluation.evaluate_patient(event.patient_pk, reason=STALE_REASONS.get(
        event.kind, evaluation.STALE_AFTER_CHANGE))


@handles(Event.Kind.STUDY_VOIDED)
def supersede_voided_study(event: Event) -> None:
    """A voided study leaves every rule: the alerts it raised are superseded, and the
    patient's rules run again over the studies that remain."""
    alerts_supersede(Alert.objects.filter(study_id=event.object_pk), reason=VOIDED_STUDY)
    evaluation.evaluate_patient(event.patient_pk, reason=VOIDED_STUDY)


@handles(Event.Kind.ANCHORS_CHANGED)
def evaluate_after_treatment_change(event: Event) -> None:
    """Surgery, NAC and radiotherapy dates are inputs of the rules (post-surgical and
    post-NAC comparisons): a correction or a void re-evaluates the patient."""
    evaluation.evaluate_patient(event.patient_pk, reason=CHANGED_ANCHORS)
