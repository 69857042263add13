"""The words of synthetic reports: phrase tables and small phrase builders."""

from __future__ import annotations

import random
from decimal import Decimal

MORPH_WORDS = {
    "skin": ["skin", "dermal"],
    "vascular": ["vascular", "arterial"],
    "coarse_popcorn": ["coarse", "popcorn-like", "coarse popcorn-like", "coarse or popcorn-like"],
    "large_rod_like": ["large rod-like", "rod-like", "secretory rod-like"],
    "round": ["round", "punctate", "round and punctate"],
    "rim": ["rim", "eggshell", "rim-type"],
    "dystrophic": ["dystrophic", "coarse dystrophic"],
    "milk_of_calcium": ["milk of calcium", "milk-of-calcium", "layering milk of calcium"],
    "suture": ["suture", "sutural"],
    "coarse_heterogeneous": ["coarse heterogeneous", "coarse, heterogeneous", "coarse-heterogeneous"],
    "amorphous": ["amorphous", "faint amorphous", "indistinct amorphous"],
    "fine_pleomorphic": ["fine pleomorphic", "pleomorphic", "fine-pleomorphic"],
    "fine_linear_branching": ["fine linear branching", "fine-linear branching", "fine linear",
                              "fine-linear", "casting-type", "linear branching"],
}


CALC_NOUNS = ["calcifications", "calcifications", "microcalcifications", "calcifications"]


DIST_ADJ = {"diffuse": ["diffuse", "scattered"], "regional": ["regional"],
            "grouped": ["grouped", "clustered"], "linear": ["linear"], "segmental": ["segmental"]}


DIST_POST = {
    "diffuse": ["in a diffuse distribution", "scattered throughout the breast", "diffusely distributed"],
    "regional": ["in a regional distribution", "with a regional distribution"],
    "grouped": ["in a grouped distribution", "in a cluster", "grouped"],
    "linear": ["in a linear distribution", "with a linear distribution"],
    "segmental": ["in a segmental distribution", "with a segmental distribution", "in a segmental pattern"],
}


CHANGE_POST = {
    "new": ["new since the prior study", "new compared with the previous examination", "newly seen",
            "which are new"],
    "stable": ["stable", "unchanged", "stable since {year}", "unchanged from {year}",
               "remaining stable", "without change since {year}"],
    "increase_calcifications": ["increased", "increasing since {year}", "which have increased"],
    "increase_number": ["increased in number", "more numerous than in {year}",
                        "increased in number since {year}"],
    "increase_size": ["increased in extent", "increased in size", "larger in extent than in {year}"],
    "decrease_calcifications": ["decreased", "decreasing", "which have decreased since {year}"],
    "decrease_number": ["decreased in number", "fewer in number", "less numerous than in {year}"],
    "decrease_size": ["decreased in extent", "decreased in size", "smaller in extent", "reduced in extent"],
    "partially_removed": ["partially removed", "partially excised at surgery"],
    "not_significantly_changed": ["not significantly changed", "without significant change",
                                  "with no significant interval change"],
}


CHANGE_PRE = {"new": ["New", "Newly seen"], "stable": ["Stable", "Unchanged"],
              "increase_calcifications": ["Increasing"], "decrease_calcifications": ["Decreasing"]}


QUADRANT_WORDS = {
    "UOQ": ["in the upper outer quadrant", "in the UOQ", "upper outer quadrant",
            "in the upper-outer quadrant"],
    "UIQ": ["in the upper inner quadrant", "in the UIQ", "upper inner quadrant"],
    "LOQ": ["in the lower outer quadrant", "in the LOQ", "lower outer quadrant"],
    "LIQ": ["in the lower inner quadrant", "in the LIQ", "lower inner quadrant"],
    "central": ["in the retroareolar region", "in the central breast", "subareolar",
                "in the subareolar region"],
    "axillary_tail": ["in the axillary tail", "in the axillary tail", "in the tail of Spence"],
}


CLOCK_WORDS = ["at {h} o'clock", "at the {h} o'clock position", "at {h}:00", "{h} o'clock",
               "at {h}:00 position"]


SIDE_WORDS = {
    "left": ["in the left breast", "of the left breast", "in the left breast", "left breast"],
    "right": ["in the right breast", "of the right breast", "in the right breast", "right breast"],
}


SECTION_HEADS = {
    "left": ["LEFT BREAST:", "Left breast:", "LEFT:", "Left:", "L breast:", "LEFT BREAST FINDINGS:"],
    "right": ["RIGHT BREAST:", "Right breast:", "RIGHT:", "Right:", "R breast:", "RIGHT BREAST FINDINGS:"],
}


YEARS = ["2019", "2020", "2021", "2022", "2023", "the prior study", "baseline"]


LESION_WORDS = {
    "mass": ["mass", "enhancing mass", "mass"],
    "focus": ["focus of enhancement", "enhancing focus", "focus"],
    "nme": ["non-mass enhancement", "non-mass-like enhancement", "NME", "area of non-mass enhancement",
            "nonmass enhancement"],
}


