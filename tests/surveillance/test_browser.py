"""A coordinator logs in, works the worklist, logs a call (real Chromium)."""

import os
from datetime import date, timedelta

import pytest

from surveillance.models import ContactLog, ScheduledItem
from surveillance.services.sweep import surveillance_sweep
from tests.patients.factories import PASSWORD, PatientFactory, SurgeryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def test_coordinator_logs_a_call_from_the_worklist(live_server, chromium_path, coordinator, site, tmp_path):
    from playwright.sync_api import sync_playwright

    patient = PatientFactory(site=site, date_of_birth=date(1955, 6, 1))
    SurgeryFactory(patient=patient, date=date.today() - timedelta(days=200), laterality="right")
    surveillance_sweep()
    assert ScheduledItem.objects.filter(patient=patient, due_from__lte=date.today()).exists()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        page = browser.new_page()
        page.goto(f"{live_server.url}/login/?next=/worklist/")
        page.fill("input[name=username]", coordinator.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/worklist/")
        assert patient.mrn in page.content()
        page.click("text=Log contact")
        page.select_option("select[name=outcome]", "called")
        page.fill("textarea[name=note]", "Booked for next week")
        page.click("button.btn.primary")
        page.wait_for_selector("text=Contact logged.")
        page.screenshot(path=str(tmp_path / "item.png"), full_page=True)
        browser.close()
    log = ContactLog.objects.get(patient=patient)
    assert log.outcome == "called" and log.by == coordinator and log.note == "Booked for next week"
