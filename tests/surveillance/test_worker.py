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