SHAPE_WORDS = {"oval": ["oval", "lobulated"], "round": ["round"],
               "irregular": ["irregular", "irregularly shaped"]}


MARGIN_WORDS = {"circumscribed": ["circumscribed", "with circumscribed margins", "well-circumscribed"],
                "irregular": ["with irregular margins"],
                "spiculated": ["spiculated", "with spiculated margins"]}


NME_DIST_WORDS = {"focal": "focal", "linear": "linear", "segmental": "segmental", "regional": "regional",
                  "multiple_regions": "multiple regions", "diffuse": "diffuse"}


NME_DIST_PHRASES = {key: [f"in a {word} distribution", f"with a {word} distribution"]
                    for key, word in NME_DIST_WORDS.items()} | {
    "multiple_regions": ["in multiple regions", "involving multiple regions"]}


INITIAL_WORDS = {"slow": ["slow"], "medium": ["medium", "intermediate"], "fast": ["fast", "rapid"]}


DELAYED_WORDS = {"persistent": ["persistent", "progressive"], "plateau": ["plateau"],
                 "washout": ["washout", "wash-out"]}


CURVE_TYPE = {"persistent": ["1", "I"], "plateau": ["2", "II"], "washout": ["3", "III"]}


MG_NEGATIVE_SIDE = [
    "No suspicious calcifications in the {b} breast.",
    "The {b} breast is unremarkable.",
    "No mass, suspicious calcification or architectural distortion in the {b} breast.",
    "There are no suspicious microcalcifications in the {b} breast.",
    "The {b} breast is negative.",
    "{B} breast: no suspicious findings.",
    "No malignant-appearing calcifications are seen in the {b} breast.",
]


MG_NEGATIVE_HEADED = ["No suspicious calcifications.", "Negative.", "No suspicious mass or calcifications.",
                      "Unremarkable.", "No new calcifications.", "No mammographic evidence of malignancy."]


MG_NEGATIVE_STUDY = ["No new calcifications.", "No suspicious masses, calcifications or areas of distortion.",
                     "There is no evidence of suspicious calcifications.",
                     "Negative for malignant-appearing calcifications."]


MR_NEGATIVE_SIDE = ["No suspicious enhancement in the {b} breast.",
                    "The {b} breast shows no abnormal enhancement.",
                    "No suspicious mass or non-mass enhancement in the {b} breast.",
                    "{B} breast: no suspicious enhancement."]


MR_NEGATIVE_HEADED = ["No suspicious enhancement.", "No abnormal enhancement.",
                      "No suspicious mass or non-mass enhancement."]


MR_NEUTRAL_SIDE = ["The {b} breast is unremarkable.", "No significant findings in the {b} breast.",
                   "{B} breast: post-treatment changes only."]


MR_NEUTRAL_HEADED = ["Unremarkable.", "Negative.", "Post-treatment changes only."]


MR_NO_ENHANCEMENT = ["No residual enhancement at the tumour bed.",
                     "No abnormal enhancement in either breast.",
                     "There is no suspicious enhancement in either breast.",
                     "No residual abnormal enhancement.", "Negative for suspicious enhancement."]


MR_NO_NEW = ["No new suspicious enhancement since the prior study.", "No new enhancing lesion."]


MG_DISTRACTORS = [
    "Post-lumpectomy changes with surgical clips in the {t} breast.",
    "A biopsy marker clip is present at the {t} tumour bed.",
    "Post-radiation skin thickening of the {t} breast is decreasing.",
    "A 9 mm circumscribed oval mass in the {o} breast is unchanged since 2019, consistent with a cyst.",
    "An intramammary lymph node measuring 6 mm is seen in the {o} upper outer quadrant.",
    "The architectural distortion at the {t} lumpectomy scar is stable.",
    "Axillary lymph nodes are normal in size.",
    "No mass or architectural distortion.",
]


MR_DISTRACTORS = [
    "Susceptibility artifact from the biopsy clip in the {t} breast.",
    "Post-surgical seroma in the {t} breast measuring 2.4 cm with thin rim enhancement.",
    "Implant intact.",
    "No axillary or internal mammary adenopathy.",
    "A 7 mm simple cyst in the {o} breast, unchanged.",
    "Skin thickening consistent with prior radiotherapy.",
]


HISTORY_LINES = [
    "{age}-year-old woman with {t} breast {cancer} treated with neoadjuvant chemotherapy{surgery}.",
    "{t_cap} breast {cancer}, post neoadjuvant chemotherapy{surgery}.",
    "History of {t} breast {cancer} presenting as fine pleomorphic calcifications, "
    "treated with NAC{surgery}.",
    "Known {t} breast {cancer} (previously BI-RADS 5), completed neoadjuvant chemotherapy{surgery}.",
]


CANCERS = ["invasive ductal carcinoma", "cancer", "IDC", "carcinoma with associated DCIS",
           "triple-negative cancer"]


