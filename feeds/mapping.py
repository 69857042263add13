"""From HL7 values to the tracker's vocabulary. Pure functions: tested without a database."""

import re
from datetime import date

from imaging.phase import is_post_surgical_date
from imaging.vocabulary import BiRads, Modality, Phase

# OBR-24 (diagnostic service section) and words of OBR-4's text that name a modality, used
# when the procedure code is not in the admins' table.
SECTIONS = {"MG": Modality.MG, "MAM": Modality.MG, "MAMMO": Modality.MG, "MR": Modality.MR,
            "MRI": Modality.MR, "US": Modality.US, "BUS": Modality.US}
TEXT_MODALITY = [
    (re.compile(r"\b(MRI|MR|MAGNETIC)\b"), Modality.MR),
    (re.compile(r"\b(MAMMO\w*|MAM|MG|TOMOSYNTHESIS|DBT)\b"), Modality.MG),
    (re.compile(r"\b(US|ULTRASOUND|ULTRASONOGRAPHY|SONO\w*)\b"), Modality.US),
]
LATERALITY_WORDS = [
    (re.compile(r"\b(BILAT\w*|BIL|BOTH)\b"), "bilateral"),
    (re.compile(r"\b(LEFT|LT|LFT)\b"), "left"),
    (re.compile(r"\b(RIGHT|RT|RGT)\b"), "right"),
]
BIRADS_CODES = {"RDE1586"}  # RadLex: BI-RADS assessment category (DESIGN's FHIR mapping)
BIRADS_VALUE = re.compile(r"^(?:(?:BI-?RADS|CATEGORY|CAT)[\s:_-]*)?([0-6])\s*([ABC])?\b")


def modality_from(*, section: str, procedure_text: str) -> str | None:
    """MG / MR / US from OBR-24, else from the words of the procedure's name, else None."""
    if (found := SECTIONS.get(section.strip().upper())) is not None:
        return found
    words = procedure_text.upper()
    for pattern, modality in TEXT_MODALITY:
        if pattern.search(words):
            return modality
    return None


def laterality_from_text(text: str) -> str | None:
    """left / right / bilateral when the procedure's name says so ("MAMMO DIAG LT")."""
    words = text.upper()
    found = {side for pattern, side in LATERALITY_WORDS if pattern.search(words)}
    if "bilateral" in found or found == {"left", "right"}:
        return "bilateral"
    return found.pop() if len(found) == 1 else None


def is_birads_observation(code: str, text: str) -> bool:
    """An OBX that carries the BI-RADS assessment: RadLex RDE1586, or BI-RADS in its name."""
    name = f"{code} {text}".upper().replace(" ", "").replace("-", "")
    return code.upper() in BIRADS_CODES or "BIRADS" in name


def birads_from(value: str) -> str | None:
    """The BI-RADS category of an OBX-5 ("4A", "BI-RADS 4", "Category4", "4^Suspicious")."""
    match = BIRADS_VALUE.match(value.strip().upper())
    if not match:
        return None
    category = match[1] + (match[2] or "")
    return category if category in BiRads.values else None


def phase_for(study_date: date, *, surgery_dates: list[date], nac_start: date | None,
              nac_end: date | None) -> str:
    """The study's phase from its date and the patient's treatment dates (DESIGN: a study's
    phase must agree with its date and the surgery date). A radiologist can change it on the
    draft; with no treatment recorded it is surveillance, the tracker's usual case."""
    if surgery_dates and is_post_surgical_date(study_date, min(surgery_dates)):
        return Phase.SURVEILLANCE
    if nac_start is not None and study_date < nac_start:
        return Phase.BASELINE
    if nac_end is not None and study_date >= nac_end:
        return Phase.POST_NAC
    if nac_start is not None:
        return Phase.MID_NAC
    return Phase.POST_NAC if surgery_dates else Phase.SURVEILLANCE
