"""Evaluation: a patient's history through the rules into alerts.

`evaluate_patient` is idempotent: every decision names its triggering study, and
`alert_raise` creates each (patient, rule, breast, study) alert once. The cohort
re-evaluation (`reevaluate_chunk`) writes a chunk's new alerts together with
`alerts_raise_many`, deduplicated by the same key in the database, and falls back to
`evaluate_patient` one patient at a time when that fails. Signing or amending a study
reaches `evaluate_patient` through the outbox (`alerts.handlers`).
"""

import logging
import os
import time
from collections.abc import Iterator

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.receivers import audit_created
from imaging.history import PatientHistory, load_histories, load_history, patients_filter
from patients.models import Patient

from .models import Alert, AlertSettings, Reevaluation
from .notifications.alerts import notifications_create_for, notifications_create_for_many
from .rules import Thresholds, evaluate
from .services import alert_raise, alerts_raise_many

logger = logging.getLogger(__name__)


def evaluate_patient(patient_id: int, *, thresholds: Thresholds | None = None) -> list[Alert]:
    """Run every rule over the patient's history; returns the alerts newly raised.

    Each new alert and its notification rows are written in one transaction, so an
    alert is never left without its notifications; emails go out after commit.
    """
    try:
        history = load_history(patient_id)
    except KeyError:
        return []  # the patient was deleted since the work was queued
    # One query for the patient's raised alerts instead of one per decision.
    existing = set(Alert.objects.filter(patient_id=patient_id).order_by()
                   .values_list("dedup_key", flat=True))
    return _raise_decisions(history, thresholds or AlertSettings.current().thresholds(), existing)


def _raise_decisions(history: PatientHistory, thresholds: Thresholds,
                     existing: set[str] | None = None) -> list[Alert]:
    """Raise the history's decisions; keys in `existing` are known to be raised already
    (looked up at once), the others go through `alert_raise`, one transaction each."""
    patient_id = history.patient_id
    created = []
    for d in evaluate(history, thresholds):
        if existing is not None and Alert.make_dedup_key(
                patient_id=patient_id, rule=d.rule, breast=d.breast, trigger=d.trigger) in existing:
            continue
        with transaction.atomic():
            alert, new = alert_raise(patient_id=patient_id, rule=d.rule, severity=d.severity,
                                     breast=d.breast, trigger=d.trigger, reason=d.reason,
                                     study_id=d.study_id, details=d.details)
            if new:
                notifications_create_for(alert)
                created.append(alert)
    if created:
        logger.info("patient %s: %d new alert(s): %s", patient_id, len(created),
                    ", ".join(f"#{a.pk} {a.rule}" for a in created))
    return created


def test_slow_evaluation_hook() -> None:
    """Only for the fault tests: `ALERTS_TEST_SLOW_EVALUATION=<marker file>:<seconds>`
    makes evaluation announce itself in the marker file and then wait, so a test can
    SIGKILL the worker in the middle of it."""
    spec = os.environ.get("ALERTS_TEST_SLOW_EVALUATION")
    if not spec:
        return
    marker, seconds = spec.rsplit(":", 1)
    with open(marker, "a") as fh:
        fh.write(f"{os.getpid()}\n")
    time.sleep(float(seconds))


def cohort_chunks(chunk_size: int) -> Iterator[list[int]]:
    """Every patient id, in chunks of `chunk_size`."""
    ids = list(Patient.objects.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), chunk_size):
        yield ids[start:start + chunk_size]


def reevaluation_start(*, chunk_size: int, by=None) -> tuple[Reevaluation, list[list[int]]]:
    if chunk_size < 1:
        raise ValueError("The chunk size must be at least 1.")
    chunks = list(cohort_chunks(chunk_size))
    run = Reevaluation.objects.create(started_by=by, chunk_size=chunk_size,
                                      total_patients=sum(len(c) for c in chunks))
    if not chunks:
        Reevaluation.objects.filter(id=run.id).update(finished_at=timezone.now())
    return run, chunks


def reevaluate_chunk(run_id: int | None, patient_ids: list[int]) -> tuple[int, int]:
    """Evaluate each patient; one failing patient does not stop the chunk.

    Returns (alerts created, patients failed) and adds them to the run's counters.
    """
    thresholds = AlertSettings.current().thresholds()
    try:
        created, failed = _reevaluate_batch(patient_ids, thresholds)
    except Exception:
        logger.exception("batch re-evaluation of %d patients failed; one by one instead",
                         len(patient_ids))
        created = failed = 0
        for patient_id in patient_ids:
            try:
                created += len(evaluate_patient(patient_id, thresholds=thresholds))
            except Exception:
                failed += 1
                logger.exception("re-evaluation of patient %s failed", patient_id)
    if run_id is not None:
        Reevaluation.objects.filter(id=run_id).update(
            done_patients=F("done_patients") + len(patient_ids),
            failed_patients=F("failed_patients") + failed,
            alerts_created=F("alerts_created") + created)
        Reevaluation.objects.filter(id=run_id, finished_at=None,
                                    done_patients__gte=F("total_patients")).update(
            finished_at=timezone.now())
    return created, failed


def _reevaluate_batch(patient_ids: list[int], thresholds: Thresholds) -> tuple[int, int]:
    """The chunk's histories in one `load_histories` (a fixed number of queries) and its
    already-raised alerts in one query; the decisions not raised yet are written together
    (`_raise_new`), so a re-evaluation costs a few queries per chunk, and a first pass a
    few more, instead of several per patient or per alert. Returns (created, failed).

    A patient whose rules fail is counted and skipped; a failing write raises, and
    `reevaluate_chunk` then evaluates the chunk one patient at a time.
    """
    histories = load_histories(patient_ids)
    existing = set(Alert.objects.filter(**patients_filter(list(histories) or [0], "patient_id"))
                   .order_by().values_list("dedup_key", flat=True))
    new: list[Alert] = []
    failed = 0
    for patient_id in patient_ids:
        history = histories.get(patient_id)
        if history is None:
            continue  # deleted since the chunk was made
        try:
            decisions = evaluate(history, thresholds)
        except Exception:
            failed += 1
            logger.exception("re-evaluation of patient %s failed", patient_id)
            continue
        for d in decisions:
            key = Alert.make_dedup_key(patient_id=patient_id, rule=d.rule, breast=d.breast,
                                       trigger=d.trigger)
            if key not in existing:
                new.append(Alert(patient_id=patient_id, rule=d.rule, severity=d.severity,
                                 breast=d.breast, study_id=d.study_id, dedup_key=key,
                                 reason=d.reason, details=d.details))
    return len(_raise_new(new)) if new else 0, failed


@transaction.atomic
def _raise_new(alerts: list[Alert]) -> list[Alert]:
    """Insert the alerts, then the audit events and notification rows the per-alert path
    (`alert_raise`: the audit signal, `notifications_create_for`) writes for each one
    this call created, in one transaction; emails are enqueued after commit."""
    created = alerts_raise_many(alerts)
    audit_created(created)
    notifications_create_for_many(created)
    by_patient: dict[int, list[Alert]] = {}
    for alert in created:
        by_patient.setdefault(alert.patient_id, []).append(alert)
    for patient_id, raised in by_patient.items():
        logger.info("patient %s: %d new alert(s): %s", patient_id, len(raised),
                    ", ".join(f"#{a.pk} {a.rule}" for a in raised))
    return created
