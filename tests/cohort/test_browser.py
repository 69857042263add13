"""The cohort page in real Chromium: both charts render, no console error, CSP-safe."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from patients import vocabulary as pv
from patients.models import ClinicalEvent
from tests.cohort import builders as b
from tests.patients.factories import PASSWORD, ClinicVisitFactory

# serialized_rollback: the flush after a transactional test would otherwise delete the
# role groups that migration patients/0002 created, breaking every later test.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SUBTYPES = [pv.Subtype.HR_POS_HER2_NEG, pv.Subtype.HR_POS_HER2_POS, pv.Subtype.HR_NEG_HER2_POS,
            pv.Subtype.TRIPLE_NEGATIVE]


def seed_followed_cohort(site, n: int = 36) -> None:
    """Patients with follow-up and some recurrences, so every chart has something to draw."""
    for i in range(n):
        residual = i % 3 == 0
        p = b.patient(site, subtype=SUBTYPES[i % 4], ypt="ypT2" if residual else ["ypT0", "ypTis"][i % 2],
                      ypn="ypN1" if residual and i % 2 else "ypN0",
                      mr="pos" if residual or i % 7 == 0 else "neg",
                      mg="pos" if i % 2 == 0 else ("benign" if i % 5 == 0 else "neg"),
                      histology=["benign", "dcis", "benign", "invasive", "not_sampled"][i % 5])
        ClinicVisitFactory(patient=p, date=b.SURGERY + timedelta(days=200 + 45 * i))
        if residual and i % 2 == 0 or i % 11 == 0:
            ClinicalEvent.objects.create(patient=p, date=b.SURGERY + timedelta(days=150 + 30 * i),
                                         kind=pv.EventKind.LOCAL_RECURRENCE)


def page_width_settles_at(page, width: int) -> bool:
    """The page is no wider than the viewport once the charts have reflowed (the page's CSP
    forbids `wait_for_function`'s eval, so poll with `evaluate`)."""
    for _ in range(30):
        if page.evaluate("() => document.documentElement.scrollWidth") <= width:
            return True
        page.wait_for_timeout(100)
    return False


def test_cohort_page_renders_charts(live_server, page, radiologist, site, tmp_path):
    from playwright.sync_api import expect

    seed_followed_cohort(site)
    page.set_viewport_size({"width": 1360, "height": 1000})
    page.goto(f"{live_server.url}/login/?next=/cohort/")
    page.fill("#id_username", radiologist.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    # The login page's own URL ends in "next=/cohort/": match the cohort page exactly.
    expect(page).to_have_url(f"{live_server.url}/cohort/")
    # At least 10 bars and 8 survival traces: wait for the 10th and the 8th to be drawn.
    expect(page.locator("#cohort-metrics .bars .point").nth(9)).to_be_attached()
    expect(page.locator("#cohort-km .scatterlayer .trace").nth(7)).to_be_attached()
    expect(page.locator("table.twobytwo")).to_have_count(2)
    # The chart fills its card: no half-empty box under the bars.
    chart = page.locator("#cohort-metrics").bounding_box()
    svg = page.locator("#cohort-metrics .main-svg").first.bounding_box()
    assert chart["height"] <= svg["height"] + 5
    # The dropdown shows the definition the page was computed with.
    expect(page.locator("#id_pcr_definition")).to_have_value(pv.PcrDefinition.YPT0IS_YPN0)
    expect(page.locator(".km-legend li")).to_have_count(5)  # four curves and the censoring mark
    shot = Path(os.environ.get("COHORT_SCREENSHOT", tmp_path / "cohort.png"))
    page.screenshot(path=str(shot), full_page=True)
    # On a phone the wide tables scroll inside their box; the page itself does not widen.
    page.set_viewport_size({"width": 390, "height": 800})
    assert page_width_settles_at(page, 390)
    page.set_viewport_size({"width": 1360, "height": 1000})

    page.select_option("#id_pcr_definition", pv.PcrDefinition.YPT0_YPN0)
    page.click("form.toolbar button[type=submit]")
    expect(page).to_have_url(re.compile(r"[?&]pcr_definition=ypT0_ypN0"))
    expect(page.locator("p:has-text('Truth:') strong")).to_have_text(
        "ypT0 ypN0 (no invasive or in-situ disease)")
    expect(page.locator("#cohort-km .scatterlayer .trace").nth(7)).to_be_attached()
    assert page.console_errors == []


def test_quality_page_renders_charts_on_desktop_and_phone(live_server, page, radiologist, site,
                                                          other_site, tmp_path):
    from playwright.sync_api import expect

    from tests.cohort.test_quality import build_fixed_cohort

    build_fixed_cohort(site, other_site, radiologist)
    page.set_viewport_size({"width": 1360, "height": 1000})
    page.goto(f"{live_server.url}/login/?next=/quality/")
    page.fill("#id_username", radiologist.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/quality/")
    for chart in ("quality-alerts", "quality-abnormal", "quality-adherence", "quality-ppv"):
        expect(page.locator(f"#{chart} .main-svg").first).to_be_attached()
    expect(page.locator("#quality-alerts .bars .point").nth(2)).to_be_attached()
    expect(page.locator("#rules-table tbody tr")).to_have_count(5)
    page.screenshot(path=str(tmp_path / "quality.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 800})
    assert page_width_settles_at(page, 390)
    page.select_option("#id_group_by", "radiologist")
    page.click("form.toolbar button[type=submit]")
    expect(page).to_have_url(re.compile(r"[?&]group_by=radiologist"))
    expect(page.locator("#alerts-table")).to_contain_text("Ruth Alvarez")
    assert page.console_errors == []
