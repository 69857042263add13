"""The four letters: plain-language results (both sides of every BI-RADS step), each
language, consent and address rules, the contact log, and reprints as sent."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from outreach import letters as L
from outreach.checks import compiled_catalogues
from outreach.models import Letter, LetterKind, LetterTemplate
from outreach.services import LetterRefused, letter_create, letter_template_save
from patients.models import ContactDetails
from surveillance.models import ContactLog
from tests.api.helpers import scheduled
from tests.imaging.factories import ImagingStudyFactory
from tests.outreach.pdf import pdf_pages, pdf_text
from tests.patients.factories import PatientFactory

TODAY = date(2026, 12, 4)
HEAD = L.Letterhead(
    name="North Clinic Breast Imaging",
    address_lines=("Hospital Road", "Leeds LS1 3EX"),
    phone="0113 496 0123",
    signatory_name="Sam Carter",
    signatory_title="Coordinator",
)


@pytest.mark.parametrize(
    "birads, category",
    [
        ("0", "incomplete"),
        ("1", "normal"),
        ("2", "benign"),
        ("3", "probably_benign"),
        ("4", "suspicious"),
        ("4A", "suspicious"),
        ("4B", "suspicious"),
        ("4C", "suspicious"),
        ("5", "suspicious"),
        ("6", "known_cancer"),
    ],
)
def test_result_category_for_every_assessment(birads, category):
    assert L.result_category(birads) == category


@pytest.mark.parametrize("birads", ["", "7", "4D"])
def test_no_result_without_an_assessment(birads):
    with pytest.raises(ValueError):
        L.result_category(birads)


def _letter(kind, language, **kw) -> str:
    base = dict(
        kind=kind,
        language=language,
        letterhead=HEAD,
        recipient=L.Person("Rosa Almeida", ("1 Mill Lane",)),
        patient=L.Person("Rosa Almeida", ("1 Mill Lane",)),
        mrn="NC-1",
        date_of_birth=date(1960, 1, 2),
        reference="AB12CD34",
        today=TODAY,
    )
    return L.render_letter(L.LetterInput(**{**base, **kw}))


MG_DUE = L.Exam("mammogram", "bilateral", date(2027, 3, 3))


@pytest.mark.parametrize(
    "language, phrases",
    [
        (
            "en-gb",
            [
                "Dear Rosa Almeida,",
                "Mammogram — both breasts, due on 3 March 2027",
                "Please call us on 0113 496 0123",
                "4 December 2026",
            ],
        ),
        (
            "fr",
            [
                "Bonjour Rosa Almeida,",
                "Mammographie — les deux seins — date prévue : 3 mars 2027",
                "Merci de nous appeler au 0113 496 0123",
                "4 décembre 2026",
            ],
        ),
        (
            "es",
            [
                "Estimado/a Rosa Almeida:",
                "Mamografía — ambas mamas, prevista el 3 de marzo de 2027",
                "Llámenos al 0113 496 0123",
                "4 de diciembre de 2026",
            ],
        ),
    ],
)
def test_reminder_in_each_language(language, phrases):
    html = _letter(LetterKind.DUE_REMINDER, language, exams=[MG_DUE])
    for phrase in phrases:
        assert phrase in html
    assert f'<html lang="{language}">' in html


def test_recall_and_plurals():
    one = _letter(LetterKind.OVERDUE_RECALL, "en-gb", exams=[MG_DUE])
    two = _letter(
        LetterKind.OVERDUE_RECALL, "fr", exams=[MG_DUE, L.Exam("clinical_exam", "", date(2027, 1, 5))]
    )
    assert "the following check-up has not yet taken place" in one
    assert "les examens suivants n’ont pas encore eu lieu" in two and "Examen clinique" in two


@pytest.mark.parametrize(
    "birads, composition, says, not_says",
    [
        ("1", "b", "showed no sign of cancer", "dense"),
        ("2", "c", "not cancer (benign) and need no treatment", "more tests"),
        ("3", "a", "in about six months", "no sign of cancer"),
        ("0", "a", "We need more pictures", "no sign of cancer"),
        ("4B", "a", "usually a biopsy", "Your next check-up"),
        ("6", "a", "sent to your breast care team", "biopsy"),
    ],
)
def test_result_letter_in_plain_words(birads, composition, says, not_says):
    study = L.StudyResult("MG", date(2026, 11, 20), birads, composition)
    html = _letter(LetterKind.RESULT, "en-gb", study=study, next_exam=MG_DUE)
    assert says in html and not_says not in html
    assert ("breast tissue is dense" in html) == (composition in "cd")


def test_dense_breasts_are_a_mammogram_matter_only():
    assert L.StudyResult("MG", TODAY, "1", "d").dense and not L.StudyResult("MR", TODAY, "1", "d").dense


def test_catalogues_are_compiled():
    assert compiled_catalogues() == []


@pytest.fixture
def patient(site):
    patient = PatientFactory(site=site, given_name="Rosa", family_name="Almeida", mrn="NC-77")
    ContactDetails.objects.create(
        patient=patient,
        address_line1="12 Mill Lane",
        city="Leeds",
        postal_code="LS1 4AB",
        preferred_language="fr",
        may_write=True,
        may_write_to_gp=True,
        consent_recorded_on=date(2024, 1, 1),
        gp_name="Dr Anna Price",
        gp_practice="Mill Lane Surgery",
        gp_address="1 High St\nLeeds LS2 1AA",
    )
    return patient


@pytest.mark.django_db
def test_a_letter_is_stored_as_printed_logged_and_audited(patient, coordinator):
    item = scheduled(patient, date.today() - timedelta(days=90))
    letter = letter_create(kind=LetterKind.OVERDUE_RECALL, patient=patient, by=coordinator, items=[item])
    assert letter.language == "fr" and "Nous souhaitons vous revoir" in letter.html
    assert "12 Mill Lane" in letter.html and letter.reference in letter.html
    log = ContactLog.objects.get(item=item)
    assert log.outcome == "letter_sent" and log.by == coordinator
    assert "Overdue recall" in log.note and letter.reference in log.note and "French" in log.note
    assert list(letter.contacts.all()) == [log] and list(letter.items.all()) == [item]
    event = AuditEvent.objects.get(action=Action.EXPORT, object_type="outreach.Letter")
    assert event.patient_id == patient.id and event.changes["reference"] == letter.reference


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, reason",
    [
        ({"may_write": False}, "not agreed to receive letters"),
        ({"address_line1": "", "city": "", "postal_code": ""}, "No postal address"),
    ],
)
def test_no_consent_or_no_address_no_letter(patient, coordinator, change, reason):
    ContactDetails.objects.filter(patient=patient).update(**change)
    item = scheduled(patient, date.today())
    with pytest.raises(LetterRefused, match=reason):
        letter_create(kind=LetterKind.DUE_REMINDER, patient=patient, by=coordinator, items=[item])
    assert not Letter.objects.exists() and not ContactLog.objects.exists()


@pytest.mark.django_db
def test_gp_letter_needs_consent_and_is_in_the_sites_language(patient, coordinator):
    item = scheduled(patient, date.today() - timedelta(days=90))
    letter = letter_create(kind=LetterKind.GP, patient=patient, by=coordinator, items=[item])
    assert letter.language == "en-gb" and letter.recipient == "gp"
    assert "Dear Dr Anna Price," in letter.html and "Mill Lane Surgery" in letter.html
    assert "Re: Rosa Almeida" in letter.html and "overdue since" in letter.html
    ContactDetails.objects.filter(patient=patient).update(may_write_to_gp=False)
    with pytest.raises(LetterRefused, match="GP"):
        letter_create(kind=LetterKind.GP, patient=patient, by=coordinator, items=[item])


@pytest.mark.django_db
def test_result_letter_needs_a_signed_assessed_study_of_hers(patient, coordinator, site):
    draft = ImagingStudyFactory(patient=patient, birads="1")
    with pytest.raises(LetterRefused, match="signed"):
        letter_create(kind=LetterKind.RESULT, patient=patient, by=coordinator, study=draft)
    unassessed = ImagingStudyFactory(patient=patient, birads="", final=True)
    with pytest.raises(LetterRefused, match="BI-RADS"):
        letter_create(kind=LetterKind.RESULT, patient=patient, by=coordinator, study=unassessed)
    someone_else = ImagingStudyFactory(patient=PatientFactory(site=site), birads="1", final=True)
    with pytest.raises(LetterRefused):
        letter_create(kind=LetterKind.RESULT, patient=patient, by=coordinator, study=someone_else)
    signed = ImagingStudyFactory(patient=patient, birads="2", final=True, study_date=date(2025, 6, 1))
    letter = letter_create(kind=LetterKind.RESULT, patient=patient, by=coordinator, study=signed)
    assert "Le résultat de votre mammographie du 1 juin 2025" in letter.html
    # A study outside the plan: the contact log entry is the patient's, about no item.
    assert ContactLog.objects.get(patient=patient, item__isnull=True).outcome == "letter_sent"


@pytest.mark.django_db
def test_a_letter_prints_again_as_sent_after_the_template_changed(patient, coordinator, site_admin, client):
    template = letter_template_save(
        template=LetterTemplate(
            site=patient.site, letterhead_name="North Clinic Imaging", signatory_name="Sam Carter"
        ),
        by=site_admin,
    )
    item = scheduled(patient, date.today())
    first = letter_create(kind=LetterKind.DUE_REMINDER, patient=patient, by=coordinator, items=[item])
    template.letterhead_name, template.signatory_name = "North Clinic Renamed", "Alex Doe"
    letter_template_save(template=template, by=site_admin)
    assert template.version == 2 and first.template_version == 1
    client.force_login(coordinator)
    reprint = pdf_text(client.get(reverse("letter-pdf", kwargs={"uuid": first.uuid})).content)
    assert "North Clinic Imaging" in reprint and "Sam Carter" in reprint and "Renamed" not in reprint
    second = letter_create(kind=LetterKind.DUE_REMINDER, patient=patient, by=coordinator, items=[item])
    assert "North Clinic Renamed" in second.html and second.template_version == 2
    assert pdf_pages(client.get(reverse("letter-pdf", kwargs={"uuid": second.uuid})).content) == 1


@pytest.mark.django_db
def test_patient_letters_page_writes_one_and_lists_them(patient, coordinator, client):
    item = scheduled(patient, date.today())
    client.force_login(coordinator)
    url = reverse("patient-letters", kwargs={"uuid": patient.uuid})
    response = client.post(url, {"kind": "due_reminder"})
    assert response.status_code == 400 and "Tick the exams" in response.content.decode()
    response = client.post(url, {"kind": "due_reminder", "items": [item.id]})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    letter = Letter.objects.get()
    assert letter.reference in page and "Surveillance-due reminder" in page
    text = pdf_text(client.get(reverse("letter-pdf", kwargs={"uuid": letter.uuid})).content)
    assert "Votre examen de suivi est à prévoir" in text and "Rosa Almeida" in text


@pytest.mark.django_db
def test_template_page_previews_without_saving_then_saves(site_admin, site, client):
    client.force_login(site_admin)
    url = reverse("letter-template-edit", kwargs={"pk": site.pk})
    form = {
        "letterhead_name": "North Breast Unit",
        "letterhead_address": "Hospital Road\nLeeds",
        "phone": "0113 496 0999",
        "signatory_name": "Dr Lee",
        "gp_letter_language": "en-gb",
        "preview_kind": "result",
        "preview_language": "es",
    }
    preview = client.post(url, {**form, "action": "preview"})
    assert preview.status_code == 200 and not LetterTemplate.objects.exists()
    html = preview.content.decode()
    assert "North Breast Unit" in html and "El resultado de su mamografía" in html
    assert client.post(url, {**form, "action": "save"}).status_code == 302
    saved = LetterTemplate.objects.get(site=site)
    assert saved.phone == "0113 496 0999" and saved.version == 1 and saved.updated_by == site_admin
    assert AuditEvent.objects.filter(object_type="outreach.LetterTemplate", action=Action.CREATE).exists()
    pdf = client.get(
        reverse("letter-template-preview", kwargs={"pk": site.pk}),
        {"preview_kind": "gp", "preview_language": "en-gb"},
    ).content
    assert "North Breast Unit" in pdf_text(pdf) and "Dear Dr A. Example," in pdf_text(pdf)
    bad = client.post(url, {**form, "letterhead_name": "", "action": "save"})
    assert bad.status_code == 400 and LetterTemplate.objects.get(site=site).version == 1
