"""Clinic staff log a mammogram for the case-report patient; a radiologist signs it.

Drives Debian's Chromium with Playwright against pytest-django's live server. Set
UPDATE_SCREENSHOTS=1 to refresh the PNGs in docs/screenshots/.
"""

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from imaging.models import ImagingStudy, StudyAmendment
from tests.browser.case_report import case_report_patient
from tests.patients.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NEW_STUDY_DATE = date.today() - timedelta(days=7)  # after the case report's last exam (2025)


def screenshot(page, name: str, tmp_path: Path, **kwargs) -> None:
    target = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / name), **kwargs)


def log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(live_server.url + reverse("dashboard"))


def log_out(page) -> None:
    page.click("form[action$='/logout/'] button")
    expect(page.locator("#id_username")).to_be_visible()


def fill_group(page, index: int, group: str, extent: str, count_bin: str, change: str) -> None:
    prefix = f"#id_calc-{index}-"
    page.fill(prefix + "group", group)
    page.select_option(prefix + "laterality", "left")
    page.select_option(prefix + "morphology", "fine_pleomorphic")
    page.select_option(prefix + "distribution", "grouped")
    page.fill(prefix + "extent_mm", extent)
    page.select_option(prefix + "count_bin", count_bin)
    page.select_option(prefix + "observed_change", change)
    page.select_option(prefix + "inside_tumor_bed", "True")


def test_log_a_mammogram_and_sign_it(page, live_server, site, clinic_staff, radiologist, tmp_path):
    patient = case_report_patient(site)
    timeline_url = live_server.url + patient.get_absolute_url()

    # 1. Clinic staff find the case-report patient and open her timeline: the chart renders.
    log_in(page, live_server, clinic_staff.username)
    page.goto(live_server.url + reverse("patient-list"))
    page.fill("input[name=q]", "CR-0001")
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("table.patients tbody tr")).to_have_count(1)
    assert "CR-0001" not in page.url  # the search words stay out of the address
    screenshot(page, "patient-list.png", tmp_path, clip={"x": 0, "y": 0, "width": 1280, "height": 330})
    page.goto(timeline_url)
    expect(page.locator("#timeline-chart .scatterlayer .trace").nth(2)).to_be_attached()  # ≥ 3 traces
    expect(page.locator(".trend")).to_contain_text("stable since")
    assert page.console_errors == []
    screenshot(page, "timeline.png", tmp_path, full_page=False)

    # 2. Log a new mammogram with two calcification groups through the form.
    page.click("text=New mammogram")
    expect(page.locator("#id_study_date")).to_be_visible()
    page.fill("#id_study_date", NEW_STUDY_DATE.isoformat())
    page.select_option("#id_birads", "2")
    page.select_option("#id_breast_composition", "c")
    fill_group(page, 0, "L1", "14", "11-20", "stable")
    page.click("button[data-add-row=calc]")
    expect(page.locator("#id_calc-1-group")).to_be_visible()
    fill_group(page, 1, "L2", "3", "1-5", "new")
    screenshot(page, "study-entry.png", tmp_path, full_page=True)
    page.click("button[name=save]")
    expect(page).to_have_url(timeline_url)
    new_row = page.locator("table.studies tbody tr").first
    expect(new_row).to_contain_text(f"{NEW_STUDY_DATE.day} {NEW_STUDY_DATE:%b %Y}")
    expect(new_row).to_contain_text("L2 left: 3 mm")
    expect(new_row).to_contain_text("draft")
    expect(page.get_by_text("Sign study")).to_have_count(0)
    assert page.console_errors == []
    log_out(page)

    # 3. A radiologist signs it; the timeline chart now plots it.
    log_in(page, live_server, radiologist.username)
    expect(page.locator("main")).to_contain_text("Drafts to sign")
    screenshot(page, "dashboard.png", tmp_path, clip={"x": 0, "y": 0, "width": 1280, "height": 560})
    study = ImagingStudy.objects.get(patient=patient, study_date=NEW_STUDY_DATE)
    page.goto(live_server.url + reverse("study-detail", kwargs={"uuid": study.uuid}))
    page.click("text=Sign study")
    expect(page.locator(".badge.ok")).to_be_visible()
    study.refresh_from_db()
    assert study.status == "final" and study.signed_by == radiologist
    screenshot(page, "study-detail.png", tmp_path, clip={"x": 0, "y": 0, "width": 1280, "height": 640})
    page.goto(timeline_url)
    expect(page.locator("#timeline-chart .scatterlayer .trace").first).to_be_attached()
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
    rows = page.locator(".finding-row")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bhas-error\b"))
    screenshot(page, "study-errors.png", tmp_path, full_page=True)
    expect(rows.nth(1)).to_contain_text("Clock position must be between 1 and 12.")
    expect(rows.nth(0)).not_to_have_class(re.compile(r"\bhas-error\b"))
    assert not ImagingStudy.objects.filter(study_date=NEW_STUDY_DATE).exists()


def test_radiologist_amends_a_signed_study(page, live_server, site, radiologist, tmp_path):
    patient = case_report_patient(site)
    study = patient.studies.filter(modality="MG").order_by("-study_date").first()
    log_in(page, live_server, radiologist.username)
    page.goto(live_server.url + reverse("study-detail", kwargs={"uuid": study.uuid}))
    page.get_by_role("link", name="Amend", exact=True).click()
    expect(page.locator("#id_reason")).to_be_visible()
    page.fill("#id_calc-0-extent_mm", "19")
    page.select_option("#id_calc-0-observed_change", "increase_size")
    page.click("button[type=submit]:has-text('Record amendment')")
    expect(page.locator(".field.has-error")).to_contain_text("This field is required.")
    assert not StudyAmendment.objects.exists()
    page.fill("#id_calc-0-extent_mm", "19")
    page.select_option("#id_calc-0-observed_change", "increase_size")
    page.fill("#id_reason", "Remeasured on magnification views.")
    page.click("button[type=submit]:has-text('Record amendment')")
    history = page.locator("article.amendment")
    expect(history).to_contain_text("Remeasured on magnification views.")
    expect(history).to_contain_text("Group L1 left: extent (mm) 14.0 → 19.0")
    expect(history).to_contain_text("Group L1 left: change Stable → Increase in size")
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
    expect(page.locator("#id_diagnosis_date")).to_be_visible()
    page.select_option("#id_laterality", "right")
    page.fill("#id_diagnosis_date", "2023-02-01")
    page.select_option("#id_histology", "IDC")
    page.fill("#id_er_percent", "0")
    page.fill("#id_pr_percent", "0")
    page.select_option("#id_her2_ihc", "0")
    page.click("button:has-text('Save')")
    expect(page.locator(".timeline-head")).to_contain_text("Triple negative")
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
    head = page.locator(".timeline-head")
    expect(head).to_contain_text("residual disease")
    expect(head).to_contain_text("RCB-II")
    assert page.console_errors == []
