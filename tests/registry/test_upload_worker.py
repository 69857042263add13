"""A registry upload checked and imported by a REAL Celery worker against REAL Redis.

Uses its own redis-server and a `celery -A tracker worker` subprocess on the test
database (tests/celery_support.py), as tests/surveillance/test_worker.py does. The task gets
the upload's id; the file is read from the upload directory both processes share.
"""

import time
from pathlib import Path

import pytest

from patients.models import Patient
from registry.models import RegistryUpload
from tests.patients.factories import PASSWORD, SiteFactory, example_signers

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "registry-example.csv"


@pytest.fixture
def worker(workers, tmp_path, settings):
    """One worker, reading uploads from the directory this process (the web) writes to."""
    uploads = tmp_path / "imports"
    settings.REGISTRY_UPLOAD_DIR = str(uploads)
    workers.start(REGISTRY_UPLOAD_DIR=str(uploads))
    return uploads, workers.logs[0]


def wait_finished(client, uuid, log: Path) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(f"/registry/import/{uuid}/status/").json()
        if status["finished"]:
            return status
        time.sleep(0.3)
    pytest.fail(f"the upload did not finish\n{log.read_text()[-3000:]}")


def test_upload_checked_then_imported_by_a_real_worker(client, site_admin, worker):
    uploads, log = worker
    SiteFactory(code="south").members.add(site_admin)
    example_signers()
    client.login(username=site_admin.username, password=PASSWORD)
    with EXAMPLE.open("rb") as f:
        response = client.post("/registry/import/", {"file": f})
    upload = RegistryUpload.objects.get()
    assert response["Location"] == f"/registry/import/{upload.uuid}/"
    assert wait_finished(client, upload.uuid, log)["status"] == "checked"
    assert not Patient.objects.exists() and len(list(uploads.iterdir())) == 1
    client.post(f"/registry/import/{upload.uuid}/confirm/")
    assert wait_finished(client, upload.uuid, log)["status"] == "imported"
    assert Patient.objects.count() == 3
    assert list(uploads.iterdir()) == []
    # Two runs of the task on the worker, with the upload's id only: no MRN of the file
    # reaches its log.
    text = log.read_text()
    assert text.count("registry.tasks.run_registry_upload") >= 2 and "succeeded" in text
    assert not any(mrn in text for mrn in Patient.objects.values_list("mrn", flat=True))
