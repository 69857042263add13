"""A hung broker (accepts connections, never answers) must not hold up a request: signing
or amending a study answers at once, the study is saved, and the outbox keeps the work
for its sweep."""

import socket
import threading
import time

import pytest
from django.urls import reverse

from imaging.vocabulary import StudyStatus
from outbox.models import Event
from tests.celery_support import reset_producer_pool
from tests.imaging.factories import CalcificationFindingFactory, ImagingStudyFactory
from tests.patients.factories import PatientFactory
from tracker.celery import app

pytestmark = pytest.mark.django_db
# Connect and command timeouts of the settings (2 s and 3 s), with room for a slow machine.
QUICK = 8.0


@pytest.fixture
def hung_broker():
    """A TCP server that accepts every connection and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    old = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    reset_producer_pool()
    yield
    app.conf.broker_url = old
    reset_producer_pool()
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_sign_and_amend_answer_quickly_when_redis_hangs(
        client, site, radiologist, hung_broker, django_capture_on_commit_callbacks):
    patient = PatientFactory(site=site)
    study = ImagingStudyFactory(patient=patient)
    CalcificationFindingFactory(study=study)
    client.force_login(radiologist)

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("study-sign", kwargs={"uuid": study.uuid}))
    assert response.status_code == 302
    assert time.monotonic() - started < QUICK
    study.refresh_from_db()
    assert study.status == StudyStatus.FINAL

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/studies/{study.uuid}/amend/",
                               {"reason": "Re-measured", "birads": "3"},
                               content_type="application/json")
    assert response.status_code == 200, response.content
    assert time.monotonic() - started < QUICK
    # Nothing was queued, nothing is lost: the events wait for the outbox sweep.
    assert Event.objects.filter(patient_id=patient.id, processed_at__isnull=True).count() == 2
