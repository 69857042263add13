"""BI-RADS lexicon (ACR BI-RADS 5th edition, 2013) and HL7 Breast Radiology change codes.

Pure choices and ranks: no database access, importable from rules and charts.
"""

from django.db import models

LEXICON_VERSION = "BI-RADS 5th ed. (2013)"


class Modality(models.TextChoices):
    MG = "MG", "Mammography"
    MR = "MR", "MRI"
    US = "US", "Ultrasound"


class Phase(models.TextChoices):
    BASELINE = "baseline", "Baseline (pre-NAC)"
    MID_NAC = "mid_nac", "Mid-NAC"
    POST_NAC = "post_nac", "Post-NAC (pre-surgical)"
    SURVEILLANCE = "surveillance", "Surveillance (post-surgical)"


class BiRads(models.TextChoices):
    B0 = "0", "0 – Incomplete"
    B1 = "1", "1 – Negative"
    B2 = "2", "2 – Benign"
    B3 = "3", "3 – Probably benign"
    B4 = "4", "4 – Suspicious"
    B4A = "4A", "4A – Low suspicion"
    B4B = "4B", "4B – Moderate suspicion"
    B4C = "4C", "4C – High suspicion"
    B5 = "5", "5 – Highly suggestive of malignancy"
    B6 = "6", "6 – Known biopsy-proven malignancy"


SUSPICIOUS_BIRADS = frozenset({BiRads.B4, BiRads.B4A, BiRads.B4B, BiRads.B4C, BiRads.B5})


class BreastComposition(models.TextChoices):
    A = "a", "a – Almost entirely fatty"
    B = "b", "b – Scattered fibroglandular"
    C = "c", "c – Heterogeneously dense"
    D = "d", "d – Extremely dense"


class StudyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    FINAL = "final", "Final (signed)"


class Morphology(models.TextChoices):
    # Typically benign
    SKIN = "skin", "Skin"
    VASCULAR = "vascular", "Vascular"
    COARSE_POPCORN = "coarse_popcorn", "Coarse or popcorn-like"
    LARGE_ROD_LIKE = "large_rod_like", "Large rod-like"
    ROUND = "round", "Round"
    RIM = "rim", "Rim"
    DYSTROPHIC = "dystrophic", "Dystrophic"
    MILK_OF_CALCIUM = "milk_of_calcium", "Milk of calcium"
    SUTURE = "suture", "Suture"
    # Suspicious, rising
    COARSE_HETEROGENEOUS = "coarse_heterogeneous", "Coarse heterogeneous"
    AMORPHOUS = "amorphous", "Amorphous"
    FINE_PLEOMORPHIC = "fine_pleomorphic", "Fine pleomorphic"
    FINE_LINEAR_BRANCHING = "fine_linear_branching", "Fine linear or fine-linear branching"


# docs/clinical-rules.md: benign 0, coarse heterogeneous 1, amorphous 2, fine pleomorphic 3, FLB 4.
MORPHOLOGY_RANK: dict[str, int] = {m.value: 0 for m in Morphology} | {
    Morphology.COARSE_HETEROGENEOUS.value: 1,
    Morphology.AMORPHOUS.value: 2,
    Morphology.FINE_PLEOMORPHIC.value: 3,
    Morphology.FINE_LINEAR_BRANCHING.value: 4,
}


class Distribution(models.TextChoices):
    DIFFUSE = "diffuse", "Diffuse"
    REGIONAL = "regional", "Regional"
    GROUPED = "grouped", "Grouped"
    LINEAR = "linear", "Linear"
    SEGMENTAL = "segmental", "Segmental"


DISTRIBUTION_RANK: dict[str, int] = {d.value: i for i, d in enumerate(Distribution)}


class CountBin(models.TextChoices):
    C1_5 = "1-5", "1–5"
    C6_10 = "6-10", "6–10"
    C11_20 = "11-20", "11–20"
    C_GT_20 = ">20", ">20"


