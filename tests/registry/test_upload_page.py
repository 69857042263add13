"""The registry import page: upload, checked by the task, report, confirm, imported.

The task runs in-process here (Celery eager, after the request's commit); a real worker
against Redis runs it in tests/registry/test_upload_worker.py.
"""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patients.models import Patient
from registry.models import RegistryUpload
from tests.patients.factories import PASSWORD, SiteFactory, example_signers
from tracker.celery import app

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "registry-example.csv"
URL = "/registry/import/"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture(autouse=True)
def uploads_dir(settings, tmp_path):
    settings.REGISTRY_UPLOAD_DIR = str(tmp_path / "imports")
    return tmp_path / "imports"


@pytest.fixture
def eager():
    """Queued tasks run in-process."""
    old, app.conf.task_always_eager = app.conf.task_always_eager, True
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def run_tasks(eager, django_capture_on_commit_callbacks):
    """Requests whose queued tasks run in-process once the request commits."""

    def post(client, url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, data or {})
        if response.status_code == 302:  # to the upload's page, once the task has run
            page = client.get(response["Location"])
            page.location = response["Location"]
            return page
        return response
    return post


def test_only_admins_see_the_page(client, coordinator, site_admin):
    assert client.get(URL).status_code == 302  # to the login page
    assert login(client, coordinator).get(URL).status_code == 403
    assert login(client, site_admin).get(URL).status_code == 200


def test_dry_run_then_confirm_then_same_file_again(client, site_admin, uploads_dir, run_tasks):
    SiteFactory(code="south").members.add(site_admin)
    example_signers()
    login(client, site_admin)
    page = run_tasks(client, URL, {"file": upload("reg.csv", EXAMPLE.read_bytes())})
    html = page.content.decode()
    assert "Checked: ready to import" in html and "Would be created" in html
    assert not Patient.objects.exists()
    the_upload = RegistryUpload.objects.get()
    assert page.location == f"/registry/import/{the_upload.uuid}/"
    assert len(list(uploads_dir.iterdir())) == 1  # the file waits for the confirmation
    page = run_tasks(client, f"/registry/import/{the_upload.uuid}/confirm/")
    assert "Imported" in page.content.decode() and "Created" in page.content.decode()
    assert Patient.objects.count() == 3
    assert list(uploads_dir.iterdir()) == []  # the file is gone once imported
    # The same file again: checked, everything already present.
    page = run_tasks(client, URL, {"file": upload("reg.csv", EXAMPLE.read_bytes())})
    assert "importing it would change nothing" in page.content.decode()
    assert "Import now" not in page.content.decode()
    again = RegistryUpload.objects.order_by("-id").first()
    page = run_tasks(client, f"/registry/import/{again.uuid}/confirm/")
    assert Patient.objects.count() == 3


def test_the_status_endpoint_reports_progress_without_patient_details(client, site_admin, run_tasks):
    SiteFactory(code="south").members.add(site_admin)
    example_signers()
    login(client, site_admin)
    # Queued, no worker yet: the page polls; the status says so.
    page = client.post(URL, {"file": upload("reg.csv", EXAMPLE.read_bytes())}, follow=True)
    the_upload = RegistryUpload.objects.get()
    assert "Waiting for a worker" in page.content.decode() and "registry-upload.js" in page.content.decode()
    status = client.get(f"/registry/import/{the_upload.uuid}/status/").json()
    assert status == {"status": "queued", "stage": "", "done": 0, "total": None, "finished": False}
    from registry.uploads import upload_run

    assert upload_run(the_upload.id) == "checked"
    status = client.get(f"/registry/import/{the_upload.uuid}/status/").json()
    assert status["finished"] is True and status["status"] == "checked" and status["done"] == 38
    assert set(status) == {"status", "stage", "done", "total", "finished"}
    assert upload_run(the_upload.id) == "checked"  # a redelivered task changes nothing


def test_another_admins_upload_is_not_found(client, site_admin, run_tasks):
    from django.contrib.auth.models import Group

    from core.roles import ADMIN
    from tests.patients.factories import UserFactory

    login(client, site_admin)
    run_tasks(client, URL, {"file": upload("ok.csv", b"record,site,mrn\n")})
    the_upload = RegistryUpload.objects.get()
    other = UserFactory(username="other-admin")
    other.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    client.logout()
    login(client, other)
    assert client.get(f"/registry/import/{the_upload.uuid}/").status_code == 404
    assert client.get(f"/registry/import/{the_upload.uuid}/status/").status_code == 404
    assert client.post(f"/registry/import/{the_upload.uuid}/confirm/").status_code == 404


def test_problems_are_listed_with_row_and_column(client, site_admin, run_tasks):
    login(client, site_admin)
    page = run_tasks(client, URL, {"file": upload("bad.csv", b"record,site,mrn,birads\nstudy,north,X,7\n")})
    html = page.content.decode()
    assert "Problems found" in html and "<td>2</td>" in html and "birads" in html
    assert "Import now" not in html
    assert RegistryUpload.objects.get().file.name == ""  # nothing more to do with it: deleted


def test_rows_of_sites_the_admin_does_not_belong_to_are_refused(client, site_admin, run_tasks):
    SiteFactory(code="south")
    login(client, site_admin)
    page = run_tasks(client, URL, {"file": upload("reg.csv", EXAMPLE.read_bytes())})
    html = page.content.decode()
    assert "You are not a member of site" in html and "south" in html
    assert not Patient.objects.exists()


