"""Clinic staff log a mammogram for the case-report patient; a radiologist signs it.

Drives Debian's Chromium with Playwright against pytest-django's live server. Set
UPDATE_SCREENSHOTS=1 to refresh the PNGs in docs/screenshots/.
"""

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse

from imaging.models import ImagingStudy, StudyAmendment
from tests.browser.case_report import case_report_patient
from tests.patients.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
NEW_STUDY_DATE = date.today() - timedelta(days=7)  # after the case report's last exam (2025)


@pytest.fixture(autouse=True)
def async_unsafe_allowed(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; the ORM must still work.

    Set per test (not at import) so it does not leak into other tests, e.g. `check --deploy`.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # While Playwright's sync API runs, the ORM opened a second database connection
        # here (Django keeps connections per context) that nothing else closes: close it,
        # or PostgreSQL refuses to drop the test database at the end of the session
        # ("being accessed by other users").
        connections.close_all()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1180})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


def screenshot(page, name: str, tmp_path: Path, **kwargs) -> None:
    target = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / name), **kwargs)


def log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + reverse("dashboard"))


def log_out(page) -> None:
    page.click("form[action$='/logout/'] button")
    page.wait_for_selector("#id_username")


def fill_group(page, index: int, group: str, extent: str, count_bin: str, change: str) -> None:
    prefix = f"#id_calc-{index}-"
    page.fill(prefix + "group", group)
    page.select_option(prefix + "laterality", "left")
    page.select_option(prefix + "morphology", "fine_pleomorphic")
    page.select_option(prefix + "distribution", "grouped")
    page.fill(prefix + "extent_mm", extent)
    page.select_option(prefix + "count_bin", count_bin)
    page.select_option(prefix + "observed_change", change)


def test_log_a_mammogram_and_sign_it(page, live_server, site, clinic_staff, radiologist, tmp_path):
    patient = case_report_patient(site)
    timeline_url = live_server.url + patient.get_absolute_url()

    # 1. Clinic staff find the case-report patient and open her timeline: the chart renders.
    log_in(page, live_server, clinic_staff.username)
    page.goto(live_server.url + reverse("patient-list") + "?q=CR-0001")
    assert page.locator("table.patients tbody tr").count() == 1
    screenshot(page, "patient-list.png", tmp_path, clip={"x": 0, "y": 0, "width": 1280, "height": 330})
    page.goto(timeline_url)
    page.wait_for_selector("#timeline-chart .plotly .scatterlayer .trace")
    assert page.locator("#timeline-chart .scatterlayer .trace").count() >= 3
    assert "stable since" in page.inner_text(".trend")
    assert page.console_errors == []
    screenshot(page, "timeline.png", tmp_path, full_page=False)

    # 2. Log a new mammogram with two calcification groups through the form.
    page.click("text=New mammogram")
    page.wait_for_selector("#id_study_date")
    page.fill("#id_study_date", NEW_STUDY_DATE.isoformat())
    page.select_option("#id_birads", "2")
    page.select_option("#id_breast_composition", "c")
    fill_group(page, 0, "L1", "14", "11-20", "stable")
    page.click("button[data-add-row=calc]")
    page.wait_for_selector("#id_calc-1-group")
    fill_group(page, 1, "L2", "3", "1-5", "new")
    screenshot(page, "study-entry.png", tmp_path, full_page=True)
    page.click("button[name=save]")
    page.wait_for_url(timeline_url)
    assert page.console_errors == []
    new_row = page.locator("table.studies tbody tr").first
    row_text = new_row.inner_text()
    assert f"{NEW_STUDY_DATE.day} {NEW_STUDY_DATE:%b %Y}" in row_text and "L2 left: 3 mm" in row_text
    assert "draft" in row_text
    assert "Sign study" not in page.content()
    log_out(page)

    # 3. A radiologist signs it; the timeline chart now plots it.
    log_in(page, live_server, radiologist.username)
    assert "Drafts to sign" in page.content()
    screenshot(page, "dashboard.png", tmp_path, clip={"x": 0, "y": 0, "width": 1280, "height": 560})
    study = ImagingStudy.objects.get(patient=patient, study_date=NEW_STUDY_DATE)
    page.goto(live_server.url + reverse("study-detail", kwargs={"uuid": study.uuid}))
    page.click("text=Sign study")
    page.wait_for_selector(".badge.ok")
    study.refresh_from_db()
    assert study.status == "final" and study.signed_by == radiologist
    screenshot(page, "study-detail.png", tmp_path, clip={"x": 0, "y": 0, "width": 1280, "height": 640})
    page.goto(timeline_url)
    page.wait_for_selector("#timeline-chart .plotly .scatterlayer .trace")
    xs = page.evaluate("document.getElementById('timeline-chart').data"
                       ".find(t => t.name === 'Left breast calcifications').x")
    assert xs[-1].startswith(NEW_STUDY_DATE.isoformat())
    assert page.console_errors == []


