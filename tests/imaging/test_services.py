from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from imaging.models import CalcificationFinding, ImagingStudy, StudyAmendment
from imaging.services import (
    StudyValidationError,
    study_amend,
    study_finalize,
    study_save_draft,
    study_void,
)
from outbox.models import Event
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db

MAMMOGRAM = {"study_date": date(2020, 2, 3), "modality": "MG", "phase": "surveillance",
             "laterality": "bilateral", "birads": "2", "breast_composition": "c"}


def calc(group="L1", **kw):
    row = {"group": group, "laterality": "left", "morphology": "fine_pleomorphic",
           "distribution": "segmental", "extent_mm": 18, "count_bin": ">20",
           "inside_tumor_bed": True, "observed_change": "stable"}
    return row | kw


@pytest.fixture
def patient(site):
    return PatientFactory(site=site, date_of_birth=date(1966, 5, 14))


def test_draft_with_findings_is_saved_whole(patient, clinic_staff):
    study = study_save_draft(patient=patient, data=MAMMOGRAM, by=clinic_staff,
                             calcifications=[calc("L1"), calc("L2", extent_mm=4)])
    assert study.status == "draft"
    assert sorted(study.calcifications.values_list("group", flat=True)) == ["L1", "L2"]
    assert not Event.objects.exists()  # drafts are never evaluated


def test_one_invalid_finding_row_saves_nothing_and_names_the_row(patient, clinic_staff):
    with pytest.raises(StudyValidationError) as err:
        study_save_draft(patient=patient, data=MAMMOGRAM, by=clinic_staff,
                         calcifications=[calc("L1"), calc("L2", clock=15, morphology="blob")])
    errors = err.value.message_dict
    assert "calcifications[1].clock" in errors
    assert "calcifications[1].morphology" in errors
    assert "calcifications[0].clock" not in errors
    assert not ImagingStudy.objects.exists()
    assert not CalcificationFinding.objects.exists()


def test_the_study_constraints_are_errors_on_their_fields(patient, clinic_staff):
    """Checked on the fields, not by a query each (the HL7 feed files ≥ 200 a second); a
    voided study gives its accession back, as the database's constraint says."""
    first = study_save_draft(patient=patient, data=MAMMOGRAM | {"accession": "A-1"}, by=clinic_staff)
    with pytest.raises(StudyValidationError) as exc:
        study_save_draft(patient=patient, data=MAMMOGRAM | {"accession": "A-1"}, by=clinic_staff)
    assert list(exc.value.study_errors) == ["accession"]
    assert study_save_draft(patient=patient, data=MAMMOGRAM | {"accession": "A-1", "birads": "3"},
                            by=clinic_staff, study=first).birads == "3"  # itself is no clash
    study_void(study=first, by=clinic_staff, reason="entered twice")
    assert study_save_draft(patient=patient, data=MAMMOGRAM | {"accession": "A-1"}, by=clinic_staff).pk
    with pytest.raises(StudyValidationError) as exc:
        study_save_draft(patient=patient, data=MAMMOGRAM | {"study_date": date(1899, 12, 31)},
                         by=clinic_staff)
    assert "The study date cannot be before 1900." in exc.value.study_errors["study_date"]


def test_findings_must_match_modality_and_laterality(patient, clinic_staff):
    mri = MAMMOGRAM | {"modality": "MR", "breast_composition": "", "no_enhancement": True}
    with pytest.raises(StudyValidationError) as err:
        study_save_draft(patient=patient, data=mri, by=clinic_staff,
                         calcifications=[calc()],
                         enhancements=[{"lesion": "E1", "laterality": "left", "lesion_type": "nme"}])
    text = " ".join(err.value.message_dict["__all__"])
    assert "Calcification findings belong on mammograms" in text
    assert "'no enhancement' cannot have enhancement findings" in text
    with pytest.raises(StudyValidationError) as err:
        study_save_draft(patient=patient, data=MAMMOGRAM | {"laterality": "right"},
                         by=clinic_staff, calcifications=[calc()])
    assert "left finding cannot be on a right study" in str(err.value)


def test_count_bin_is_filled_from_an_exact_count(patient, clinic_staff):
    study = study_save_draft(patient=patient, data=MAMMOGRAM, by=clinic_staff,
                             calcifications=[calc(count=8, count_bin="")])
    assert study.calcifications.get().count_bin == "6-10"


def test_only_a_radiologist_signs_and_signing_writes_one_outbox_row(
    patient, clinic_staff, radiologist, django_capture_on_commit_callbacks
):
    study = study_save_draft(patient=patient, data=MAMMOGRAM, by=clinic_staff,
                             calcifications=[calc()])
    with pytest.raises(PermissionDenied):
        study_finalize(study=study, by=clinic_staff)
    study = study_finalize(study=study, by=radiologist)
    study = study_finalize(study=study, by=radiologist)  # twice: still one row
    assert study.status == "final" and study.signed_by == radiologist
    row = Event.objects.get()
    assert (row.patient_id, row.object_id, row.kind) == (patient.id, study.id, "study_finalized")
    assert row.processed_at is None


def test_final_study_changes_only_by_amendment_with_before_and_after(
    patient, clinic_staff, radiologist
):
    study = study_save_draft(patient=patient, data=MAMMOGRAM, by=clinic_staff,
                             calcifications=[calc(extent_mm=18)])
    study_finalize(study=study, by=radiologist)
    with pytest.raises(PermissionDenied):
        study_save_draft(patient=patient, data=MAMMOGRAM, by=clinic_staff, study=study)
    with pytest.raises(PermissionDenied):
        study_amend(study=study, by=clinic_staff, reason="typo", data={},
                    calcifications=[calc()], enhancements=[])
    amendment = study_amend(study=study, by=radiologist, reason="Re-measured on magnification",
                            data={"birads": "3"}, calcifications=[calc(extent_mm=21)],
                            enhancements=[])
    assert amendment.amended_by == radiologist
    assert amendment.changes["birads"] == {"before": "2", "after": "3"}
    assert amendment.changes["calcifications"]["before"][0]["extent_mm"] == 18.0
    assert amendment.changes["calcifications"]["after"][0]["extent_mm"] == 21.0
    assert Event.objects.filter(kind="study_amended").count() == 1
    # An amendment that changes nothing records nothing.
    assert study_amend(study=study, by=radiologist, reason="checked", data={"birads": "3"},
                       calcifications=[calc(extent_mm=21)], enhancements=[]) is None
    assert StudyAmendment.objects.count() == 1


def test_invalid_amendment_keeps_the_signed_study_unchanged(patient, clinic_staff, radiologist):
    study = study_save_draft(patient=patient, data=MAMMOGRAM, by=clinic_staff,
                             calcifications=[calc(extent_mm=18)])
    study_finalize(study=study, by=radiologist)
    with pytest.raises(StudyValidationError):
        study_amend(study=study, by=radiologist, reason="x", data={"birads": "9"},
                    calcifications=[calc(extent_mm=-4)], enhancements=[])
    study.refresh_from_db()
    assert study.birads == "2"
    assert float(study.calcifications.get().extent_mm) == 18.0
    assert not StudyAmendment.objects.exists()
