"""The inbox and an alert in real Chromium: filter, open, acknowledge, resolve."""

import os
import re

import pytest

from alerts.evaluation import evaluate_patient
from alerts.models import Alert
from tests.alerts.builders import finalize_progressing, surveillance_patient
from tests.patients.factories import PASSWORD

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
    expect(rows).to_have_count(2)
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
    page.select_option("select[name=resolution]", "biopsy_ordered")
    page.fill("textarea[name=note]", "Stereotactic biopsy booked.")
    page.click("button:has-text('Resolve')")
    expect(page.locator(".messages")).to_contain_text("resolved")
    expect(page.locator("main")).to_contain_text("Biopsy ordered")
    page.screenshot(path=f"{shots}/detail.png", full_page=True)
    assert page.console_errors == []

    alert.refresh_from_db()
    assert (alert.state, alert.resolution, alert.resolved_by) == ("resolved", "biopsy_ordered",
                                                                  radiologist)
