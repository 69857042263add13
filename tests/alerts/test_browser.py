"""The inbox and an alert in real Chromium: filter, open, acknowledge, resolve."""

import os

import pytest

from alerts.evaluation import evaluate_patient
from alerts.models import Alert
from tests.alerts.builders import finalize_progressing, surveillance_patient
from tests.patients.factories import PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def test_radiologist_works_an_alert(live_server, chromium_path, site, radiologist, tmp_path):
    from playwright.sync_api import sync_playwright

    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    evaluate_patient(patient.id)
    alert = Alert.objects.get(rule="calc_morphology_worse")
    shots = os.environ.get("ALERTS_SCREENSHOTS", str(tmp_path))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{live_server.url}/login/?next=/alerts/")
        page.fill("input[name=username]", radiologist.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/alerts/")
        assert page.locator("table.data tbody tr").count() == 2
        page.select_option("select[name=severity]", "high")
        page.click("text=Filter")
        assert page.locator("table.data tbody tr").count() == 1
        page.screenshot(path=f"{shots}/inbox.png", full_page=True)

        page.click("table.data a:has-text('Calcification morphology worse')")
        assert "fine linear branching" in page.inner_text(".alert-reason")
        page.fill("textarea[name=note] >> nth=0", "Compared with 2018: new branching forms.")
        page.click("button:has-text('Acknowledge')")
        assert "acknowledged" in page.inner_text(".messages")
        page.select_option("select[name=resolution]", "biopsy_ordered")
        page.fill("textarea[name=note]", "Stereotactic biopsy booked.")
        page.click("button:has-text('Resolve')")
        assert "Biopsy ordered" in page.inner_text("main")
        page.screenshot(path=f"{shots}/detail.png", full_page=True)
        browser.close()

    alert.refresh_from_db()
    assert (alert.state, alert.resolution, alert.resolved_by) == ("resolved", "biopsy_ordered",
                                                                  radiologist)
