"""Findings proposed from the report text: prefilled and marked in the study form, kept
apart from the study until a person saves, never signed by themselves; and the viewer link."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from imaging.extraction import extract
from imaging.models import ImagingStudy, StudyProposal
from imaging.proposals import prefill
from imaging.services import study_propose, study_save_draft
from patients.models import Site
from tests.patients.factories import PatientFactory

REPORT = ("Bilateral mammogram. The breasts are heterogeneously dense (ACR c). Left breast, upper outer "
          "quadrant: grouped fine pleomorphic calcifications over 1.4 cm, stable. BI-RADS 2: benign.")


def proposal() -> dict:
    return extract(REPORT, "MG").as_dict()


# --- pure -----------------------------------------------------------------------------------


def test_prefill_proposes_empty_study_fields_and_rows_with_their_words():
    filled = prefill(proposal(), modality="MG", study_values={"birads": "", "breast_composition": ""},
                     has_findings=False)
    assert filled.study == {"birads": "2", "breast_composition": "c"}
    assert "BI-RADS 2" in filled.study_evidence["birads"]
    [row] = filled.calcifications
    assert row.values["morphology"] == "fine_pleomorphic"
    assert row.values["extent_mm"] == 14
    assert row.values["group"] == "L1"
    assert row.evidence["morphology"] == "fine pleomorphic"


def test_prefill_never_overwrites_what_the_draft_has():
    filled = prefill(proposal(), modality="MG", study_values={"birads": "4A", "breast_composition": ""},
                     has_findings=True)
    assert filled.study == {"breast_composition": "c"}
    assert filled.calcifications == []


@pytest.mark.parametrize(("name", "value"), [("birads", "7"), ("breast_composition", "z"),
                                              ("birads", None), ("breast_composition", "")])
def test_values_outside_the_lexicon_are_not_proposed(name, value):
    data = {"birads": "2", "breast_composition": "c", name: value, "calcifications": [
        {"laterality": "left", "morphology": "glitter", "extent_mm": "-3", "clock": 13}]}
    filled = prefill(data, modality="MG", study_values={}, has_findings=False)
    assert name not in filled.study
    assert filled.calcifications[0].values == {"laterality": "left", "group": "L1"}


def test_mri_proposes_no_enhancement_only_without_lesions():
    clean = extract("Breast MRI: no suspicious enhancement in either breast. BI-RADS 1.", "MR").as_dict()
    assert prefill(clean, modality="MR", study_values={}, has_findings=False).study["no_enhancement"] is True
    clean["enhancements"] = [{"laterality": "left", "lesion_type": "mass"}]
    assert "no_enhancement" not in prefill(clean, modality="MR", study_values={}, has_findings=False).study


# --- storage and the form ------------------------------------------------------------------------


@pytest.fixture
def draft(site, clinic_staff, django_db_blocker):
    patient = PatientFactory(site=site, date_of_birth=date(1970, 1, 1))
    from django.db import transaction

    with transaction.atomic():
        study = study_save_draft(patient=patient, by=clinic_staff, data={
            "study_date": date(2026, 3, 1), "modality": "MG", "laterality": "bilateral",
            "report_text": REPORT, "accession": "ACC-P1"})
        study_propose(study=study, proposal=proposal(), source="test")
    return study


@pytest.mark.django_db
def test_the_form_shows_the_proposals_prefilled_and_marked(client, radiologist, draft):
    client.force_login(radiologist)
    page = client.get(reverse("study-edit", args=[draft.uuid])).content.decode()
    assert "proposed from the report text" in page
    assert 'data-proposed="1"' in page
    assert '<option value="2" selected' in page  # BI-RADS prefilled
    assert 'value="fine_pleomorphic" selected' in page
    assert "<q>fine pleomorphic</q>" in page
    draft.refresh_from_db()
    assert draft.birads == "" and not draft.calcifications.exists()  # the study itself is untouched


@pytest.mark.django_db
def test_saving_makes_them_the_studys_values_and_ends_the_proposal(client, radiologist, draft):
    client.force_login(radiologist)
    response = client.post(reverse("study-edit", args=[draft.uuid]), {
        "study_date": "2026-03-01", "accession": "ACC-P1", "phase": "surveillance", "laterality": "bilateral",
        "birads": "3", "breast_composition": "c", "report_text": REPORT,
        "calc-TOTAL_FORMS": "1", "calc-INITIAL_FORMS": "0", "calc-MIN_NUM_FORMS": "0",
        "calc-MAX_NUM_FORMS": "1000", "calc-0-group": "L1", "calc-0-laterality": "left",
        "calc-0-morphology": "fine_pleomorphic", "calc-0-distribution": "grouped", "calc-0-extent_mm": "14",
        "calc-0-count_bin": "6-10", "calc-0-quadrant": "UOQ", "calc-0-observed_change": "stable",
        "calc-0-inside_tumor_bed": "True", "save": "1"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.birads, draft.status) == ("3", "draft")  # edited, and not signed
    assert draft.calcifications.get().morphology == "fine_pleomorphic"
    stored = StudyProposal.objects.get(study=draft)
    assert stored.reviewed_by == radiologist
    event = AuditEvent.objects.filter(object_id=str(draft.pk), changes__has_key="proposal_reviewed").get()
    assert event.changes["proposal_reviewed"]["changed"] == ["birads"]
    assert event.changes["proposal_reviewed"]["kept"] == ["breast_composition"]
    page = client.get(reverse("study-edit", args=[draft.uuid])).content.decode()
    assert "proposed from the report text" not in page


@pytest.mark.django_db
def test_a_signed_study_takes_no_proposal(draft, radiologist):
    from django.core.exceptions import PermissionDenied
    from django.db import transaction

    from imaging.services import study_finalize

    study_finalize(study=draft, by=radiologist)
    draft.refresh_from_db()
    with pytest.raises(PermissionDenied), transaction.atomic():
        study_propose(study=draft, proposal=proposal(), source="test")


# --- Open in viewer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("template", ["https://pacs.example.org/view", "ftp://pacs/{accession}",
                                      "javascript:alert(1)//{accession}"])
def test_a_viewer_template_needs_https_and_the_accession_slot(template):
    with pytest.raises(ValidationError):
        Site(code="x", name="X", viewer_url_template=template).clean()


def test_the_viewer_link_quotes_the_accession():
    site = Site(code="x", name="X", viewer_url_template="https://pacs.example.org/v?acc={accession}")
    assert site.viewer_url("A 1/2") == "https://pacs.example.org/v?acc=A%201%2F2"
    assert site.viewer_url("") == ""
    assert Site(code="y", name="Y").viewer_url("A1") == ""


@pytest.mark.django_db
def test_study_page_and_timeline_link_to_the_viewer(client, radiologist, site, draft):
    site.viewer_url_template = "https://pacs.example.org/viewer?accession={accession}"
    site.save()
    client.force_login(radiologist)
    link = "https://pacs.example.org/viewer?accession=ACC-P1"
    assert link in client.get(reverse("study-detail", args=[draft.uuid])).content.decode()
    assert link in client.get(draft.patient.get_absolute_url()).content.decode()
    ImagingStudy.objects.filter(pk=draft.pk).update(accession="")
    assert "pacs.example.org" not in client.get(draft.patient.get_absolute_url()).content.decode()
