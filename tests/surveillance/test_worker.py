"""The daily beat task on a REAL Celery worker against REAL Redis: one digest email.

Uses the Redis of REDIS_URL (default redis://127.0.0.1:6379/4 for this app's tests) and
a `celery -A tracker worker` subprocess on the test database; email goes to files.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import connection

from surveillance.models import Digest
from surveillance.schedule import add_months
from surveillance.tasks import daily_sweep_and_digest
from tests.conftest import need
from tests.patients.factories import PatientFactory, SurgeryFactory
from tracker.celery import app

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")


def redis_up(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def reset_producer_pool() -> None:
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(tmp_path):
    need(redis_up(REDIS_URL), f"Redis is not reachable at {REDIS_URL}")
    need(connection.vendor != "sqlite" or "memory" not in str(connection.settings_dict["NAME"]),
         "the SQLite test database must be a file the worker can open")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = tmp_path / "worker.log"
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "tracker.settings", "DATABASE_URL": database_url(),
                        "REDIS_URL": REDIS_URL, "EMAIL_URL": f"filemail:///{mail_dir}",
                        "CELERY_TASK_ALWAYS_EAGER": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool", "solo", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", "surveillance@%h",
         "--queues", "celery"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    old = app.conf.broker_url
    app.conf.broker_url = REDIS_URL
    reset_producer_pool()
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None and "ready." in log.read_text(), log.read_text()[-3000:]
        yield mail_dir, log
    finally:
        app.conf.broker_url = old
        reset_producer_pool()
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
