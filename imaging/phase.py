"""A study's phase against its date and the surgery date (docs/clinical-rules.md,
"Phase agrees with dates"). Pure; the services, the CSV import and the HL7 feed share it."""

from datetime import date

from .vocabulary import Modality, Phase

PRE_SURGICAL = (Phase.BASELINE, Phase.MID_NAC, Phase.POST_NAC)


def is_post_surgical_date(study_date: date, surgery_date: date) -> bool:
    """After the surgery day. A study on the day of surgery (a pre-operative localisation,
    a specimen radiograph) is pre-surgical."""
    return study_date > surgery_date


def phase_error(*, phase: str, study_date: date | None, surgery_date: date | None) -> str | None:
    """Why `phase` contradicts the dates, or None. Without a surgery date (or a study date)
    the phase is the radiologist's to choose."""
    if surgery_date is None or study_date is None or not phase:
        return None
    if is_post_surgical_date(study_date, surgery_date):
        if phase != Phase.SURVEILLANCE:
            return (f"A study dated {study_date}, after the surgery of {surgery_date}, is a "
                    f"surveillance study, not {Phase(phase).label}.")
    elif phase == Phase.SURVEILLANCE:
        return (f"A study dated {study_date}, on or before the surgery of {surgery_date}, is "
                "pre-surgical: choose baseline, mid-NAC or post-NAC.")
    return None


NO_ENHANCEMENT_REQUIRED = ("Record at least one enhancing lesion, or mark the MRI 'no "
                           "enhancement', before signing it.")


def signing_error(*, modality: str, lesions: int, no_enhancement: bool) -> str | None:
    """An MRI is signed only with at least one lesion or an explicit "no enhancement": a
    signed MRI with neither would say nothing about enhancement."""
    if modality == Modality.MR and not lesions and not no_enhancement:
        return NO_ENHANCEMENT_REQUIRED
    return None
