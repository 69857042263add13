"""The daily beat task on a REAL Celery worker against REAL Redis: one digest email.

Uses its own redis-server and a `celery -A tracker worker` subprocess on the test
database (tests/celery_support.py); email goes to files.
"""

import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from surveillance.models import Digest
from surveillance.schedule import add_months
from surveillance.tasks import daily_sweep_and_digest
from tests.patients.factories import PatientFactory, SurgeryFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(workers):
    """One worker; email goes to files in `workers.mail_dir`."""
    workers.start()
    return workers.mail_dir, workers.logs[0]


def test_beat_task_on_a_real_worker_sends_one_digest_email(site, coordinator, worker):
    mail_dir, log = worker
    today = date.today()
    for _ in range(3):
        patient = PatientFactory(site=site, date_of_birth=date(1955, 6, 1))
        # The 4-month exam is due in 20 days: it became due 10 days ago, within the sweep's
        # catch-up window, so today's sweep reports it.
        SurgeryFactory(patient=patient, date=add_months(today + timedelta(days=20), -4), laterality="right")
    daily_sweep_and_digest.delay()
    daily_sweep_and_digest.delay()  # beat firing twice
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and log.read_text().count("succeeded") < 2:
        time.sleep(0.3)
    assert log.read_text().count("succeeded") == 2, log.read_text()[-3000:]
    digest = Digest.objects.get(user=coordinator)
    files = list(mail_dir.glob("*"))
    assert digest.status == "sent", (digest.status, digest.content, log.read_text()[-2000:])
    assert len(files) == 1 and files[0].read_text().count("Subject: Surveillance digest") == 1


def test_a_fanned_out_sweep_continues_once_on_a_real_worker(site, coordinator, worker, monkeypatch):
    """Plans in chunks of one patient, each chunk a task (one of them delivered twice):
    the last chunk done continues the sweep, which sends the digest once."""
    from surveillance.models import PatientPlan, PlanFanOut, ScheduledItem, SweepRun
    from surveillance.services import fan_out
    from surveillance.tasks import generate_plan_chunk

    mail_dir, log = worker
    today = date.today()
    monkeypatch.setattr(fan_out, "FAN_OUT_CHUNK", 1)
    monkeypatch.setattr(fan_out, "FAN_OUT_MIN_CHUNKS", 1)
    patients = [PatientFactory(site=site, date_of_birth=date(1955, 6, 1)) for _ in range(3)]
    for patient in patients:
        SurgeryFactory(patient=patient, date=add_months(today + timedelta(days=20), -4), laterality="right")
    ScheduledItem.objects.all().delete()  # as a bulk import leaves them: no plans yet
    PatientPlan.objects.all().delete()
    chunk_ids = fan_out.plans_fan_out(as_of=today).chunk_ids
    assert len(chunk_ids) == 3
    for chunk_id in [*chunk_ids, chunk_ids[0]]:
        generate_plan_chunk.delay(chunk_id)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and log.read_text().count("succeeded") < 5:
        time.sleep(0.3)
    assert log.read_text().count("succeeded") == 5, log.read_text()[-3000:]  # 4 chunk tasks + the sweep
    assert PatientPlan.objects.filter(patient__in=patients).count() == 3
    assert PlanFanOut.objects.get().continued_at is not None
    run = SweepRun.objects.get()
    assert run.finished_at is not None and run.counts["newly_due"] == 3
    assert Digest.objects.get(user=coordinator).status == "sent"
    assert len(list(mail_dir.glob("*"))) == 1
