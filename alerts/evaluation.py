"""Evaluation: a patient's history through the rules into alerts.

`evaluate_patient` is idempotent: every decision names its triggering study, and
`alert_raise` creates each (patient, rule, breast, study) alert once; alerts the history no
longer supports are superseded (`alerts.services.alerts_sync`). The cohort
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
from imaging.history import load_histories, load_history, patients_filter
from patients.models import Patient

from .models import LIVE_STATES, SURVEILLANCE_RULES, Alert, AlertSettings, AlertState, Reevaluation
from .notifications.alerts import notifications_create_for_many
from .rules import Decision, Thresholds, evaluate
from .services import alerts_raise_many, alerts_sync, resolved_keys

logger = logging.getLogger(__name__)


STALE_AFTER_CHANGE = "No longer supported by the signed history after it changed."
STALE_AFTER_REEVALUATION = ("No longer supported by the signed history and the current "
                            "thresholds (full re-evaluation).")


def evaluate_patient(patient_id: int, *, thresholds: Thresholds | None = None,
                     reason: str = STALE_AFTER_CHANGE) -> list[Alert]:
    """Bring the patient's imaging alerts in step with her signed history (`alerts_sync`):
    raise what holds, supersede what no longer does. Returns the alerts newly raised.

    Each new alert and its notification rows are written in one transaction, so an
    alert is never left without its notifications; emails go out after commit.
    """
    try:
        history = load_history(patient_id)
    except KeyError:
        return []  # the patient was deleted since the work was queued
    synced = alerts_sync(history=history, reason=reason,
                         thresholds=thresholds or AlertSettings.current().thresholds())
    if synced.created:
        logger.info("patient %s: %d new alert(s): %s", patient_id, len(synced.created),
                    ", ".join(f"#{a.pk} {a.rule}" for a in synced.created))
    return synced.created


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
    imaging alerts in one query. A patient whose alerts only gain new decisions has them
    written with the chunk's (`_raise_new`); a patient with an alert to supersede,
    reinstate or reword goes through `alerts_sync`. Returns (created, failed).

    A patient whose rules fail is counted and skipped; a failing write raises, and
    `reevaluate_chunk` then evaluates the chunk one patient at a time.
    """
    histories = load_histories(patient_ids)
    alerts: dict[int, dict[str, Alert]] = {}
    for alert in (Alert.objects.filter(**patients_filter(list(histories) or [0], "patient_id"))
                  .exclude(rule__in=SURVEILLANCE_RULES).order_by()
                  .only("patient_id", "rule", "breast", "study_id", "dedup_key", "state",
                        "severity", "reason", "details")):
        alerts.setdefault(alert.patient_id, {})[alert.dedup_key] = alert
    new: list[Alert] = []
    to_sync: list[int] = []
    failed = 0
    for patient_id in patient_ids:
        history = histories.get(patient_id)
        if history is None:
            continue  # deleted since the chunk was made
        existing = alerts.get(patient_id, {})
        try:
            decisions = evaluate(history, thresholds, resolved_keys(existing.values()))
        except Exception:
            failed += 1
            logger.exception("re-evaluation of patient %s failed", patient_id)
            continue
        keyed = {Alert.make_dedup_key(patient_id=patient_id, rule=d.rule, breast=d.breast,
                                      trigger=d.trigger): d for d in decisions}
        if _needs_sync(existing, keyed):
            to_sync.append(patient_id)
            continue
        new += [Alert(patient_id=patient_id, rule=d.rule, severity=d.severity, breast=d.breast,
                      study_id=d.study_id, dedup_key=key, reason=d.reason, details=d.details)
                for key, d in keyed.items() if key not in existing]
    created = len(_raise_new(new)) if new else 0
    for patient_id in to_sync:
        created += len(alerts_sync(history=histories[patient_id], thresholds=thresholds,
                                   reason=STALE_AFTER_REEVALUATION).created)
    return created, failed


def _needs_sync(existing: dict[str, Alert], keyed: dict[str, Decision]) -> bool:
    """Whether an alert of the patient is to be superseded, reinstated or reworded."""
    for key, alert in existing.items():
        decision = keyed.get(key)
        if decision is None:
            if alert.state in LIVE_STATES:
                return True
        elif alert.state == AlertState.SUPERSEDED or (
                alert.state in LIVE_STATES
                and (alert.severity, alert.reason, alert.details)
                != (decision.severity, decision.reason, decision.details)):
            return True
    return False


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
