"""Clinical vocabulary for patients, tumours and treatment (docs/clinical-rules.md, "Vocabulary").

Pure choices and functions: no database access, importable from rules and charts.
"""

from django.db import models


class Laterality(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Bilateral"


class Breast(models.TextChoices):
    """One breast: findings and burden are always per breast."""

    LEFT = "left", "Left"
    RIGHT = "right", "Right"


class FollowUpStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    DECEASED = "deceased", "Deceased"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"
    TRANSFERRED = "transferred", "Transferred"


class Histology(models.TextChoices):
    IDC = "IDC", "Invasive ductal carcinoma (NST)"
    ILC = "ILC", "Invasive lobular carcinoma"
    DCIS = "DCIS", "Ductal carcinoma in situ"
    MIXED = "mixed", "Mixed"
    OTHER = "other", "Other"


class Grade(models.IntegerChoices):
    G1 = 1, "Grade 1"
    G2 = 2, "Grade 2"
    G3 = 3, "Grade 3"


class Her2Ihc(models.TextChoices):
    ZERO = "0", "0"
    ONE = "1+", "1+"
    TWO = "2+", "2+ (equivocal)"
    THREE = "3+", "3+"


class Her2Ish(models.TextChoices):
    AMPLIFIED = "amplified", "Amplified"
    NOT_AMPLIFIED = "not_amplified", "Not amplified"


class Subtype(models.TextChoices):
    HR_POS_HER2_NEG = "HR+/HER2-", "HR+/HER2−"
    HR_POS_HER2_POS = "HR+/HER2+", "HR+/HER2+"
    HR_NEG_HER2_POS = "HR-/HER2+", "HR−/HER2+"
    TRIPLE_NEGATIVE = "triple_negative", "Triple negative"
    UNKNOWN = "unknown", "Unknown (incomplete receptors)"


class ClinicalT(models.TextChoices):
    TX = "cTX", "cTX"
    T0 = "cT0", "cT0"
    TIS = "cTis", "cTis"
    T1 = "cT1", "cT1"
    T2 = "cT2", "cT2"
    T3 = "cT3", "cT3"
    T4 = "cT4", "cT4"


class ClinicalN(models.TextChoices):
    NX = "cNX", "cNX"
    N0 = "cN0", "cN0"
    N1 = "cN1", "cN1"
    N2 = "cN2", "cN2"
    N3 = "cN3", "cN3"


class SurgeryProcedure(models.TextChoices):
    BCS = "BCS", "Breast-conserving surgery"
    MASTECTOMY = "mastectomy", "Mastectomy"


class Axilla(models.TextChoices):
    SLNB = "SLNB", "Sentinel lymph node biopsy"
    ALND = "ALND", "Axillary lymph node dissection"
    NONE = "none", "None"


class Margins(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    CLOSE = "close", "Close"
    POSITIVE = "positive", "Positive"


class YpT(models.TextChoices):
    T0 = "ypT0", "ypT0"
    TIS = "ypTis", "ypTis"
    T1MI = "ypT1mi", "ypT1mi"
    T1 = "ypT1", "ypT1"
    T2 = "ypT2", "ypT2"
    T3 = "ypT3", "ypT3"
    T4 = "ypT4", "ypT4"


class YpN(models.TextChoices):
    N0 = "ypN0", "ypN0"
    N0_ITC = "ypN0(i+)", "ypN0(i+)"
    N1MI = "ypN1mi", "ypN1mi"
    N1 = "ypN1", "ypN1"
    N2 = "ypN2", "ypN2"
    N3 = "ypN3", "ypN3"


class PcrDefinition(models.TextChoices):
    YPT0_YPN0 = "ypT0_ypN0", "ypT0 ypN0 (no invasive or in-situ disease)"
    YPT0IS_YPN0 = "ypT0is_ypN0", "ypT0/is ypN0 (in-situ allowed)"
    YPT0IS_BREAST = "ypT0is_breast", "ypT0/is (breast only)"


class RcbClass(models.TextChoices):
    RCB_0 = "0", "RCB-0"
    RCB_I = "I", "RCB-I"
    RCB_II = "II", "RCB-II"
    RCB_III = "III", "RCB-III"


class CalcificationHistology(models.TextChoices):
    BENIGN = "benign", "Benign"
    DCIS = "dcis", "DCIS"
    INVASIVE = "invasive", "Invasive"
    MIXED = "mixed", "Mixed"
    NOT_SAMPLED = "not_sampled", "Not sampled"


class VisitKind(models.TextChoices):
    CLINICAL_EXAM = "clinical_exam", "Clinical examination"
    ONCOLOGY = "oncology", "Oncology review"
    TELEPHONE = "telephone", "Telephone consultation"
    OTHER = "other", "Other"


class EventKind(models.TextChoices):
    LOCAL_RECURRENCE = "local_recurrence", "Local recurrence"
    REGIONAL_RECURRENCE = "regional_recurrence", "Regional recurrence"
    DISTANT_RECURRENCE = "distant_recurrence", "Distant recurrence"
    CONTRALATERAL = "contralateral", "Contralateral breast cancer"
    CONFIRMED_PROGRESSION = "confirmed_progression", "Confirmed progression (biopsy)"
    DEATH = "death", "Death"


# ypT values that mean no residual invasive disease in the breast.
_YPT_NO_INVASIVE = {YpT.T0, YpT.TIS}


def is_pcr(ypt: str, ypn: str, definition: str) -> bool | None:
    """Pathological complete response under `definition`; None when ypT is unknown."""
    if not ypt:
        return None
    if definition == PcrDefinition.YPT0_YPN0:
        return ypt == YpT.T0 and ypn == YpN.N0
    if definition == PcrDefinition.YPT0IS_YPN0:
        return ypt in _YPT_NO_INVASIVE and ypn == YpN.N0
    if definition == PcrDefinition.YPT0IS_BREAST:
        return ypt in _YPT_NO_INVASIVE
    raise ValueError(f"unknown pCR definition {definition!r}")


def derive_subtype(
    er_percent: float | None, pr_percent: float | None, her2_ihc: str, her2_ish: str
) -> str:
    """Molecular subtype: HR+ = ER or PR >= 1%; HER2+ = IHC 3+ or ISH amplified.

    Returns `unknown` when the receptors needed to decide are missing (for example
    HER2 IHC 2+ without ISH). Mirrors the database expression on TumourProfile.subtype.
    """
    if her2_ihc == Her2Ihc.THREE or her2_ish == Her2Ish.AMPLIFIED:
        her2 = True
    elif her2_ish == Her2Ish.NOT_AMPLIFIED or her2_ihc in (Her2Ihc.ZERO, Her2Ihc.ONE):
        her2 = False
    else:
        return Subtype.UNKNOWN
    if (er_percent is not None and er_percent >= 1) or (pr_percent is not None and pr_percent >= 1):
        hr = True
    elif er_percent is not None and pr_percent is not None:
        hr = False
    else:
        return Subtype.UNKNOWN
    if hr:
        return Subtype.HR_POS_HER2_POS if her2 else Subtype.HR_POS_HER2_NEG
    return Subtype.HR_NEG_HER2_POS if her2 else Subtype.TRIPLE_NEGATIVE