def test_confirm_of_an_upload_with_problems_is_refused(client, site_admin, run_tasks):
    login(client, site_admin)
    run_tasks(client, URL, {"file": upload("bad.csv", b"record,site,mrn,birads\nstudy,north,X,7\n")})
    the_upload = RegistryUpload.objects.get()
    page = run_tasks(client, f"/registry/import/{the_upload.uuid}/confirm/")
    assert "upload it again" in page.content.decode()
    assert not Patient.objects.exists()


def test_oversized_and_non_csv_uploads_are_refused(client, site_admin, settings):
    settings.REGISTRY_MAX_UPLOAD_BYTES = 100
    login(client, site_admin)
    page = client.post(URL, {"file": upload("big.csv", b"record\n" + b"x" * 200)})
    assert "the limit is" in page.content.decode()
    settings.REGISTRY_MAX_UPLOAD_BYTES = 10_000
    page = client.post(URL, {"file": upload("scan.pdf", b"%PDF-1.4")})
    assert "Upload a .csv file" in page.content.decode()
    page = client.post(URL, {"file": upload("data.csv", b"\x00\x01binary")})
    assert "not a CSV text file" in page.content.decode()
    page = client.post(URL, {"file": upload("latin.csv", "record\nnom,é\n".encode("latin-1"))})
    assert "not UTF-8" in page.content.decode()


def test_stale_checked_files_are_deleted(client, site_admin, uploads_dir, run_tasks):
    from datetime import timedelta

    from django.utils import timezone

    login(client, site_admin)
    run_tasks(client, URL, {"file": upload("ok.csv", b"record,site,mrn\n")})
    forgotten = RegistryUpload.objects.get()
    assert forgotten.status == "checked" and len(list(uploads_dir.iterdir())) == 1
    RegistryUpload.objects.filter(pk=forgotten.pk).update(created_at=timezone.now() - timedelta(days=2))
    run_tasks(client, URL, {"file": upload("ok.csv", b"record,site,mrn\n")})
    assert not RegistryUpload.objects.filter(pk=forgotten.pk).exists()
    assert len(list(uploads_dir.iterdir())) == 1  # the new upload's file only


def test_navigation_has_the_import_entry_for_admins_only(site_admin, coordinator):
    from django.test import RequestFactory

    from clinic.navigation import navigation

    def urls(user):
        request = RequestFactory().get("/")
        request.user = user
        return [item["url"] for item in navigation(request)["nav_items"]]

    assert "/registry/import/" in urls(site_admin)
    assert "/registry/import/" not in urls(coordinator)


# --- Nothing uploaded is left behind when the broker or a worker dies -----------------------

def _later(minutes: float):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(minutes=minutes)


@pytest.fixture
def uploaded_unqueued(client, site_admin, django_capture_on_commit_callbacks):
    """An upload whose task never reached a worker: the broker lost the message (or was
    down at commit), so the request's on-commit enqueue went nowhere."""
    login(client, site_admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(URL, {"file": upload("ok.csv", b"record,site,mrn\n")})
    return RegistryUpload.objects.get()


def test_an_upload_whose_task_was_never_queued_is_queued_again_by_the_sweep(uploaded_unqueued, eager):
    from registry.uploads import REQUEUE_AFTER, uploads_requeue

    lost = uploaded_unqueued
    assert lost.status == "queued" and lost.queued_at is not None
    minutes = REQUEUE_AFTER.total_seconds() / 60
    assert uploads_requeue(now=_later(minutes - 0.5)) == 0  # a worker may still take it
    assert uploads_requeue(now=_later(minutes + 0.5)) == 1
    lost.refresh_from_db()
    assert lost.status == "checked" and lost.started_at is not None
    assert uploads_requeue(now=_later(60)) == 0  # finished: never again


@pytest.mark.parametrize("started_minutes_ago, requeued", [(5, False), (12, True)])
def test_an_upload_whose_worker_died_is_queued_again_after_the_time_limit(
        uploaded_unqueued, settings, started_minutes_ago, requeued, eager):
    from datetime import timedelta

    from django.utils import timezone

    from registry.uploads import uploads_requeue

    settings.CELERY_TASK_TIME_LIMIT = 5 * 60  # + 3 minutes: requeued after 8 minutes
    the_upload = uploaded_unqueued
    # A worker claimed it, then was killed (its import rolled back with its transaction).
    RegistryUpload.objects.filter(pk=the_upload.pk).update(
        status="running", started_at=timezone.now() - timedelta(minutes=started_minutes_ago))
    assert uploads_requeue() == int(requeued)
    the_upload.refresh_from_db()
    assert the_upload.status == ("checked" if requeued else "running")


def test_a_queued_upload_is_not_deleted_as_stale(uploaded_unqueued, uploads_dir):
    from datetime import timedelta

    from django.utils import timezone

    from registry.uploads import uploads_delete_stale

    waiting = uploaded_unqueued
    RegistryUpload.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert uploads_delete_stale() == 0
    assert RegistryUpload.objects.filter(pk=waiting.pk).exists() and len(list(uploads_dir.iterdir())) == 1


def test_beat_runs_the_requeue_sweep(settings):
    from tracker.celery import app as celery_app

    celery_app.loader.import_default_modules()
    entries = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "registry.tasks.requeue_registry_uploads" in entries
    assert "registry.tasks.requeue_registry_uploads" in celery_app.tasks