def test_invalid_row_shows_errors_in_place_in_the_browser(page, live_server, site, clinic_staff, tmp_path):
    patient = case_report_patient(site)
    log_in(page, live_server, clinic_staff.username)
    page.goto(live_server.url + reverse("study-create", kwargs={"uuid": patient.uuid}) + "?modality=MG")
    page.fill("#id_study_date", NEW_STUDY_DATE.isoformat())
    fill_group(page, 0, "L1", "14", "11-20", "stable")
    page.click("button[data-add-row=calc]")
    fill_group(page, 1, "L2", "3", "1-5", "new")
    page.fill("#id_calc-1-clock", "15")
    page.click("button[name=save]")
    page.wait_for_selector(".finding-row.has-error")
    screenshot(page, "study-errors.png", tmp_path, full_page=True)
    rows = page.locator(".finding-row")
    assert "Clock position must be between 1 and 12." in rows.nth(1).inner_text()
    assert "has-error" not in (rows.nth(0).get_attribute("class") or "")
    assert not ImagingStudy.objects.filter(study_date=NEW_STUDY_DATE).exists()


def test_radiologist_amends_a_signed_study(page, live_server, site, radiologist, tmp_path):
    patient = case_report_patient(site)
    study = patient.studies.filter(modality="MG").order_by("-study_date").first()
    log_in(page, live_server, radiologist.username)
    page.goto(live_server.url + reverse("study-detail", kwargs={"uuid": study.uuid}))
    page.get_by_role("link", name="Amend", exact=True).click()
    page.wait_for_selector("#id_reason")
    page.fill("#id_calc-0-extent_mm", "19")
    page.select_option("#id_calc-0-observed_change", "increase_size")
    page.click("button[type=submit]:has-text('Record amendment')")
    assert "This field is required." in page.inner_text(".field.has-error")
    assert not StudyAmendment.objects.exists()
    page.fill("#id_calc-0-extent_mm", "19")
    page.select_option("#id_calc-0-observed_change", "increase_size")
    page.fill("#id_reason", "Remeasured on magnification views.")
    page.click("button[type=submit]:has-text('Record amendment')")
    page.wait_for_selector("article.amendment")
    history = page.inner_text("article.amendment")
    assert "Remeasured on magnification views." in history
    assert "Group L1 left: extent (mm) 14.0 → 19.0" in history
    assert "Group L1 left: change Stable → Increase in size" in history
    screenshot(page, "study-amended.png", tmp_path, clip={"x": 0, "y": 0, "width": 1280, "height": 680})
    assert page.console_errors == []


def test_register_a_patient_and_record_treatment(page, live_server, site, clinic_staff, tmp_path):
    log_in(page, live_server, clinic_staff.username)
    page.goto(live_server.url + reverse("patient-list"))
    page.click("text=Register a patient")
    page.fill("#id_mrn", "NEW-77")
    page.fill("#id_given_name", "Joana")
    page.fill("#id_family_name", "Pires")
    page.fill("#id_date_of_birth", "1972-04-09")
    page.click("button:has-text('Save')")
    page.wait_for_selector("#id_diagnosis_date")
    page.select_option("#id_laterality", "right")
    page.fill("#id_diagnosis_date", "2023-02-01")
    page.select_option("#id_histology", "IDC")
    page.fill("#id_er_percent", "0")
    page.fill("#id_pr_percent", "0")
    page.select_option("#id_her2_ihc", "0")
    page.click("button:has-text('Save')")
    page.wait_for_selector(".timeline-head")
    assert "Triple negative" in page.inner_text(".timeline-head")
    page.click("text=Treatment records")
    page.click("section:has(h2:text('Surgery and pathology')) >> text=Add")
    page.fill("#id_date", "2023-09-12")
    page.select_option("#id_laterality", "right")
    page.select_option("#id_procedure", "BCS")
    page.select_option("#id_axilla", "SLNB")
    page.select_option("#id_path-ypt", "ypT1")
    page.select_option("#id_path-ypn", "ypN0")
    page.select_option("#id_path-rcb_class", "II")
    screenshot(page, "surgery-form.png", tmp_path, full_page=True)
    page.click("button:has-text('Save')")
    page.wait_for_selector(".timeline-head")
    head = page.inner_text(".timeline-head")
    assert "residual disease" in head and "RCB-II" in head
    assert page.console_errors == []
