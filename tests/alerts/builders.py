"""Database patients for alert tests: the case-report patient's studies as rows."""

from datetime import date

from django.contrib.auth import get_user_model

from imaging import vocabulary as v
from imaging.services import study_finalize, study_save_draft
from tests.imaging.factories import (
    CalcificationFindingFactory,
    EnhancementFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import PatientFactory, RadiotherapyFactory, SurgeryFactory


def surveillance_patient(site, *, extent=18.0, years=range(2015, 2019)):
    """A treated patient (BCS 2014-10-06, RT to 2014-12-19) with final yearly
    mammograms, left group L1 at `extent` mm, and clean MRIs."""
    # One signer for every study: a factory user per study would hash a password each time.
    signer = get_user_model().objects.get_or_create(username="signer")[0]
    patient = PatientFactory(site=site)
    SurgeryFactory(patient=patient)
    RadiotherapyFactory(patient=patient)
    for year in years:
        mg = ImagingStudyFactory(patient=patient, final=True, study_date=date(year, 6, 12),
                                 birads=v.BiRads.B3, signed_by=signer)
        CalcificationFindingFactory(study=mg, group="L1", extent_mm=extent,
                                    observed_change="stable")
        ImagingStudyFactory(patient=patient, final=True, study_date=date(year, 12, 10),
                            modality=v.Modality.MR, birads=v.BiRads.B1, no_enhancement=True,
                            signed_by=signer)
    return patient


def calc_row(group="L1", extent=33, morphology="fine_linear_branching", inside=True, **extra):
    return {"group": group, "laterality": "left", "morphology": morphology,
            "distribution": "segmental", "extent_mm": extent, "count_bin": ">20",
            "inside_tumor_bed": inside, **extra}


def progressing_draft(patient, by, *, when=date(2020, 6, 15), rows=None):
    """A draft mammogram whose findings progress (+15 mm, fine linear branching)."""
    return study_save_draft(
        patient=patient, by=by,
        data={"study_date": when, "modality": "MG", "phase": "surveillance",
              "laterality": "bilateral", "birads": "3"},
        calcifications=rows if rows is not None else [calc_row()],
    )


def finalize_progressing(patient, radiologist, **kwargs):
    return study_finalize(study=progressing_draft(patient, radiologist, **kwargs), by=radiologist)


def enhancing_mri(patient, by, when=date(2021, 12, 1)):
    study = ImagingStudyFactory(patient=patient, final=True, study_date=when,
                                modality=v.Modality.MR, birads="", signed_by=by)
    EnhancementFindingFactory(study=study, lesion="L-NME2", kinetics_delayed="washout")
    return study
