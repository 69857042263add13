"""Hand-built cohorts: one call per patient, with exactly the facts a test needs."""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from imaging import vocabulary as iv
from patients import vocabulary as pv
from tests.imaging.factories import (
    CalcificationFindingFactory,
    EnhancementFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import (
    PathologyFactory,
    PatientFactory,
    SurgeryFactory,
    TumourProfileFactory,
)

# Receptors giving each subtype (patients.vocabulary.derive_subtype).
RECEPTORS = {
    pv.Subtype.HR_POS_HER2_NEG: {"er_percent": 80, "pr_percent": 20, "her2_ihc": pv.Her2Ihc.ONE},
    pv.Subtype.HR_POS_HER2_POS: {"er_percent": 50, "pr_percent": 0, "her2_ihc": pv.Her2Ihc.THREE},
    pv.Subtype.HR_NEG_HER2_POS: {"er_percent": 0, "pr_percent": 0, "her2_ihc": pv.Her2Ihc.THREE},
    pv.Subtype.TRIPLE_NEGATIVE: {"er_percent": 0, "pr_percent": 0, "her2_ihc": pv.Her2Ihc.ZERO},
}
SURGERY = date(2020, 3, 2)


def signer():
    """One signing radiologist for every study (factory users hash a password each time)."""
    user, _ = get_user_model().objects.get_or_create(username="cohort-signer")
    return user


def study(patient, modality, when, *, final=True, phase=iv.Phase.POST_NAC, **extra):
    kwargs = {"patient": patient, "modality": modality, "study_date": when, "phase": phase, **extra}
    if modality == iv.Modality.MR:
        kwargs.setdefault("birads", "")
    if final:
        kwargs.update(status=iv.StudyStatus.FINAL, signed_by=signer(), signed_at=timezone.now())
    return ImagingStudyFactory(**kwargs)


def mri(patient, when, *, enhancement: bool, final=True):
    s = study(patient, iv.Modality.MR, when, final=final,
              no_enhancement=not enhancement)
    if enhancement:
        EnhancementFindingFactory(study=s)
    return s


def mammogram(patient, when, *, morphology: str | None, final=True):
    s = study(patient, iv.Modality.MG, when, final=final)
    if morphology:
        CalcificationFindingFactory(study=s, morphology=morphology)
    return s


def patient(site, *, subtype=pv.Subtype.HR_POS_HER2_POS, ypt="ypT0", ypn="ypN0",
            mr: str | None = None, mg: str | None = None, histology="not_sampled",
            surgery_date=SURGERY, procedure=pv.SurgeryProcedure.BCS, pathology=True):
    """A patient after NAC.

    mr: "pos" (enhancement), "neg" (no enhancement), "draft" (unsigned only) or None.
    mg: "pos" (fine pleomorphic), "benign" (round calcifications), "neg" (none),
    "draft" or None. Post-NAC studies are dated three weeks before surgery.
    """
    p = PatientFactory(site=site)
    TumourProfileFactory(patient=p, **RECEPTORS[subtype])
    surgery = SurgeryFactory(patient=p, date=surgery_date, procedure=procedure)
    if pathology:
        PathologyFactory(surgery=surgery, ypt=ypt, ypn=ypn,
                         excised_calcification_histology=histology)
    when = surgery_date - timedelta(days=21)
    if mr:
        mri(p, when, enhancement=(mr == "pos"), final=(mr != "draft"))
    if mg:
        morph = {"pos": iv.Morphology.FINE_PLEOMORPHIC, "benign": iv.Morphology.ROUND,
                 "draft": iv.Morphology.FINE_PLEOMORPHIC}.get(mg)
        mammogram(p, when, morphology=morph, final=(mg != "draft"))
    return p