COMPOSITION = {
    "a": ["The breasts are almost entirely fatty.", "Breast composition: a (almost entirely fatty).",
          "ACR density A.", "Almost entirely fatty breast tissue."],
    "b": ["There are scattered areas of fibroglandular density.", "Breast composition: b.",
          "ACR B: scattered fibroglandular densities.", "Density: B."],
    "c": ["The breasts are heterogeneously dense, which may obscure small masses.", "Breast composition: c.",
          "Heterogeneously dense breast tissue (ACR C).", "Density: C - heterogeneously dense."],
    "d": ["The breasts are extremely dense, which lowers the sensitivity of mammography.",
          "Breast composition: d (extremely dense).", "ACR density D.", "Extremely dense breasts."],
}


BIRADS_TEXT = {"0": "incomplete", "1": "negative", "2": "benign", "3": "probably benign", "4": "suspicious",
               "4A": "low suspicion for malignancy", "4B": "moderate suspicion for malignancy",
               "4C": "high suspicion for malignancy", "5": "highly suggestive of malignancy",
               "6": "known biopsy-proven malignancy"}


def joined(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def clause(*parts: str) -> str:
    kept = [p for p in parts if p]
    return (", " + ", ".join(kept)) if kept else ""


def article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou8" or phrase.startswith(("11 ", "18 ", "NME")) else "a"


def plain_number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def size_phrase(rng: random.Random, value: Decimal, verb: bool = True) -> str:
    """The current largest dimension, in mm or cm, sometimes as two dimensions."""
    in_cm = rng.random() < 0.45
    number = plain_number(value / 10) if in_cm else plain_number(value)
    unit = "cm" if in_cm else rng.choice(["mm", "mm", "mm", "millimetres"])
    glued = rng.random() < 0.15 and unit in ("mm", "cm")
    amount = f"{number}{unit}" if glued else f"{number} {unit}"
    if rng.random() < 0.3 and value >= 4:
        smaller = (value * Decimal(rng.choice(["0.4", "0.5", "0.6", "0.8"]))).quantize(Decimal("1"))
        small = plain_number(smaller / 10) if in_cm else plain_number(smaller)
        amount = f"{small} x {number} {unit}" if rng.random() < 0.3 else f"{number} x {small} {unit}"
    if not verb:
        return amount
    return rng.choice(["measuring {}", "spanning {}", "extending over {}", "over {}", "with an extent of {}",
                       "covering an area of {}", "approximately {} in extent"]).format(amount)


def previous_size_phrase(rng: random.Random, current: Decimal, change: str | None) -> str:
    """A distractor: the size on an earlier study, which is not the current extent."""
    factor = Decimal("1.6") if (change or "").startswith("decrease") else Decimal("0.6")
    before = max(Decimal(1), (current * factor).quantize(Decimal("1")))
    amount = f"{plain_number(before)} mm" if rng.random() < 0.5 else f"{plain_number(before / 10)} cm"
    return rng.choice(["(previously {})", "(prior {})", "(baseline {})", "compared with {} previously",
                       "previously {}"]).format(amount)


def location_phrase(rng: random.Random, quadrant: str | None, clock: int | None) -> str:
    parts = []
    if quadrant:
        parts.append(rng.choice(QUADRANT_WORDS[quadrant]))
    if clock:
        parts.append(rng.choice(CLOCK_WORDS).format(h=clock))
    if rng.random() < 0.5:
        parts.reverse()
    return ", ".join(parts) if len(parts) == 2 and rng.random() < 0.5 else " ".join(parts)


def change_phrase(rng: random.Random, change: str, field_value: bool = False) -> str:
    """How a report words a change; as the value of a "Change:" field, without "which are"."""
    if change == "no_longer_seen":
        return rng.choice(["no longer seen", "no longer visible", "no longer identified"])
    phrase = rng.choice(CHANGE_POST[change]).format(year=rng.choice(YEARS))
    return phrase.removeprefix("which are ").removeprefix("which have ") if field_value else phrase


def morph_phrase(rng: random.Random, morph: str | None, distribution: str | None) -> str:
    words = "residual" if morph is None else rng.choice(MORPH_WORDS[morph])
    if distribution == "linear" and "linear" in words:  # "linear fine-linear" reads as nonsense
        words = "casting-type"
    return words


def kinetics_phrase(rng: random.Random, initial: str | None, delayed: str | None) -> str:
    ini = rng.choice(INITIAL_WORDS[initial]) if initial else None
    dly = rng.choice(DELAYED_WORDS[delayed]) if delayed else None
    curve = f"type {rng.choice(CURVE_TYPE[delayed])}" if delayed else None
    if ini and dly:
        return rng.choice([
            f"with {ini} initial enhancement and {dly} delayed enhancement",
            f"with {ini} initial enhancement and a {curve} ({dly}) curve",
            f"kinetics: initial {ini}, delayed {dly}",
            f"demonstrating {ini}/{dly} kinetics",
            f"with {ini} initial uptake and {dly} kinetics",
        ])
    if ini:
        return rng.choice([f"with {ini} initial enhancement", f"showing {ini} initial uptake"])
    if dly:
        return rng.choice([f"with {dly} kinetics", f"demonstrating a {curve} curve",
                           f"with a {curve} ({dly}) kinetic curve", f"{dly} delayed enhancement"])
    return ""
