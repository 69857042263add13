"""A coordinator logs in, works the worklist, logs a call (real Chromium)."""

from datetime import date, timedelta

import pytest

from surveillance.models import ContactLog, ScheduledItem
from surveillance.services.sweep import surveillance_sweep
from tests.patients.factories import PASSWORD, PatientFactory, SurgeryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_coordinator_logs_a_call_from_the_worklist(live_server, page, coordinator, site, tmp_path):
    from playwright.sync_api import expect

    patient = PatientFactory(site=site, date_of_birth=date(1955, 6, 1))
    SurgeryFactory(patient=patient, date=date.today() - timedelta(days=200), laterality="right")
    surveillance_sweep()
    assert ScheduledItem.objects.filter(patient=patient, due_from__lte=date.today()).exists()

    page.goto(f"{live_server.url}/login/?next=/worklist/")
    page.fill("input[name=username]", coordinator.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # The login page's own URL ends in "next=/worklist/": match the worklist exactly.
    expect(page).to_have_url(f"{live_server.url}/worklist/")
    expect(page.locator("main")).to_contain_text(patient.mrn)
    page.click("text=Log contact")
    page.select_option("select[name=outcome]", "called")
    page.fill("textarea[name=note]", "Booked for next week")
    page.click("button.btn.primary")
    expect(page.get_by_text("Contact logged.")).to_be_visible()
    page.screenshot(path=str(tmp_path / "item.png"), full_page=True)
    assert page.console_errors == []

    log = ContactLog.objects.get(patient=patient)
    assert log.outcome == "called" and log.by == coordinator and log.note == "Booked for next week"
