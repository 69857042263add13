"""In Chromium: a coordinator works the day's due and overdue patients (how to reach each,
all their letters in one PDF in each patient's language, the contacts recorded in one
step, items handed to a colleague); and every main page fits a 390 px phone."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.urls import reverse

from alerts.services import alert_raise
from core import roles
from outreach.models import LetterBatch
from patients.models import ContactDetails
from surveillance.models import ContactLog, ScheduledItem
from surveillance.services.sweep import surveillance_sweep
from tests.api.helpers import scheduled
from tests.browser.case_report import case_report_patient
from tests.outreach.pdf import pdf_text
from tests.patients.factories import PASSWORD, PatientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TODAY = date.today()


@pytest.fixture(autouse=True)
def async_unsafe_allowed(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        yield browser
        browser.close()
        connections.close_all()


def login(browser, live_server, user, width=1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def reachable(site, given, family, language, overdue_days):
    patient = PatientFactory(site=site, given_name=given, family_name=family)
    ContactDetails.objects.create(
        patient=patient,
        mobile_phone=f"07700 90{len(family):04d}",
        address_line1="1 Mill Lane",
        postal_code="LS1 1AA",
        preferred_language=language,
        may_phone=True,
        may_write=True,
        preferred_channel="phone",
        consent_recorded_on=date(2024, 1, 1),
    )
    scheduled(patient, TODAY - timedelta(days=overdue_days))
    return patient


def test_coordinator_works_the_days_patients_in_the_browser(browser, live_server, site, coordinator):
    colleague = UserFactory(username="cora", first_name="Cora", last_name="Hale")
    colleague.groups.add(Group.objects.get_or_create(name=roles.COORDINATOR)[0])
    site.members.add(colleague)
    rosa = reachable(site, "Rosa", "Almeida", "fr", 90)  # overdue: recall
    lucia = reachable(site, "Lucia", "Garcia", "es", 10)  # due: reminder
    page = login(browser, live_server, coordinator)
    page.goto(f"{live_server.url}/worklist/")

    # How to reach each one.
    assert page.locator(f'a[href="tel:0770090{len("Almeida"):04d}"]').count() == 1
    assert page.locator("text=French (français)").count() == 1

    # All their letters, one PDF, each in her language.
    for patient in (rosa, lucia):
        page.check(f'input[data-tick-patient="{patient.uuid}"]')
    assert page.locator("text=(2 ticked)").count() == 1
    page.click("text=Print letters (one PDF)")
    page.wait_for_url("**/letters/batches/**")
    batch = LetterBatch.objects.get()
    pdf = page.request.get(
        f"{live_server.url}{reverse('letter-batch-pdf', kwargs={'uuid': batch.uuid})}"
    ).body()
    first, second = pdf_text(pdf, first=1, last=1), pdf_text(pdf, first=2, last=2)
    assert "Rosa Almeida" in first and "Nous souhaitons vous revoir pour votre suivi" in first
    assert "Lucia Garcia" in second and "Le corresponde su revisión de seguimiento" in second
    assert ContactLog.objects.filter(outcome="letter_sent").count() == 2

    # The calls, recorded in one step.
    page.goto(f"{live_server.url}/worklist/")
    page.check("input[data-tick-all]")
    page.select_option("select[name=outcome]", "called")
    page.fill("input[name=note]", "Rang about the letter")
    page.click("button[value=contact]")
    page.wait_for_selector("text=Contact recorded for 2 items: called.")
    assert ContactLog.objects.filter(outcome="called", note="Rang about the letter").count() == 2

    # Handed to a colleague, to act on by next week.
    page.check(f'input[data-tick-patient="{rosa.uuid}"]')
    page.select_option("#worklist-actions select[name=owner]", str(colleague.id))
    page.fill("input[name=owner_due_date]", (TODAY + timedelta(days=7)).isoformat())
    page.click("button[value=assign]")
    page.wait_for_selector("text=1 item assigned to Cora Hale.")
    item = ScheduledItem.objects.get(patient=rosa)
    assert item.owner == colleague and item.owner_due_date == TODAY + timedelta(days=7)
    page.context.close()


def _world(site):
    patient = case_report_patient(site, given_name="Helen", family_name="Marsh", mrn="NC-100001")
    ContactDetails.objects.create(
        patient=patient,
        mobile_phone="07700 900123",
        email="helen.marsh@example.org",
        address_line1="12 Mill Lane",
        city="Leeds",
        postal_code="LS1 4AB",
        preferred_language="fr",
        gp_name="Dr Anna Price",
    )
    surveillance_sweep()
    study = patient.studies.order_by("-study_date").first()
    alert_raise(
        patient_id=patient.id,
        rule="calc_reported_increase",
        severity="high",
        breast="left",
        trigger=f"study:{study.id}",
        reason="Radiologist reported an increase",
        study_id=study.id,
    )
    reachable(site, "Rosa", "Almeida", "fr", 90)
    return patient, study


def test_main_pages_fit_a_phone_without_sideways_scrolling(
    browser, live_server, site, coordinator, site_admin, radiologist
):
    patient, study = _world(site)
    item = ScheduledItem.objects.filter(status="pending").first()
    pages = {
        coordinator: [
            "/",
            "/patients/",
            f"/patients/{patient.uuid}/",
            f"/patients/{patient.uuid}/records/",
            f"/patients/{patient.uuid}/summary/",
            f"/patients/{patient.uuid}/contact/",
            f"/patients/{patient.uuid}/letters/",
            "/worklist/",
            f"/worklist/items/{item.uuid}/",
            "/worklist/calendar/",
            "/alerts/",
            f"/studies/{study.uuid}/",
            "/no-such-page/",
            reverse("patient-create"),
        ],
        site_admin: [
            reverse("letter-templates"),
            reverse("letter-template-edit", kwargs={"pk": site.pk}),
            f"/patients/{patient.uuid}/edit/",
            f"/patients/{patient.uuid}/surgery/add/",
        ],
        radiologist: [
            "/cohort/",
            f"/studies/{study.uuid}/",
            reverse("study-create", kwargs={"uuid": patient.uuid}) + "?modality=MG",
        ],
    }
    too_wide = []
    for user, paths in pages.items():
        page = login(browser, live_server, user, width=390)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                too_wide.append(f"{path} as {user.username}: {width}px")
        # The navigation folds behind "Menu" and opens on a tap.
        assert not page.locator("nav.mainnav").is_visible()
        page.click("button.menu-toggle")
        assert page.locator("nav.mainnav a", has_text="Patients").is_visible()
        page.context.close()
    assert not too_wide, "\n".join(too_wide)
