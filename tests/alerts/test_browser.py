"""The inbox and an alert in real Chromium: filter, open, acknowledge, resolve; a
coordinator resolves an overdue alert from its page, beside the worklist item."""

import os
import re
from datetime import date, timedelta

import pytest

from alerts.evaluation import evaluate_patient
from alerts.models import Alert
from alerts.services import alert_raise
from surveillance.models import ScheduledItem
from surveillance.services.contacts import contact_log
from surveillance.services.sweep import surveillance_sweep
from tests.alerts.builders import finalize_progressing, surveillance_patient
from tests.patients.factories import PASSWORD, PatientFactory, SurgeryFactory

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_radiologist_works_an_alert(live_server, page, site, radiologist, tmp_path):
    from playwright.sync_api import expect

    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    evaluate_patient(patient.id)
    alert = Alert.objects.get(rule="calc_morphology_worse")
    shots = os.environ.get("ALERTS_SCREENSHOTS", str(tmp_path))
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/login/?next=/alerts/")
    page.fill("input[name=username]", radiologist.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/alerts/")
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(1)  # the study's two alerts are one case
    expect(rows.first).to_contain_text("Calcification extent increase")
    page.select_option("select[name=severity]", "high")
    page.click("text=Filter")
    expect(page).to_have_url(re.compile(r"[?&]severity=high"))
    expect(rows).to_have_count(1)
    page.screenshot(path=f"{shots}/inbox.png", full_page=True)

    page.click("table.data a:has-text('Calcification morphology worse')")
    expect(page.locator(".alert-reason")).to_contain_text("fine linear branching")
    page.fill("textarea[name=note] >> nth=0", "Compared with 2018: new branching forms.")
    page.click("button:has-text('Acknowledge')")
    expect(page.locator(".messages")).to_contain_text("acknowledged")
    resolve = page.locator("form[action$='/resolve/']")
    resolve.locator("select[name=resolution]").select_option("biopsy_ordered")
    resolve.locator("textarea[name=note]").fill("Stereotactic biopsy booked.")
    page.click("button:has-text('Resolve')")
    expect(page.locator(".messages")).to_contain_text("resolved")
    expect(page.locator("main")).to_contain_text("Biopsy ordered")
    page.screenshot(path=f"{shots}/detail.png", full_page=True)
    assert page.console_errors == []

    alert.refresh_from_db()
    assert (alert.state, alert.resolution, alert.resolved_by) == ("resolved", "biopsy_ordered",
                                                                  radiologist)


def _log_in(page, live_server, user, next_path):
    page.goto(f"{live_server.url}/login/?next={next_path}")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_coordinator_resolves_an_overdue_alert(live_server, page, site, coordinator, radiologist, tmp_path):
    from playwright.sync_api import expect

    patient = PatientFactory(site=site, date_of_birth=date(1955, 6, 1))
    SurgeryFactory(patient=patient, date=date.today() - timedelta(days=200), laterality="right")
    surveillance_sweep()
    item = ScheduledItem.objects.filter(patient=patient).order_by("due_date").first()
    contact_log(item=item, by=coordinator, outcome="no_answer", note="Rang twice, no answer")
    overdue, _ = alert_raise(patient_id=patient.id, rule="surveillance_overdue", severity="medium",
                             trigger=f"item:{item.id}", reason="mammogram due is 75 days overdue")
    imaging = surveillance_patient(site)
    finalize_progressing(imaging, radiologist)
    evaluate_patient(imaging.id)
    shots = os.environ.get("ALERTS_SCREENSHOTS", str(tmp_path))

    _log_in(page, live_server, coordinator, "/alerts/")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/alerts/")
        expect(page).to_have_url(f"{live_server.url}/alerts/")
        cases = page.locator("table.cases tbody tr")
        expect(cases).to_have_count(2)  # the imaging case (high) first, then the overdue one
        expect(cases.nth(0)).to_contain_text("Calcification morphology worse")
        expect(cases.nth(1)).to_contain_text("Surveillance overdue")
        page.screenshot(path=f"{shots}/inbox-{width}.png", full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("table.cases a:has-text('Surveillance overdue')")
    main = page.locator("main")
    expect(main).to_contain_text("Worklist item")
    expect(page.locator(".contact-log")).to_contain_text("Rang twice, no answer")
    expect(page.locator("#alert-chart")).to_have_count(0)
    resolve = page.locator("form[action$='/resolve/']")
    options = resolve.locator("select[name=resolution] option")
    expect(options).to_contain_text(["Choose…", "Patient contacted", "Exam rescheduled"])
    expect(resolve.locator("option[value=biopsy_ordered]")).to_have_count(0)
    page.screenshot(path=f"{shots}/overdue-alert-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{shots}/overdue-alert-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    resolve.locator("select[name=resolution]").select_option("rescheduled")
    resolve.locator("textarea[name=note]").fill("Booked for next Tuesday.")
    page.click("button:has-text('Resolve')")
    expect(page.locator(".messages")).to_contain_text("resolved: Exam rescheduled")
    expect(main).to_contain_text("Exam rescheduled")
    assert page.console_errors == []

    overdue.refresh_from_db()
    assert (overdue.state, overdue.resolution, overdue.resolved_by) == (
        "resolved", "rescheduled", coordinator)
    assert overdue.resolve_note == "Booked for next Tuesday."
    # The imaging case is the radiologists': the coordinator cannot tick it.
    page.goto(f"{live_server.url}/alerts/?state=all")
    expect(page.locator("table.cases tbody tr")).to_have_count(2)


def test_imaging_alert_page_at_both_widths(live_server, page, site, radiologist, tmp_path):
    from playwright.sync_api import expect

    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    evaluate_patient(patient.id)
    alert = Alert.objects.get(rule="calc_morphology_worse")
    shots = os.environ.get("ALERTS_SCREENSHOTS", str(tmp_path))
    _log_in(page, live_server, radiologist, f"/alerts/{alert.pk}/")
    expect(page.locator("#alert-chart .main-svg").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("open alert: ")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.reload()  # the chart is laid out for the width it is first drawn at
        chart = page.locator("#alert-chart")
        expect(chart.locator(".main-svg").first).to_be_visible()
        if width < 600:  # a phone: the figure grew by its legend, which stays inside it
            assert page.evaluate("document.querySelector('#alert-chart')._fullLayout.height") > 600
        page.screenshot(path=f"{shots}/imaging-alert-{width}.png", full_page=True)
    assert page.console_errors == []
