"""What the surveillance app does with outbox events: keep each plan and its matches current.

Whoever changes the clinical data (clinic pages, API, imports) writes the event in the same
transaction (`patients.services`, `imaging.services`); these handlers run after commit in
a worker, or in the outbox sweep when the broker was down.
"""

from core.tasks import enqueue
from outbox.handlers import handles
from outbox.models import Event

from .services.matching import match_patients, study_sync, visit_sync
from .services.plans import plan_regenerate


@handles(Event.Kind.ANCHORS_CHANGED, Event.Kind.PATIENTS_MERGED)
def rebuild_plan(event: Event) -> None:
    plan_regenerate(event.patient_pk)


@handles(Event.Kind.STUDY_FINALIZED, Event.Kind.STUDY_AMENDED)
def match_study(event: Event) -> None:
    study_sync(event.object_pk)


@handles(Event.Kind.VISIT_RECORDED)
def match_visit(event: Event) -> None:
    visit_sync(event.object_pk)


@handles(Event.Kind.STUDY_VOIDED)
def unmatch_voided_study(event: Event) -> None:
    # The items it fulfilled are pending again; the plan is rebuilt (its breast composition
    # may have been the risk flag) and matched over the studies that remain.
    study_sync(event.object_pk)
    plan_regenerate(event.patient_pk)


@handles(Event.Kind.VISIT_VOIDED)
def unmatch_voided_visit(event: Event) -> None:
    visit_sync(event.object_pk)
    match_patients([event.patient_pk])


@handles(Event.Kind.PROTOCOL_CHANGED)
def refresh_plans(event: Event) -> None:
    # Every plan on the protocol, in chunks on the workers rather than in this event's
    # transaction; the daily sweep refreshes stale plans too, so a lost task only delays.
    from .tasks import refresh_stale_plans

    enqueue(refresh_stale_plans)
