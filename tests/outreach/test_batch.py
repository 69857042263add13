"""Printing the day's letters from the worklist: one PDF, each patient in her language,
each letter in the contact log; who could not get one, and why."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from outreach.models import Letter, LetterBatch
from patients.models import ContactDetails
from surveillance.models import ContactLog
from tests.api.helpers import scheduled
from tests.outreach.pdf import pdf_pages, pdf_text
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


def with_contact(site, name, language, **fields):
    given, family = name.split()
    patient = PatientFactory(site=site, given_name=given, family_name=family)
    ContactDetails.objects.create(
        patient=patient,
        address_line1="1 Road",
        postal_code="LS1 1AA",
        preferred_language=language,
        may_write=True,
        consent_recorded_on=date(2024, 1, 1),
        **fields,
    )
    return patient


def test_worklist_prints_every_patients_letter_in_her_language_in_one_pdf(site, coordinator, client):
    today = date.today()
    french = with_contact(site, "Rosa Almeida", "fr")
    spanish = with_contact(
        site, "Lucia Garcia", "es", may_write_to_gp=True, gp_name="Dr Ruiz", gp_address="Calle Mayor 1"
    )
    english = with_contact(site, "Ann Brown", "en-gb")
    no_consent = PatientFactory(site=site, given_name="Mia", family_name="Stone")
    items = [
        scheduled(french, today - timedelta(days=100)),  # overdue: recall
        scheduled(spanish, today - timedelta(days=90)),  # overdue: recall (+ GP)
        scheduled(spanish, today - timedelta(days=80), kind="clinical_exam"),
        scheduled(english, today + timedelta(days=10)),  # due: reminder
        scheduled(no_consent, today),
    ]
    client.force_login(coordinator)
    response = client.post(
        reverse("letters-batch"),
        {"item": [str(i.uuid) for i in items], "gp_letters": "on", "filters": "state=overdue"},
    )
    batch = LetterBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "letter-batch", kwargs={"uuid": batch.uuid}
    )
    page = client.get(response.url).content.decode()
    assert "Mia Stone" in page and "No contact details are recorded" in page

    letters = list(batch.letters.order_by("id"))
    assert [(x.patient_id, x.kind, x.language) for x in letters] == [
        (french.id, "overdue_recall", "fr"),
        (spanish.id, "overdue_recall", "es"),
        (spanish.id, "gp", "en-gb"),
        (english.id, "due_reminder", "en-gb"),
    ]
    assert (
        ContactLog.objects.filter(outcome="letter_sent").count() == 1 + 2 + 2 + 1
    )  # per item, GP letter too

    pdf = client.get(reverse("letter-batch-pdf", kwargs={"uuid": batch.uuid})).content
    assert pdf_pages(pdf) == 4  # one page each: every letter starts on its own page
    first, second, third, fourth = (pdf_text(pdf, first=n, last=n) for n in (1, 2, 3, 4))
    assert "Rosa Almeida" in first and "Nous souhaitons vous revoir pour votre suivi" in first
    assert "Lucia Garcia" in second and "Queremos verle para su seguimiento" in second
    assert "Mamografía — ambas mamas" in second and "Exploración clínica" in second
    assert "Dear Dr Ruiz," in third and "Re: Lucia Garcia" in third
    assert "Ann Brown" in fourth and "Your follow-up check-up is due" in fourth
    assert "Mia Stone" not in pdf_text(pdf)


def test_nothing_ticked_goes_back_to_the_worklist_with_the_error(coordinator, client):
    client.force_login(coordinator)
    response = client.post(reverse("letters-batch"), {"filters": "state=due"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("worklist") + "?state=due"
    assert "Tick the items to write letters about." in response.content.decode()
    assert not Letter.objects.exists()


def test_a_batch_is_its_printers_alone(site, coordinator, clinic_staff, client):
    patient = with_contact(site, "Rosa Almeida", "fr")
    client.force_login(coordinator)
    client.post(reverse("letters-batch"), {"item": [str(scheduled(patient, date.today()).uuid)]})
    batch = LetterBatch.objects.get()
    client.force_login(clinic_staff)
    assert client.get(reverse("letter-batch-pdf", kwargs={"uuid": batch.uuid})).status_code == 404
    letter = batch.letters.get()
    assert client.get(reverse("letter-pdf", kwargs={"uuid": letter.uuid})).status_code == 200
