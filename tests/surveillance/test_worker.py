"""The daily beat task on a REAL Celery worker against REAL Redis: one digest email.

Uses its own redis-server (tests/celery_support.py) and a `celery -A tracker worker`
subprocess on the test database; email goes to files.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection

from surveillance.models import Digest
from surveillance.schedule import add_months
from surveillance.tasks import daily_sweep_and_digest
from tests.celery_support import database_url
from tests.conftest import need
from tests.patients.factories import PatientFactory, SurgeryFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path, redis_server):
    need(connection.vendor != "sqlite" or "memory" not in str(connection.settings_dict["NAME"]),
         "the SQLite test database must be a file the worker can open")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = tmp_path / "worker.log"
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "tracker.settings", "DATABASE_URL": database_url(),
                        "REDIS_URL": redis_server.url, "EMAIL_URL": f"filemail:///{mail_dir}",
                        "CELERY_TASK_ALWAYS_EAGER": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool", "solo", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", "surveillance@%h",
         "--queues", "celery"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None and "ready." in log.read_text(), log.read_text()[-3000:]
        yield mail_dir, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)


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
