"""Reliability with a REAL Celery worker and a REAL redis-server (no eager mode).

Each test starts its own redis-server on a free port and `celery -A tracker worker`
subprocesses against it and the test database (a file for SQLite; see settings). Only
SMTP is replaced: the worker writes email to files (EMAIL_URL=filemail://...).
"""

import time

import pytest

from alerts import tasks
from alerts.models import Alert, Notification
from outbox import tasks as outbox_tasks
from outbox.models import Event
from tests.alerts.builders import calc_row, finalize_progressing, surveillance_patient
from tests.celery_support import wait_for

pytestmark = [pytest.mark.celery_worker,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

def alerts_of(patient) -> list[str]:
    return sorted(Alert.objects.filter(patient=patient).values_list("rule", flat=True))


def test_finalized_progressing_study_raises_an_alert_and_emails(site, radiologist, workers):
    workers.start()
    patient = surveillance_patient(site)
    study = finalize_progressing(patient, radiologist)  # publishes after commit
    wait_for(lambda: len(alerts_of(patient)) == 2, 30, "the alerts", workers.logs)
    assert alerts_of(patient) == ["calc_extent_increase", "calc_morphology_worse"]
    assert Event.objects.get(object_id=study.id).processed_at is not None
    wait_for(lambda: workers.emails(), 30, "the email", workers.logs)
    alert = Alert.objects.get(rule="calc_morphology_worse")
    # One email for the case: the study raised two alerts.
    assert workers.emails() == [
        f"[High] Calcification morphology worse and 1 more alert – alert #{alert.pk} at North Clinic"]
    assert Notification.objects.get().status == "sent"


def test_broker_down_saves_succeed_and_the_sweep_loses_nothing(site, radiologist, workers,
                                                               redis_server):
    workers.start()
    patients = [surveillance_patient(site) for _ in range(3)]
    redis_server.stop()
    for p in patients:
        started = time.monotonic()
        study = finalize_progressing(p, radiologist)
        assert time.monotonic() - started < 15  # the broker failure does not hang the save
        study.refresh_from_db()
        assert study.is_final
    assert Event.objects.filter(processed_at=None).count() == 3
    assert Alert.objects.count() == 0

    redis_server.start()
    outbox_tasks.sweep_outbox.delay()  # what beat sends every OUTBOX_SWEEP_SECONDS
    wait_for(lambda: Alert.objects.count() == 6, 45, "every alert after the sweep", workers.logs)
    assert [alerts_of(p) for p in patients] == [["calc_extent_increase",
                                                "calc_morphology_worse"]] * 3
    assert Event.objects.filter(processed_at=None).count() == 0
    wait_for(lambda: len(workers.emails()) == 3, 30, "three emails", workers.logs)


# Redelivery: kombu's Redis transport puts an unacknowledged message back on the queue
# once its visibility timeout has passed, but it looks for such messages only when a
# worker starts and then on every 10th tick of a 10-second timer (~100 s). The second
# worker is therefore started after the timeout (3 s here) has passed: started sooner, as
# this test did before, its first look found nothing and the redelivery came after the
# test's 90 s (it failed that way on fast, idle machines, on either database).
VISIBILITY_TIMEOUT = 3


def test_worker_killed_during_evaluation_redelivers_and_raises_once(site, radiologist, workers,
                                                                   tmp_path):
    marker = tmp_path / "evaluating"
    fast_restore = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    slow = workers.start(ALERTS_TEST_SLOW_EVALUATION=f"{marker}:120", **fast_restore)
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    wait_for(marker.exists, 30, "the evaluation to start", workers.logs)
    delivered = time.monotonic()  # the task was delivered before it started evaluating
    workers.kill(slow)  # SIGKILL mid-evaluation: its transaction never commits
    assert Alert.objects.count() == 0
    assert Event.objects.get().processed_at is None

    time.sleep(max(0.0, delivered + VISIBILITY_TIMEOUT + 1 - time.monotonic()))
    workers.start(**fast_restore)  # no sweep runs: only redelivery can raise the alerts
    wait_for(lambda: len(alerts_of(patient)) == 2 and workers.queue_drained(), 90,
             "the redelivered task", workers.logs)
    time.sleep(1)
    assert alerts_of(patient) == ["calc_extent_increase", "calc_morphology_worse"]
    assert Event.objects.get().attempts == 1
    wait_for(lambda: len(workers.emails()) == 1, 30, "the email", workers.logs)


def test_same_task_delivered_ten_times_one_alert_one_email(site, radiologist, workers):
    patient = surveillance_patient(site)
    # Morphology only (same extent): one high-severity alert.
    finalize_progressing(patient, radiologist, rows=[calc_row(extent=18)])
    row = Event.objects.get()
    for _ in range(9):
        outbox_tasks.process_event.delay(row.id)
    assert workers.redis.client().llen("celery") == 10
    workers.start(pool="threads", concurrency=4)  # deliveries race each other
    wait_for(lambda: workers.queue_drained() and Notification.objects.filter(status="sent").exists(),
             45, "ten deliveries and the email", workers.logs)
    notification = Notification.objects.get()
    for _ in range(9):
        tasks.send_notification.delay(notification.id)
    wait_for(workers.queue_drained, 30, "the repeated sends", workers.logs)
    time.sleep(1)
    assert alerts_of(patient) == ["calc_morphology_worse"]
    assert len(workers.emails()) == 1
    row.refresh_from_db()
    assert row.processed_at is not None and row.attempts == 1


def test_cohort_reevaluation_in_chunks_on_the_worker(site, radiologist, workers, capsys):
    from django.core.management import call_command

    patients = [surveillance_patient(site, years=[2016, 2017]) for _ in range(5)]
    # Written without the outbox, as if the thresholds had changed since.
    from tests.alerts.builders import progressing_draft

    draft = progressing_draft(patients[3], radiologist)
    type(draft).objects.filter(pk=draft.pk).update(status="final", signed_by=radiologist,
                                                   signed_at=draft.created_at)
    workers.start()
    call_command("reevaluate_alerts", "--chunk-size", "2", "--timeout", "60")
    out = capsys.readouterr().out
    assert "5 patients in 3 chunk(s)" in out
    assert "Done: 5 patients evaluated, 0 failed, 2 new alert(s)." in out
    assert alerts_of(patients[3]) == ["calc_extent_increase", "calc_morphology_worse"]
