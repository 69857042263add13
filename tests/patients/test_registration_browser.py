"""The registration page in Chromium: the duplicate warning and a field error together,
on a desktop and on a 390 px phone. Screenshots go to $SCREENSHOT_DIR (default: the
test's tmp_path)."""

import os
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.test_clinic_flow import log_in
from tests.patients.factories import PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_registering_a_possible_duplicate(page, live_server, site, clinic_staff, tmp_path):
    PatientFactory(site=site, mrn="NC-100001", given_name="Helen", family_name="Marsh",
                   date_of_birth=date(1966, 3, 14))
    target = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    log_in(page, live_server, clinic_staff.username)
    page.goto(live_server.url + reverse("patient-create"))
    page.fill("#id_mrn", "NC-555")
    page.fill("#id_given_name", "Helen")
    page.fill("#id_family_name", "Marsh")
    page.fill("#id_date_of_birth", "1966-03-14")
    page.fill("#id_lifetime_risk_percent", "150")
    page.evaluate("document.querySelector('#id_lifetime_risk_percent').removeAttribute('max')")
    page.click("form.record-form button[type=submit]")
    expect(page.locator(".duplicate-warning")).to_contain_text("MRN NC-100001")
    expect(page.locator(".field-error")).to_contain_text("less than or equal to 100")
    expect(page.locator("#id_confirm_duplicate")).not_to_be_checked()
    page.screenshot(path=str(target / "registration-duplicate-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(target / "registration-duplicate-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.console_errors == []

    page.set_viewport_size({"width": 1280, "height": 1180})
    page.fill("#id_lifetime_risk_percent", "")
    page.check("#id_confirm_duplicate")
    page.click("form.record-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Tumour profile")
