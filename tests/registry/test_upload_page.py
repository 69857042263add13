from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from patients.models import Patient
from tests.patients.factories import PASSWORD, SiteFactory, example_signers

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "registry-example.csv"
URL = "/registry/import/"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_only_admins_see_the_page(client, coordinator, site_admin):
    assert client.get(URL).status_code == 302  # to the login page
    assert login(client, coordinator).get(URL).status_code == 403
    assert login(client, site_admin).get(URL).status_code == 200


def test_dry_run_then_confirm_then_same_file_again(client, site_admin, settings, tmp_path):
    settings.REGISTRY_UPLOAD_DIR = str(tmp_path)
    SiteFactory(code="south").members.add(site_admin)
    example_signers()
    login(client, site_admin)
    page = client.post(URL, {"file": upload("reg.csv", EXAMPLE.read_bytes())})
    html = page.content.decode()
    assert "Checked: ready to import" in html and "Would be created" in html
    assert not Patient.objects.exists()
    assert len(list(tmp_path.iterdir())) == 1
    page = client.post(URL, {"confirm": "1"})
    assert "Imported" in page.content.decode()
    assert Patient.objects.count() == 3
    assert list(tmp_path.iterdir()) == []  # the waiting file is gone
    # The same file again: checked, everything already present.
    page = client.post(URL, {"file": upload("reg.csv", EXAMPLE.read_bytes())})
    assert "importing it would change nothing" in page.content.decode()
    assert "Import now" not in page.content.decode()
    client.post(URL, {"confirm": "1"})
    assert Patient.objects.count() == 3


def test_problems_are_listed_with_row_and_column(client, site_admin):
    login(client, site_admin)
    page = client.post(URL, {"file": upload("bad.csv", b"record,site,mrn,birads\nstudy,north,X,7\n")})
    html = page.content.decode()
    assert "Problems found" in html and "<td>2</td>" in html and "birads" in html
    assert "Import now" not in html


def test_rows_of_sites_the_admin_does_not_belong_to_are_refused(client, site_admin):
    SiteFactory(code="south")
    login(client, site_admin)
    page = client.post(URL, {"file": upload("reg.csv", EXAMPLE.read_bytes())})
    html = page.content.decode()
    assert "You are not a member of site" in html and "south" in html
    assert not Patient.objects.exists()


def test_confirm_without_a_checked_file(client, site_admin):
    login(client, site_admin)
    page = client.post(URL, {"confirm": "1"}, follow=True)
    assert "upload it again" in page.content.decode()


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


def test_stale_checked_files_are_deleted(client, site_admin, settings, tmp_path):
    import os

    settings.REGISTRY_UPLOAD_DIR = str(tmp_path)
    old = tmp_path / "forgotten.csv"
    old.write_text("record\n")
    os.utime(old, (0, 0))
    login(client, site_admin)
    client.post(URL, {"file": upload("ok.csv", b"record,site,mrn\n")})
    assert not old.exists()


def test_navigation_has_the_import_entry_for_admins_only(site_admin, coordinator):
    from django.test import RequestFactory

    from clinic.navigation import navigation

    def urls(user):
        request = RequestFactory().get("/")
        request.user = user
        return [item["url"] for item in navigation(request)["nav_items"]]

    assert "/registry/import/" in urls(site_admin)
    assert "/registry/import/" not in urls(coordinator)
