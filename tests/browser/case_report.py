"""The case-report patient (docs/clinical-rules.md) built with factories: ten years after NAC and surgery.

Grade 3 IDC with DCIS, ER 50% / PR 0 / HER2 3+, extensive pleomorphic calcifications
and NME with a washout curve; AC then paclitaxel + trastuzumab; BCS + ALND with pCR;
residual calcifications followed every six months for ten years: decreased after
surgery, stable since, and no MRI enhancement after NAC.
"""

from datetime import date

from django.utils import timezone

from imaging import vocabulary as iv
from patients import vocabulary as pv
from tests.imaging.factories import (
    CalcificationFindingFactory,
    EnhancementFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import (
    NacCourseFactory,
    PathologyFactory,
    PatientFactory,
    RadiotherapyFactory,
    SurgeryFactory,
    TumourProfileFactory,
    UserFactory,
)

SURGERY = date(2014, 10, 6)


def _mg(patient, signer, day, phase, extent, *, change="", count_bin=">20",
        morphology=iv.Morphology.FINE_PLEOMORPHIC, birads="2"):
    study = ImagingStudyFactory(patient=patient, study_date=day, modality=iv.Modality.MG, phase=phase,
                                birads=birads, breast_composition="c", status=iv.StudyStatus.FINAL,
                                signed_by=signer, signed_at=timezone.now())
    CalcificationFindingFactory(study=study, group="L1", laterality="left", morphology=morphology,
                                distribution=iv.Distribution.SEGMENTAL, extent_mm=extent,
                                count_bin=count_bin, observed_change=change, quadrant="UOQ", clock=2)
    return study


def _mr(patient, signer, day, phase, *, size=None, birads="1"):
    study = ImagingStudyFactory(patient=patient, study_date=day, modality=iv.Modality.MR, phase=phase,
                                birads=birads, no_enhancement=size is None, bpe="mild",
                                status=iv.StudyStatus.FINAL, signed_by=signer, signed_at=timezone.now())
    if size is not None:
        EnhancementFindingFactory(study=study, lesion="L-NME1", laterality="left",
                                  lesion_type=iv.LesionType.NME, size_mm=size,
                                  kinetics_initial="fast", kinetics_delayed=iv.KineticsDelayed.WASHOUT)
    return study


def case_report_patient(site, *, given_name="Maria", family_name="Case", mrn="CR-0001"):
    signer = UserFactory(username="dr-case-signer", first_name="Ana", last_name="Reyes")
    patient = PatientFactory(site=site, given_name=given_name, family_name=family_name, mrn=mrn,
                             date_of_birth=date(1966, 2, 10))
    TumourProfileFactory(patient=patient, laterality=pv.Laterality.LEFT, diagnosis_date=date(2014, 3, 3),
                         histology=pv.Histology.IDC, grade=3, dcis_component=True, comedo_necrosis=True,
                         er_percent=50, pr_percent=0, her2_ihc=pv.Her2Ihc.THREE,
                         diagnosis_calcifications=True, diagnosis_mammogram_date=date(2014, 2, 24),
                         clinical_t="cT2", clinical_n="cN1")
    NacCourseFactory(patient=patient, regimen="AC", cycles=4,
                     start_date=date(2014, 3, 24), end_date=date(2014, 5, 26))
    NacCourseFactory(patient=patient, regimen="Paclitaxel + trastuzumab", agents="paclitaxel, trastuzumab",
                     cycles=12, start_date=date(2014, 6, 9), end_date=date(2014, 8, 25))
    surgery = SurgeryFactory(patient=patient, date=SURGERY, laterality="left",
                             procedure=pv.SurgeryProcedure.BCS, axilla=pv.Axilla.ALND,
                             residual_calcifications_in_place=True)
    PathologyFactory(surgery=surgery, ypt=pv.YpT.T0, ypn=pv.YpN.N0, rcb_class=pv.RcbClass.RCB_0,
                     excised_calcification_histology=pv.CalcificationHistology.BENIGN)
    RadiotherapyFactory(patient=patient, start_date=date(2014, 11, 10), end_date=date(2014, 12, 19),
                        target="whole breast + boost")

    _mg(patient, signer, date(2014, 2, 24), iv.Phase.BASELINE, 62, birads="6")
    _mr(patient, signer, date(2014, 3, 5), iv.Phase.BASELINE, size=48, birads="6")
    _mg(patient, signer, date(2014, 6, 2), iv.Phase.MID_NAC, 55, change="decrease_size", birads="6")
    _mg(patient, signer, date(2014, 9, 8), iv.Phase.POST_NAC, 50, change="not_significantly_changed",
        birads="6")
    _mr(patient, signer, date(2014, 9, 10), iv.Phase.POST_NAC, birads="6")
    # Surveillance to 2025: mammograms every four months for two years (residual
    # calcifications left in place), then every six months; MRI every September.
    dates = [date(2015 + k // 3, 3 + 4 * (k % 3), 16) for k in range(6)]
    dates += [date(2017 + k // 2, 5 if k % 2 == 0 else 11, 16) for k in range(18)]
    extents = [22, 16, 14.5, 14] + [14] * (len(dates) - 4)
    for i, (day, extent) in enumerate(zip(dates, extents, strict=True)):
        _mg(patient, signer, day, iv.Phase.SURVEILLANCE, extent,
            change="decrease_size" if i < 3 else "stable", count_bin="11-20" if i else ">20")
    for year in range(2015, 2026):
        _mr(patient, signer, date(year, 9, 12), iv.Phase.SURVEILLANCE)
    return patient


def patient_with_studies(site, n: int, *, signer=None):
    """A patient with `n` signed mammograms, two calcification groups each (query budgets)."""
    signer = signer or UserFactory(username="budget-signer")
    patient = PatientFactory(site=site)
    TumourProfileFactory(patient=patient)
    SurgeryFactory(patient=patient, date=date(2010, 1, 10))
    NacCourseFactory(patient=patient, start_date=date(2009, 6, 1), end_date=date(2009, 11, 1))
    for k in range(n):
        study = ImagingStudyFactory(patient=patient, study_date=date(2010 + k // 4, 1 + 3 * (k % 4), 5),
                                    status=iv.StudyStatus.FINAL, signed_by=signer, signed_at=timezone.now())
        CalcificationFindingFactory(study=study, group="L1", extent_mm=10 + k % 3)
        CalcificationFindingFactory(study=study, group="L2", extent_mm=4)
    return patient
