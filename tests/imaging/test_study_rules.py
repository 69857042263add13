"""The study rules of docs/clinical-rules.md ("Phase agrees with dates", "Signing an MRI"):
refused with a field error by the service, the study form and the sign page."""

from datetime import date

import pytest
from django.urls import reverse

from imaging.models import ImagingStudy
from imaging.phase import phase_error
from imaging.services import StudyValidationError, study_amend, study_finalize, study_save_draft
from outbox.models import Event
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import PatientFactory, SurgeryFactory

pytestmark = pytest.mark.django_db
SURGERY = date(2016, 3, 1)


@pytest.fixture
def patient(site):
    patient = PatientFactory(site=site, date_of_birth=date(1966, 5, 14))
    SurgeryFactory(patient=patient, date=SURGERY)
    return patient


def mri(when=date(2017, 3, 1), **extra) -> dict:
    return {"study_date": when, "modality": "MR", "phase": "surveillance",
            "laterality": "bilateral", "birads": "1", **extra}


LESION = {"lesion": "M1", "laterality": "left", "lesion_type": "mass", "size_mm": 15}


@pytest.mark.parametrize(("when", "phase", "refused"), [
    (date(2016, 2, 29), "surveillance", True),
    (SURGERY, "surveillance", True),  # the surgery day is pre-surgical
    (date(2016, 3, 2), "surveillance", False),
    (date(2016, 2, 29), "post_nac", False),
    (SURGERY, "post_nac", False),
    (date(2016, 3, 2), "post_nac", True),
    (date(2017, 9, 1), "baseline", True),
])
def test_phase_must_agree_with_the_surgery_date(patient, clinic_staff, when, phase, refused):
    data = mri(when, phase=phase, no_enhancement=True)
    if not refused:
        assert study_save_draft(patient=patient, data=data, by=clinic_staff).phase == phase
        return
    with pytest.raises(StudyValidationError) as exc:
        study_save_draft(patient=patient, data=data, by=clinic_staff)
    assert list(exc.value.study_errors) == ["phase"]
    assert not ImagingStudy.objects.exists()


def test_without_a_surgery_the_phase_is_the_radiologists_choice():
    assert phase_error(phase="post_nac", study_date=date(2030, 1, 1), surgery_date=None) is None
    assert phase_error(phase="surveillance", study_date=date(2000, 1, 1), surgery_date=None) is None


@pytest.mark.parametrize(("lesions", "no_enhancement", "refused"), [
    ([], False, True), ([], True, False), ([LESION], False, False)])
def test_an_mri_is_signed_only_with_a_lesion_or_no_enhancement(patient, radiologist, lesions,
                                                                 no_enhancement, refused):
    draft = study_save_draft(patient=patient, data=mri(no_enhancement=no_enhancement),
                             by=radiologist, enhancements=lesions)
    if not refused:
        assert study_finalize(study=draft, by=radiologist).status == "final"
        return
    with pytest.raises(StudyValidationError) as exc:
        study_finalize(study=draft, by=radiologist)
    assert list(exc.value.study_errors) == ["no_enhancement"]
    draft.refresh_from_db()
    assert draft.status == "draft" and not Event.objects.exists()


def test_an_amendment_cannot_remove_the_last_lesion_without_no_enhancement(patient, radiologist):
    study = study_finalize(study=study_save_draft(patient=patient, data=mri(), by=radiologist,
                                                  enhancements=[LESION]), by=radiologist)
    with pytest.raises(StudyValidationError) as exc:
        study_amend(study=study, by=radiologist, reason="wrong patient's lesion", data={},
                    calcifications=[], enhancements=[])
    assert list(exc.value.study_errors) == ["no_enhancement"]
    assert study_amend(study=study, by=radiologist, reason="no lesion after all",
                       data={"no_enhancement": True}, calcifications=[], enhancements=[])


def _management(prefix: str) -> dict:
    return {f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_the_form_shows_the_signing_rule_on_the_no_enhancement_field(client, radiologist, patient):
    client.force_login(radiologist)
    url = reverse("study-create", kwargs={"uuid": patient.uuid}) + "?modality=MR"
    post = {"study_date": "2017-03-01", "phase": "surveillance", "laterality": "bilateral",
            "birads": "1", "bpe": "mild", "sign": "1"} | _management("enh")
    response = client.post(url, post)
    assert response.status_code == 200
    assert "no_enhancement" in response.context["form"].errors
    assert not ImagingStudy.objects.exists()  # a refused signature saves nothing
    response = client.post(url, post | {"no_enhancement": "on"})
    assert response.status_code == 302 and ImagingStudy.objects.get().status == "final"


def test_the_form_shows_a_contradicting_phase_on_the_phase_field(client, radiologist, patient):
    client.force_login(radiologist)
    url = reverse("study-create", kwargs={"uuid": patient.uuid}) + "?modality=MR"
    post = {"study_date": "2017-09-01", "phase": "post_nac", "laterality": "bilateral",
            "birads": "5", "bpe": "mild", "no_enhancement": "on"} | _management("enh")
    response = client.post(url, post)
    assert "surveillance study" in response.context["form"].errors["phase"][0]


def test_the_sign_page_refuses_an_mri_without_lesion_or_no_enhancement(client, radiologist, patient):
    study = ImagingStudyFactory(patient=patient, modality="MR", study_date=date(2017, 3, 1))
    client.force_login(radiologist)
    response = client.post(reverse("study-sign", kwargs={"uuid": study.uuid}), follow=True)
    assert "at least one enhancing lesion" in response.content.decode()
    study.refresh_from_db()
    assert study.status == "draft"
