"""End to end: the hospital sends an ADT and an ORU to the real listener over MLLP; a
radiologist finds the draft with its proposed findings, completes and signs it in Chromium.
A report for an unknown MRN waits in the reconciliation queue until staff match it.

UPDATE_SCREENSHOTS=1 writes the pictures to docs/screenshots/.
"""

from datetime import date

import pytest
from django.urls import reverse

from feeds.models import Message
from imaging.models import ImagingStudy
from patients.models import Patient
from tests.browser.test_clinic_flow import log_in, log_out, screenshot
from tests.feeds import builders as b
from tests.feeds.listening import Listener, ack_code
from tests.patients.factories import PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def listener(tmp_path, feed_source):
    server = Listener(tmp_path).start()
    yield server
    server.stop()


def test_a_report_sent_over_mllp_is_signed_by_a_radiologist(page, live_server, listener, site, radiologist,
                                                          tmp_path):
    site.viewer_url_template = "https://pacs.example.org/viewer?accession={accession}"
    site.save()
    with listener.client() as client:
        assert ack_code(client.send_message(b.adt("HL7-100", family="Marsh", given="Helen",
                                                  dob=date(1975, 4, 2)))) == "AA"
        assert ack_code(client.send_message(b.oru("HL7-100", accession="ACC-9001"))) == "AA"
    patient = Patient.objects.get(mrn="HL7-100")
    study = ImagingStudy.objects.get(patient=patient)

    log_in(page, live_server, radiologist.username)
    page.goto(live_server.url + patient.get_absolute_url())
    assert page.locator("a.viewer-link").first.get_attribute("href").endswith("accession=ACC-9001")
    page.goto(live_server.url + reverse("study-edit", args=[study.uuid]))
    page.wait_for_selector("[data-proposal]")
    assert "proposed from the report text" in page.inner_text("[data-proposal]")
    # Prefilled from the report and marked: BI-RADS, composition, the calcification group.
    assert page.input_value("#id_birads") == "2"
    assert page.input_value("#id_breast_composition") == "c"
    assert page.input_value("#id_calc-0-morphology") == "fine_pleomorphic"
    assert page.input_value("#id_calc-0-extent_mm") == "14"
    assert page.locator(".field.proposed").count() >= 6
    assert page.locator("fieldset.finding-row.proposed").count() == 1
    screenshot(page, "hl7-study-proposals.png", tmp_path, full_page=True)
    page.set_viewport_size(PHONE)
    screenshot(page, "hl7-study-proposals-phone.png", tmp_path, full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1180})

    # The report does not give the count: the radiologist completes it, corrects the change.
    page.select_option("#id_calc-0-count_bin", "11-20")
    page.select_option("#id_calc-0-observed_change", "not_significantly_changed")
    page.select_option("#id_calc-0-inside_tumor_bed", "True")  # never proposed: the reader says
    assert "edited" in page.get_attribute("#id_calc-0-observed_change >> xpath=..", "class")
    page.click("button[name=sign]")
    page.wait_for_url(live_server.url + patient.get_absolute_url())
    study.refresh_from_db()
    assert (study.status, study.signed_by, study.birads) == ("final", radiologist, "2")
    calc = study.calcifications.get()
    assert (calc.morphology, calc.extent_mm, calc.count_bin, calc.observed_change) == (
        "fine_pleomorphic", 14, "11-20", "not_significantly_changed")
    assert page.console_errors == []


def test_staff_match_a_held_report_from_the_queue(page, live_server, listener, site, clinic_staff,
                                                  tmp_path):
    known = PatientFactory(site=site, mrn="NC-200", family_name="Marsh", given_name="Helen",
                           date_of_birth=date(1975, 4, 2))
    PatientFactory(site=site, mrn="NC-201", family_name="Marsh", given_name="Ann",
                   date_of_birth=date(1968, 9, 9))
    with listener.client() as client:
        assert ack_code(client.send_message(b.oru("RIS-77", accession="ACC-77", family="Marsh",
                                                  given="Helen", dob=date(1975, 4, 2)))) == "AA"
        assert ack_code(client.send_message(b.orm("RIS-78", placer="PL-78"))) == "AA"
    log_in(page, live_server, clinic_staff.username)
    page.click("nav.mainnav >> text=Feeds")
    page.wait_for_selector(".queue-item")
    assert page.locator(".queue-item").count() == 2
    screenshot(page, "hl7-queue.png", tmp_path, full_page=True)
    page.set_viewport_size(PHONE)
    screenshot(page, "hl7-queue-phone.png", tmp_path, full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1180})

    item = page.locator(f".queue-item[data-message='{Message.objects.get(mrn='RIS-77').uuid}']")
    item.locator(f"input[value='{known.uuid}']").check()
    item.locator("button:has-text('Match and file')").click()
    page.wait_for_selector(".messages .msg-success")
    assert ImagingStudy.objects.get().patient == known
    assert page.locator(".queue-item").count() == 1
    page.click("text=Message log")
    page.wait_for_selector("table.feed-log")
    screenshot(page, "hl7-log.png", tmp_path, full_page=False)
    assert page.console_errors == []
    log_out(page)
