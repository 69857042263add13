"""No patient details (names, MRN, date of birth) in log messages or Celery task arguments,
over a full request cycle, a sign-off with its alert evaluation, and the daily sweep."""

import logging
from datetime import date
from unittest import mock

import pytest
from celery.app.task import Task
from django.urls import reverse

from alerts.evaluation import evaluate_patient
from outbox.models import Event
from outbox.services import event_process, events_sweep
from surveillance.tasks import daily_sweep_and_digest
from tests.imaging.factories import CalcificationFindingFactory, ImagingStudyFactory
from tests.patients.factories import PatientFactory, SurgeryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued():
    """Every task sent to the broker, recorded at the edge (nothing is sent)."""
    calls: list[tuple[str, tuple, dict]] = []

    def record(self, args=None, kwargs=None, **options):
        calls.append((self.name, tuple(args or ()), dict(kwargs or {})))

    with mock.patch.object(Task, "apply_async", autospec=True, side_effect=record), \
            mock.patch.object(Task, "delay", autospec=True,
                              side_effect=lambda self, *a, **k: record(self, a, k)):
        yield calls


def _details(patient) -> list[str]:
    dob = patient.date_of_birth
    return [patient.given_name, patient.family_name, patient.mrn, dob.isoformat(),
            dob.strftime("%d/%m/%Y"), dob.strftime("%d %b %Y"), dob.strftime("%-d %B %Y")]


def test_request_cycle_sign_off_and_sweep_log_no_patient_details(
        client, site, radiologist, caplog, enqueued, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)  # the root logger, every library
    patient = PatientFactory(site=site, given_name="Philippa", family_name="Quartermaine",
                             mrn="MRN-778899", date_of_birth=date(1961, 3, 14))
    with django_capture_on_commit_callbacks(execute=True):
        SurgeryFactory(patient=patient, date=date(2023, 1, 10), laterality="left")
        prior = ImagingStudyFactory(patient=patient, study_date=date(2023, 6, 1), final=True)
        CalcificationFindingFactory(study=prior, group="L1", laterality="left")
        study = ImagingStudyFactory(patient=patient, study_date=date(2024, 6, 1))
        CalcificationFindingFactory(study=study, group="L1", laterality="left",
                                    observed_change="increase_number")
    client.force_login(radiologist)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(patient.get_absolute_url()).status_code == 200
        response = client.post(reverse("study-sign", kwargs={"uuid": study.uuid}))
        assert response.status_code == 302
        assert client.get(reverse("study-detail", kwargs={"uuid": study.uuid})).status_code == 200
        assert client.get(reverse("alert-inbox")).status_code == 200
    for row in Event.objects.all():
        event_process(row.id)
    events_sweep()
    evaluate_patient(patient.id)
    daily_sweep_and_digest(date(2024, 9, 1).isoformat())
    assert client.get(reverse("worklist")).status_code == 200

    assert caplog.records, "nothing was logged: the capture is not working"
    for record in caplog.records:
        message = record.getMessage()
        for detail in _details(patient):
            assert detail not in message, f"{record.name}: {message!r} holds {detail!r}"

    assert enqueued, "no task was enqueued: the edge mock saw nothing"
    for name, args, kwargs in enqueued:
        for value in (*args, *kwargs.values()):
            flat = value if isinstance(value, (list, tuple)) else [value]
            for v in flat:
                assert v is None or isinstance(v, int) or (
                    isinstance(v, str) and len(v) == 10 and v[4] == "-"), (name, args, kwargs)
            for detail in _details(patient):
                assert detail not in repr(value), (name, args, kwargs)


def test_gunicorn_logs_hold_no_search_terms_and_no_calendar_tokens(db, tmp_path):
    """The real gunicorn with the project's gunicorn.conf.py: the access log and the
    error log (Django's "Not Found: …" lines) after a search for a patient by name and MRN
    and a request for a calendar feed."""
    import os
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from tests.celery_support import database_url, free_port, wait_for
    from tests.tracker.test_security import ROOT

    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"} | {
        "DATABASE_URL": database_url()}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tracker.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--access-logfile", "-", "--error-logfile", "-"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    token = "s3cr3t-Calendar-Token_0123456789abcdef"
    urls = ["/patients/?q=Quartermaine+MRN-778899&site=north", f"/worklist/calendar/{token}.ics",
            "/api/patients/?search=Philippa"]

    def get(path: str) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                         headers={"Referer": f"http://127.0.0.1:{port}/patients/?q=Philippa"})
        try:
            return urllib.request.urlopen(request, timeout=10).status
        except urllib.error.HTTPError as exc:
            return exc.code

    def up() -> bool:
        try:
            return get("/login/") == 200
        except OSError:
            return False

    try:
        wait_for(up, 60, "gunicorn", [log])
        assert [get(url) for url in urls] == [200, 404, 401]  # the search: to the login page
    finally:
        server.terminate()
        server.wait(10)
    text = log.read_text()
    assert "/worklist/calendar/[redacted].ics" in text and '"GET /patients/ HTTP/1.1" 302' in text
    for secret in ("Quartermaine", "MRN-778899", "Philippa", token, "q="):
        assert secret not in text, f"{secret!r} in the gunicorn log:\n{text}"