COUNT_BIN_RANK: dict[str, int] = {c.value: i for i, c in enumerate(CountBin)}


def count_bin_for(count: int) -> str:
    """The bin an exact calcification count falls in."""
    if count <= 5:
        return CountBin.C1_5
    if count <= 10:
        return CountBin.C6_10
    if count <= 20:
        return CountBin.C11_20
    return CountBin.C_GT_20


class Quadrant(models.TextChoices):
    UOQ = "UOQ", "Upper outer"
    UIQ = "UIQ", "Upper inner"
    LOQ = "LOQ", "Lower outer"
    LIQ = "LIQ", "Lower inner"
    CENTRAL = "central", "Central"
    AXILLARY_TAIL = "axillary_tail", "Axillary tail"


class Depth(models.TextChoices):
    ANTERIOR = "anterior", "Anterior"
    MIDDLE = "middle", "Middle"
    POSTERIOR = "posterior", "Posterior"


class ObservedChange(models.TextChoices):
    """HL7 Breast Radiology IG change codes, as the radiologist coded them."""

    NEW = "new", "New"
    STABLE = "stable", "Stable"
    INCREASE_CALCIFICATIONS = "increase_calcifications", "Increase in calcifications"
    INCREASE_NUMBER = "increase_number", "Increase in number"
    INCREASE_SIZE = "increase_size", "Increase in size"
    DECREASE_CALCIFICATIONS = "decrease_calcifications", "Decrease in calcifications"
    DECREASE_NUMBER = "decrease_number", "Decrease in number"
    DECREASE_SIZE = "decrease_size", "Decrease in size"
    NO_LONGER_SEEN = "no_longer_seen", "No longer seen"
    PARTIALLY_REMOVED = "partially_removed", "Partially removed"
    NOT_SIGNIFICANTLY_CHANGED = "not_significantly_changed", "Not significantly changed"


INCREASE_CHANGES = frozenset(
    {
        ObservedChange.INCREASE_CALCIFICATIONS,
        ObservedChange.INCREASE_NUMBER,
        ObservedChange.INCREASE_SIZE,
    }
)


class LesionType(models.TextChoices):
    FOCUS = "focus", "Focus"
    MASS = "mass", "Mass"
    NME = "nme", "Non-mass enhancement"


class MassShape(models.TextChoices):
    OVAL = "oval", "Oval"
    ROUND = "round", "Round"
    IRREGULAR = "irregular", "Irregular"


class MassMargin(models.TextChoices):
    CIRCUMSCRIBED = "circumscribed", "Circumscribed"
    IRREGULAR = "irregular", "Irregular"
    SPICULATED = "spiculated", "Spiculated"


class NmeDistribution(models.TextChoices):
    FOCAL = "focal", "Focal"
    LINEAR = "linear", "Linear"
    SEGMENTAL = "segmental", "Segmental"
    REGIONAL = "regional", "Regional"
    MULTIPLE_REGIONS = "multiple_regions", "Multiple regions"
    DIFFUSE = "diffuse", "Diffuse"


class NmePattern(models.TextChoices):
    HOMOGENEOUS = "homogeneous", "Homogeneous"
    HETEROGENEOUS = "heterogeneous", "Heterogeneous"
    CLUMPED = "clumped", "Clumped"
    CLUSTERED_RING = "clustered_ring", "Clustered ring"


class KineticsInitial(models.TextChoices):
    SLOW = "slow", "Slow"
    MEDIUM = "medium", "Medium"
    FAST = "fast", "Fast"


class KineticsDelayed(models.TextChoices):
    PERSISTENT = "persistent", "Persistent (type 1)"
    PLATEAU = "plateau", "Plateau (type 2)"
    WASHOUT = "washout", "Washout (type 3)"


class Bpe(models.TextChoices):
    MINIMAL = "minimal", "Minimal"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    MARKED = "marked", "Marked"
