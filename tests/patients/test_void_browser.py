"""Clinic staff void a surgery typed on the wrong date, then see it struck through (real
Chromium, desktop and phone width). Screenshots go to VOID_SCREENSHOTS when set."""

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from patients.models import Surgery
from tests.patients.factories import PASSWORD, PatientFactory, SurgeryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_void_a_surgery_from_the_records_page(live_server, browser, clinic_staff, site, tmp_path, width):
    from playwright.sync_api import expect

    shots = Path(os.environ.get("VOID_SCREENSHOTS", tmp_path))
    patient = PatientFactory(site=site, date_of_birth=date(1962, 5, 1))
    wrong = SurgeryFactory(patient=patient, date=date.today() - timedelta(days=400), laterality="left")
    SurgeryFactory(patient=patient, date=date.today() - timedelta(days=35), laterality="left")
    context = browser.new_context(viewport={"width": width, "height": 1100})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/login/?next=/patients/{patient.uuid}/records/")
    page.fill("input[name=username]", clinic_staff.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Treatment and follow-up records")
    page.locator(f"a[href$='/surgery/{wrong.pk}/void/']").click()
    expect(page.locator("h1")).to_contain_text("Void surgery")
    page.click("button.btn.danger")  # no reason: refused, with the field's message
    expect(page.get_by_text("Say why this record is being voided.")).to_be_visible()
    page.fill("textarea[name=reason]", "Date typed a year too early; re-entered correctly")
    page.screenshot(path=str(shots / f"void-confirm-{width}.png"), full_page=True)
    page.click("button.btn.danger")
    expect(page.get_by_text("was voided")).to_be_visible()
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    voided = page.locator("#voided")
    expect(voided.locator("del")).to_contain_text("Surgery")
    expect(voided).to_contain_text("Date typed a year too early")
    voided.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"void-timeline-{width}.png"), full_page=True)
    assert errors == []
    context.close()
    assert Surgery.all_objects.get(pk=wrong.pk).void_reason.startswith("Date typed")
    assert not Surgery.objects.filter(pk=wrong.pk).exists()
