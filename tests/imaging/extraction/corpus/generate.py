"""Deterministic generator of labelled synthetic breast imaging reports (JSON lines).

    python -m tests.imaging.extraction.corpus.generate [--seed 18] [--count 360] [--out PATH]

Each report is sampled as structure first (study, calcification groups, MRI lesions), then
written out by one of six report styles with randomly chosen phrasings, orderings,
distractor sentences (history, clips, masses with sizes, previous sizes, nipple distances,
negated findings) and occasional typos. The labels come from the sampled structure, never
from the text, so the extractor is measured against what the generator meant.

Labelling conventions (the same as the hand-written set, docs/report-extraction.md):
study laterality from the exam title or "both breasts", else bilateral when both breasts
are described, else null; one calcification entry per group per breast; extent is the
current largest dimension in mm; "no longer seen" groups have no extent; no_enhancement
only when the report says so explicitly (not "no new enhancement") and no lesion remains.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

DEFAULT_SEED = 18
DEFAULT_COUNT = 360
DEFAULT_OUT = Path(__file__).with_name("generated.jsonl")

SIDES = ("left", "right")
OTHER = {"left": "right", "right": "left"}

# ---------------------------------------------------------------- structure


@dataclass
class Calc:
    breast: str
    morphology: str | None
    distribution: str | None
    extent_mm: Decimal | None
    change: str | None
    quadrant: str | None = None
    clock: int | None = None
    group: str | None = None
    shared: bool = False  # written by one sentence about both breasts


@dataclass
class Lesion:
    breast: str
    lesion_type: str
    size_mm: Decimal | None
    kinetics_initial: str | None
    kinetics_delayed: str | None
    change: str | None
    mass_shape: str | None = None
    mass_margin: str | None = None
    nme_distribution: str | None = None
    quadrant: str | None = None
    clock: int | None = None


@dataclass
class Study:
    modality: str
    treated: str
    surgery: str  # "none" (pre-surgical or mid-NAC), "bcs", "mastectomy"
    laterality: str  # the breasts imaged
    composition: str | None
    birads: str | None
    calcs: list[Calc] = field(default_factory=list)
    lesions: list[Lesion] = field(default_factory=list)
    bpe: str | None = None

    @property
    def imaged(self) -> tuple[str, ...]:
        return SIDES if self.laterality == "bilateral" else (self.laterality,)


SUSPICIOUS = ("coarse_heterogeneous", "amorphous", "fine_pleomorphic", "fine_linear_branching")
BENIGN = ("skin", "vascular", "coarse_popcorn", "large_rod_like", "round", "rim", "dystrophic",
          "milk_of_calcium", "suture")
DISTRIBUTIONS = ("diffuse", "regional", "grouped", "linear", "segmental")
CHANGES = ("new", "stable", "increase_calcifications", "increase_number", "increase_size",
           "decrease_calcifications", "decrease_number", "decrease_size", "no_longer_seen",
           "partially_removed", "not_significantly_changed")
LESION_CHANGES = ("new", "stable", "increase_size", "decrease_size", "no_longer_seen",
                  "not_significantly_changed")

# Clock hours that lie inside each quadrant, per breast (the left breast's outer side is at 3).
QUADRANT_CLOCKS = {
    "left": {"UOQ": (1, 2), "LOQ": (4, 5), "LIQ": (7, 8), "UIQ": (10, 11), "axillary_tail": (2,)},
    "right": {"UOQ": (10, 11), "LOQ": (7, 8), "LIQ": (4, 5), "UIQ": (1, 2), "axillary_tail": (10,)},
}


def _size(rng: random.Random, low: int, high: int) -> Decimal:
    whole = rng.randint(low, high)
    return Decimal(whole) + (Decimal("0.5") if whole < 40 and rng.random() < 0.15 else 0)


def _location(rng: random.Random, breast: str) -> tuple[str | None, int | None]:
    kind = rng.random()
    if kind < 0.25:
        return None, None
    quadrant = rng.choice(["UOQ", "UOQ", "UIQ", "LOQ", "LIQ", "central", "axillary_tail"])
    clock = rng.choice(QUADRANT_CLOCKS[breast][quadrant]) if quadrant != "central" else None
    if kind < 0.5:
        return quadrant, None
    if kind < 0.75 and clock:
        return None, clock
    return quadrant, clock


def sample_calc(rng: random.Random, breast: str, treated: bool, index: int) -> Calc:
    morph = rng.choice(SUSPICIOUS if treated and rng.random() < 0.75 else BENIGN + SUSPICIOUS)
    if rng.random() < 0.06:
        morph = None  # "residual calcifications" without a morphology
    change = rng.choice(CHANGES) if rng.random() < 0.75 else None
    distribution = rng.choice(DISTRIBUTIONS) if rng.random() < 0.85 else None
    extent = None if change == "no_longer_seen" or rng.random() < 0.1 else _size(rng, 2, 85)
    quadrant, clock = _location(rng, breast)
    group = f"{breast[0].upper()}{index}" if rng.random() < 0.2 else None
    return Calc(breast, morph, distribution, extent, change, quadrant, clock, group)


def sample_lesion(rng: random.Random, breast: str) -> Lesion:
    kind = rng.choice(["mass", "mass", "nme", "nme", "focus"])
    change = rng.choice(LESION_CHANGES) if rng.random() < 0.7 else None
    size = None if change == "no_longer_seen" or rng.random() < 0.08 else (
        _size(rng, 2, 4) if kind == "focus" else _size(rng, 5, 70))
    gone = change == "no_longer_seen"
    initial = None if gone or rng.random() < 0.35 else rng.choice(["slow", "medium", "fast"])
    delayed = None if gone or rng.random() < 0.25 else rng.choice(["persistent", "plateau", "washout"])
    quadrant, clock = _location(rng, breast)
    lesion = Lesion(breast, kind, size, initial, delayed, change, quadrant=quadrant, clock=clock)
    if kind == "mass":
        lesion.mass_shape = rng.choice([None, "oval", "round", "irregular"])
        lesion.mass_margin = rng.choice([None, "circumscribed", "irregular", "spiculated"])
    elif kind == "nme":
        lesion.nme_distribution = rng.choice(
            [None, "focal", "linear", "segmental", "regional", "multiple_regions", "diffuse"])
    return lesion


def _count(rng: random.Random, weights: tuple[float, ...]) -> int:
    return rng.choices(range(len(weights)), weights=weights)[0]


def _birads(rng: random.Random, study: Study) -> str | None:
    if rng.random() < 0.06:
        return None
    if study.surgery == "none":
        return "6"
    worrying = [c for c in study.calcs if c.morphology in SUSPICIOUS
                and (c.change or "").startswith(("new", "increase"))]
    worrying += [le for le in study.lesions if le.change in ("new", "increase_size")]
    if worrying:
        return rng.choice(["4", "4A", "4B", "4C", "5", "0"])
    if study.calcs or study.lesions:
        return rng.choice(["2", "2", "3"])
    return rng.choice(["1", "1", "2"])


def sample_study(rng: random.Random) -> Study:
    modality = "MG" if rng.random() < 0.56 else "MR"
    treated = rng.choice(SIDES)
    surgery = rng.choices(["none", "bcs", "mastectomy"], weights=[0.3, 0.5, 0.2])[0]
    if modality == "MG" and surgery == "mastectomy":
        laterality = OTHER[treated]
    else:
        laterality = "bilateral" if rng.random() < 0.78 else treated
    study = Study(modality, treated, surgery, laterality,
                  composition=rng.choice("abcd") if modality == "MG" and rng.random() < 0.9 else None,
                  birads=None)
    for breast in study.imaged:
        is_treated = breast == treated
        if modality == "MG":
            n = _count(rng, (0.35, 0.45, 0.2) if is_treated else (0.7, 0.25, 0.05))
            study.calcs += [sample_calc(rng, breast, is_treated, i + 1) for i in range(n)]
        elif not (is_treated and surgery == "mastectomy"):
            n = _count(rng, (0.4, 0.45, 0.15) if is_treated else (0.75, 0.25))
            study.lesions += [sample_lesion(rng, breast) for _ in range(n)]
    if modality == "MR":
        study.bpe = rng.choice([None, "minimal", "mild", "moderate", "marked"])
    study.birads = _birads(rng, study)
    return study


# ---------------------------------------------------------------- phrasing

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


def _mm(value: Decimal) -> str:
    return f"{value.normalize():f}"


def size_phrase(rng: random.Random, value: Decimal, verb: bool = True) -> str:
    """The current largest dimension, in mm or cm, sometimes as two dimensions."""
    in_cm = rng.random() < 0.45
    number = _mm(value / 10) if in_cm else _mm(value)
    unit = "cm" if in_cm else rng.choice(["mm", "mm", "mm", "millimetres"])
    glued = rng.random() < 0.15 and unit in ("mm", "cm")
    amount = f"{number}{unit}" if glued else f"{number} {unit}"
    if rng.random() < 0.3 and value >= 4:
        smaller = (value * Decimal(rng.choice(["0.4", "0.5", "0.6", "0.8"]))).quantize(Decimal("1"))
        small = _mm(smaller / 10) if in_cm else _mm(smaller)
        amount = f"{small} x {number} {unit}" if rng.random() < 0.3 else f"{number} x {small} {unit}"
    if not verb:
        return amount
    return rng.choice(["measuring {}", "spanning {}", "extending over {}", "over {}", "with an extent of {}",
                       "covering an area of {}", "approximately {} in extent"]).format(amount)


def previous_size_phrase(rng: random.Random, current: Decimal, change: str | None) -> str:
    """A distractor: the size on an earlier study, which is not the current extent."""
    factor = Decimal("1.6") if (change or "").startswith("decrease") else Decimal("0.6")
    before = max(Decimal(1), (current * factor).quantize(Decimal("1")))
    amount = f"{_mm(before)} mm" if rng.random() < 0.5 else f"{_mm(before / 10)} cm"
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


# ---------------------------------------------------------------- calcification sentences


@dataclass
class Ctx:
    """What the rendering of one report needs to know and records while it writes."""

    rng: random.Random
    study: Study
    style: str
    side_in_heading: bool = False
    said_no_enhancement: bool = False


def calc_sentence(ctx: Ctx, c: Calc) -> str:
    rng = ctx.rng
    noun = "calcs" if ctx.style == "telegraphic" and rng.random() < 0.6 else rng.choice(CALC_NOUNS)
    morph = morph_phrase(rng, c.morphology, c.distribution)
    side = "" if ctx.side_in_heading and rng.random() < 0.8 else rng.choice(SIDE_WORDS[c.breast])
    where = location_phrase(rng, c.quadrant, c.clock)
    size = size_phrase(rng, c.extent_mm) if c.extent_mm is not None else ""
    prev = previous_size_phrase(rng, c.extent_mm, c.change) if c.extent_mm and c.change and \
        c.change.startswith(("increase", "decrease")) and rng.random() < 0.5 else ""
    change = change_phrase(rng, c.change) if c.change else ""
    template = rng.randrange(6)
    if c.distribution and rng.random() < 0.5 and not (c.distribution == "linear" and "linear" in morph):
        head = f"{rng.choice(DIST_ADJ[c.distribution])} {morph} {noun}"
        dist_after = ""
    elif c.distribution == "grouped" and rng.random() < 0.5:
        head = f"{rng.choice(['a cluster of', 'a group of', 'a small group of'])} {morph} {noun}"
        dist_after = ""
    else:
        head = f"{morph} {noun}"
        dist_after = rng.choice(DIST_POST[c.distribution]) if c.distribution else ""
    if template == 0:
        body = _join(head, side, where, dist_after, size, prev) + (f", {change}" if change else "")
        sentence = _cap(body)
    elif template == 1:
        verb = "is" if head.startswith("a ") else "are"
        tail = _join(verb, rng.choice(["present", "seen", "noted", "again seen", "identified"]), side, where)
        sentence = _cap(_join(head, tail)) + _clause(dist_after, size, prev, change)
    elif template == 2 and c.change in CHANGE_PRE:
        sentence = _cap(_join(rng.choice(CHANGE_PRE[c.change]), head.removeprefix("a "), side, where,
                              dist_after, size, prev))
    elif template == 3 and side:
        lead = rng.choice(["In the {b} breast", "Within the {b} breast", "{B} breast"]).format(
            b=c.breast, B=c.breast.capitalize())
        verb = "there is" if head.startswith("a ") else "there are"
        sentence = f"{lead}, {verb} {_join(head, where, dist_after, size, prev)}" + (
            f", {change}" if change else "")
    elif template == 4:
        verb = "is" if head.startswith("a ") else "are"
        sentence = _cap(f"There {verb} {_join(head, side, where)}") + _clause(dist_after, size, prev, change)
    else:
        opener = rng.choice(["Mammography demonstrates", "Magnification views show", "There are",
                             "Tomosynthesis shows"])
        sentence = f"{opener} {_join(head, side, where)}" + _clause(dist_after, size, prev, change)
    sentence = sentence.rstrip(".,; ")
    if c.group:
        return f"Group {c.group}: {sentence}." if rng.random() < 0.5 else f"{sentence} (group {c.group})."
    return sentence + "."


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clause(*parts: str) -> str:
    kept = [p for p in parts if p]
    return (", " + ", ".join(kept)) if kept else ""


def two_groups_sentence(ctx: Ctx, a: Calc, b: Calc) -> str:
    """Two groups of one breast in one sentence, each with its own noun phrase."""
    rng = ctx.rng

    def one(c: Calc) -> str:
        morph = morph_phrase(rng, c.morphology, c.distribution)
        where = location_phrase(rng, c.quadrant, c.clock)
        change = f", {change_phrase(rng, c.change)}" if c.change else ""
        if c.distribution == "grouped":  # "a 5 mm cluster of amorphous calcifications"
            size = size_phrase(rng, c.extent_mm, verb=False) if c.extent_mm is not None else ""
            phrase = _join(size, rng.choice(["cluster of", "group of"]), morph, "calcifications")
            return _join(_article(phrase), phrase, where) + change
        post = rng.choice(DIST_POST[c.distribution]) if c.distribution else ""
        size = size_phrase(rng, c.extent_mm) if c.extent_mm is not None else ""
        return _join(morph, "calcifications", where) + _clause(post, size) + change

    side = f"in the {a.breast} breast" if not ctx.side_in_heading else ""
    joiner = rng.choice([" and ", "; and ", ", and "])
    return _cap(_join("There are two groups of calcifications", side)) + f": {one(a)}{joiner}{one(b)}."


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou8" or phrase.startswith(("11 ", "18 ", "NME")) else "a"


def bilateral_benign_sentence(rng: random.Random, morph: str) -> str:
    words = rng.choice(MORPH_WORDS[morph])
    return rng.choice([
        "Scattered benign {w} calcifications are present in both breasts.",
        "Bilateral scattered {w} calcifications.",
        "Benign {w} calcifications are scattered bilaterally.",
    ]).format(w=words)


def structured_calc_block(ctx: Ctx, c: Calc) -> str:
    rng = ctx.rng
    head = rng.choice(["Calcifications, {b} breast", "Calcification group ({b} breast)",
                       "{B} breast calcifications"]).format(b=c.breast, B=c.breast.capitalize())
    lines = [head + (f" (group {c.group})" if c.group else "") + ":"]
    if c.morphology:
        lines.append(f"  Morphology: {rng.choice(MORPH_WORDS[c.morphology])}")
    if c.distribution:
        lines.append(f"  Distribution: {c.distribution}")
    if c.extent_mm is not None:
        lines.append(f"  {rng.choice(['Extent', 'Size', 'Extent (largest dimension)'])}: "
                     f"{size_phrase(rng, c.extent_mm, verb=False)}")
    where = location_phrase(rng, c.quadrant, c.clock)
    if where:
        lines.append(f"  Location: {where.removeprefix('in the ').removeprefix('at ')}")
    if c.change:
        lines.append(f"  Change: {change_phrase(rng, c.change, field_value=True)}")
    return "\n".join(lines)


# ---------------------------------------------------------------- MRI sentences

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


def lesion_sentence(ctx: Ctx, le: Lesion) -> str:
    rng = ctx.rng
    side = "" if ctx.side_in_heading and rng.random() < 0.8 else rng.choice(SIDE_WORDS[le.breast])
    where = location_phrase(rng, le.quadrant, le.clock)
    kind = rng.choice(LESION_WORDS[le.lesion_type])
    if le.change == "no_longer_seen":
        opener = rng.choice(["The previously seen", "The previously described", "The known"])
        verb = rng.choice(["is no longer seen", "is no longer visualised", "has resolved",
                           "is no longer identified"])
        return f"{opener} {_join(kind, side, where)} {verb}."
    shape = rng.choice(SHAPE_WORDS[le.mass_shape]) if le.mass_shape else ""
    margin = rng.choice(MARGIN_WORDS[le.mass_margin]) if le.mass_margin else ""
    margin_pre = margin if margin and not margin.startswith("with") else ""
    margin_post = margin if margin.startswith("with") else ""
    dist = ""
    if le.nme_distribution:
        dist = rng.choice(NME_DIST_PHRASES[le.nme_distribution])
    size_pre = ""
    size_post = ""
    if le.size_mm is not None:
        if rng.random() < 0.45:
            size_pre = size_phrase(rng, le.size_mm, verb=False)
        else:
            size_post = size_phrase(rng, le.size_mm)
    prev = previous_size_phrase(rng, le.size_mm, le.change) if le.size_mm and le.change in (
        "increase_size", "decrease_size") and rng.random() < 0.5 else ""
    kinetics = kinetics_phrase(rng, le.kinetics_initial, le.kinetics_delayed)
    change = change_phrase(rng, le.change) if le.change else ""
    if le.mass_margin == "irregular" and le.mass_shape == "irregular":
        shape = "irregularly shaped"
    noun = _join(size_pre, shape, margin_pre, kind)
    art = _article(noun).capitalize()
    if le.change == "new" and rng.random() < 0.5:
        art, change = "A new", ""
    template = rng.randrange(3)
    if template == 0:
        body = f"{art} {noun} {_join(margin_post, dist)}".rstrip()
        sentence = _join(body, "is seen" if rng.random() < 0.5 else "", side, where) + _clause(
            size_post, prev, kinetics, change)
    elif template == 1:
        sentence = f"There is {art.lower()} {_join(noun, margin_post, dist, side, where)}" + _clause(
            size_post, prev, kinetics, change)
    else:
        lead = _cap(where) if where else "Residual enhancement:"
        sentence = f"{lead}, {art.lower()} {_join(noun, margin_post, dist)}" + _clause(
            side, size_post, prev, kinetics, change)
        sentence = sentence.replace(":,", ":")
    return sentence.replace("  ", " ").rstrip(".,; ") + "."


def structured_lesion_block(ctx: Ctx, le: Lesion, number: int) -> str:
    rng = ctx.rng
    lines = [f"Lesion {number} ({le.breast} breast):",
             f"  Type: {rng.choice(LESION_WORDS[le.lesion_type])}"]
    if le.size_mm is not None:
        lines.append(f"  Size: {size_phrase(rng, le.size_mm, verb=False)}")
    if le.mass_shape:
        lines.append(f"  Shape: {le.mass_shape}")
    if le.mass_margin:
        lines.append(f"  Margin: {le.mass_margin}")
    if le.nme_distribution:
        lines.append(f"  Distribution: {NME_DIST_WORDS[le.nme_distribution]}")
    if le.kinetics_initial or le.kinetics_delayed:
        parts = ([f"initial {le.kinetics_initial}"] if le.kinetics_initial else []) + (
            [f"delayed {le.kinetics_delayed}"] if le.kinetics_delayed else [])
        lines.append(f"  Kinetics: {', '.join(parts)}")
    where = location_phrase(rng, le.quadrant, le.clock)
    if where:
        lines.append(f"  Location: {where.removeprefix('in the ').removeprefix('at ')}")
    if le.change:
        lines.append(f"  Change: {change_phrase(rng, le.change, field_value=True)}")
    return "\n".join(lines)


# ---------------------------------------------------------------- negatives, distractors, study lines

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


def study_title(ctx: Ctx) -> str:
    rng, s = ctx.rng, ctx.study
    if s.modality == "MG":
        kind = rng.choice(["DIAGNOSTIC MAMMOGRAM", "SCREENING MAMMOGRAM", "MAMMOGRAM", "DIGITAL MAMMOGRAPHY",
                           "MAMMOGRAM WITH TOMOSYNTHESIS"])
    else:
        kind = rng.choice(["BREAST MRI", "MRI BREASTS WITH AND WITHOUT CONTRAST", "MRI OF THE BREASTS",
                           "CONTRAST-ENHANCED BREAST MRI"])
    side = s.laterality.upper()
    title = rng.choice([f"{side} {kind}", f"{kind}, {side}", f"{kind} ({side})"])
    if s.modality == "MG" and s.surgery == "mastectomy" and rng.random() < 0.5:
        title += f" (status post {s.treated} mastectomy)"
    if rng.random() < 0.5:
        title = title.title() if rng.random() < 0.5 else title.capitalize()
        title = re.sub(r"\bmri\b", "MRI", title, flags=re.IGNORECASE)
    return rng.choice(["", "EXAM: ", "Examination: ", "Procedure: "]) + title


def history_line(ctx: Ctx) -> str:
    rng, s = ctx.rng, ctx.study
    surgery = {"none": "", "bcs": " and lumpectomy", "mastectomy": " and mastectomy"}[s.surgery]
    return rng.choice(HISTORY_LINES).format(age=rng.randint(32, 78), t=s.treated,
                                            t_cap=s.treated.capitalize(), cancer=rng.choice(CANCERS),
                                            surgery=surgery)


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


def composition_line(ctx: Ctx) -> str:
    s = ctx.study
    line = ctx.rng.choice(COMPOSITION[s.composition])
    if s.laterality != "bilateral":
        line = line.replace("The breasts are", f"The {s.laterality} breast is")
    return line


def birads_line(ctx: Ctx) -> str:
    rng, value = ctx.rng, ctx.study.birads
    if value is None:
        return rng.choice(["", "Opinion: M2.", "Assessment to follow after multidisciplinary review."])
    words = BIRADS_TEXT[value]
    pattern = rng.choice([
        "BI-RADS {v}: {w}.", "BI-RADS {v}.", "BIRADS: {v}", "BI-RADS Category {v} - {w}.", "Category {v}.",
        "ACR {v}", "Assessment: {v} - {w}.", "Final assessment: BI-RADS {v} ({w}).", "BI-RADS® {v}",
        "Bi-Rads {v}", "BI RADS {v} - {w}", "Overall BI-RADS: {v}",
    ])
    if value.endswith(("A", "B", "C")) and "ACR" in pattern:
        pattern = "BI-RADS {v}."  # "ACR 4B" is not a phrasing anyone uses
    return pattern.format(v=value, w=words)


# ---------------------------------------------------------------- assembling a report


def findings_sentences(ctx: Ctx, breast: str) -> list[str]:
    """The sentences about one breast, findings first then, if none, a negative."""
    rng, s = ctx.rng, ctx.study
    if s.modality == "MG":
        calcs = [c for c in s.calcs if c.breast == breast and not c.shared]
        if len(calcs) == 2 and rng.random() < 0.35:
            for c in calcs:
                c.group = None  # this sentence names no group labels
            out = [two_groups_sentence(ctx, *calcs)]
        else:
            out = [calc_sentence(ctx, c) for c in calcs]
        if not calcs:
            out.append(rng.choice(MG_NEGATIVE_HEADED) if ctx.side_in_heading
                       else rng.choice(MG_NEGATIVE_SIDE).format(b=breast, B=breast.capitalize()))
        return out
    lesions = [le for le in s.lesions if le.breast == breast]
    out = [lesion_sentence(ctx, le) for le in lesions]
    if not lesions and rng.random() < 0.25:  # says nothing explicit about enhancement
        out.append(rng.choice(MR_NEUTRAL_HEADED) if ctx.side_in_heading
                   else rng.choice(MR_NEUTRAL_SIDE).format(b=breast, B=breast.capitalize()))
    elif not lesions or (all(le.change == "no_longer_seen" for le in lesions) and rng.random() < 0.7):
        if ctx.side_in_heading:
            out.append(rng.choice(MR_NEGATIVE_HEADED))
        else:
            out.append(rng.choice(MR_NEGATIVE_SIDE).format(b=breast, B=breast.capitalize()))
        ctx.said_no_enhancement = True
    return out


def add_bilateral_benign(ctx: Ctx) -> str | None:
    """Sometimes one sentence describes benign calcifications in both breasts: two groups."""
    rng, s = ctx.rng, ctx.study
    if s.modality != "MG" or s.laterality != "bilateral" or rng.random() > 0.12:
        return None
    morph = rng.choice(["vascular", "round", "coarse_popcorn", "rim"])
    s.calcs += [Calc(breast, morph, "diffuse", None, None, shared=True) for breast in SIDES]
    return bilateral_benign_sentence(rng, morph)


def distractors(ctx: Ctx) -> list[str]:
    rng, s = ctx.rng, ctx.study
    pool = MG_DISTRACTORS if s.modality == "MG" else MR_DISTRACTORS
    other = OTHER[s.treated]
    chosen = rng.sample(pool, k=rng.choice([0, 1, 1, 2]))
    if s.surgery != "bcs":
        chosen = [d for d in chosen if "lumpectomy" not in d]
    if s.laterality != "bilateral":  # only the imaged breast is described
        chosen = [d for d in chosen if "{o}" not in d and ("{t}" not in d or s.laterality == s.treated)]
    return [d.format(t=s.treated if s.laterality in ("bilateral", s.treated) else other, o=other)
            for d in chosen]


def mr_study_lines(ctx: Ctx) -> list[str]:
    rng, s = ctx.rng, ctx.study
    lines = []
    if rng.random() < 0.6:
        lines.append(rng.choice(["Amount of fibroglandular tissue: {f}.", "FGT: {f}.",
                                 "Breast composition: {f} fibroglandular tissue."]).format(
            f=rng.choice(["almost entirely fat", "scattered", "heterogeneous", "extreme"])))
    if s.bpe:
        lines.append(rng.choice(["Background parenchymal enhancement is {b}.", "BPE: {b}.", "{B} BPE.",
                                 "Background enhancement: {b}."]).format(b=s.bpe, B=s.bpe.capitalize()))
    return lines


def closing_no_enhancement(ctx: Ctx) -> str:
    """An MRI with no remaining lesion may say so as a whole, or only that nothing is new."""
    rng, s = ctx.rng, ctx.study
    remaining = [le for le in s.lesions if le.change != "no_longer_seen"]
    if s.modality != "MR" or remaining:
        return rng.choice(MR_NO_NEW) if s.modality == "MR" and rng.random() < 0.2 else ""
    roll = rng.random()
    if roll < 0.55:
        ctx.said_no_enhancement = True
        pool = MR_NO_ENHANCEMENT if s.laterality == "bilateral" else [
            line for line in MR_NO_ENHANCEMENT if "either" not in line]
        return rng.choice(pool)
    return rng.choice(MR_NO_NEW) if roll < 0.75 else ""


def impression_lines(ctx: Ctx) -> list[str]:
    rng, s = ctx.rng, ctx.study
    lines = []
    for c in s.calcs:
        if rng.random() < 0.35 and c.morphology and not c.shared:
            pre = rng.choice(CHANGE_PRE.get(c.change or "", [""]))
            lines.append(_cap(_join(pre, rng.choice(MORPH_WORDS[c.morphology]), "calcifications in the",
                                    c.breast, "breast")) + ".")
    for le in s.lesions:
        if rng.random() < 0.3 and le.change != "no_longer_seen":
            word = {"mass": "mass", "focus": "focus", "nme": "non-mass enhancement"}[le.lesion_type]
            lines.append(f"Residual {word} in the {le.breast} breast.")
    if not s.calcs and not s.lesions and rng.random() < 0.5:
        lines.append(rng.choice(["No evidence of malignancy.", "Negative study.", "Benign findings."]))
    return lines


def render(study: Study, rng: random.Random) -> tuple[str, bool, str | None]:
    """The report text, whether it states 'no enhancement', and the study laterality it states."""
    style = rng.choice(["classic", "per_breast", "narrative", "structured", "telegraphic", "numbered"])
    ctx = Ctx(rng, study, style)
    if style == "structured":
        text, stated = render_structured(ctx)
    elif style == "narrative":
        text, stated = render_narrative(ctx)
    else:
        text, stated = render_sectioned(ctx)
    if style == "telegraphic":
        text = telegraphic(rng, text)
    if rng.random() < 0.22:
        text = add_typos(rng, text)
    return text, ctx.said_no_enhancement, stated


def body_sentences(ctx: Ctx) -> list[str]:
    rng, s = ctx.rng, ctx.study
    out = []
    if s.modality == "MG" and s.composition:
        out.append(composition_line(ctx))
    if s.modality == "MR":
        out += mr_study_lines(ctx)
    benign = add_bilateral_benign(ctx)
    breasts = list(s.imaged)
    rng.shuffle(breasts)
    for breast in breasts:
        out += findings_sentences(ctx, breast)
    if benign:
        out.insert(rng.randint(1 if out else 0, len(out)), benign)
    extra = distractors(ctx)
    for line in extra:
        out.insert(rng.randint(0, len(out)), line)
    closing = closing_no_enhancement(ctx)
    if closing:
        out.append(closing)
    if s.modality == "MG" and rng.random() < 0.3:
        out.append(rng.choice(MG_NEGATIVE_STUDY) if not s.calcs else
                   rng.choice(["No new calcifications.", "No other suspicious calcifications."]))
    return out


def render_sectioned(ctx: Ctx) -> tuple[str, str]:
    rng, s = ctx.rng, ctx.study
    heads = rng.choice([("HISTORY", "COMPARISON", "FINDINGS", "IMPRESSION"),
                        ("Clinical indication", "Comparison", "Findings", "Impression"),
                        ("INDICATION", "COMPARISON", "REPORT", "CONCLUSION"),
                        ("Clinical details", "Prior studies", "Report", "Opinion")])
    parts = [study_title(ctx), f"{heads[0]}: {history_line(ctx)}"]
    if rng.random() < 0.6:
        parts.append(f"{heads[1]}: {rng.choice(['05/2023', '2022 and 2023', 'None.', 'MRI of 01/2024'])}")
    if ctx.style == "per_breast" or (ctx.style != "numbered" and rng.random() < 0.3):
        parts.append(f"{heads[2]}:\n" + per_breast_block(ctx))
    else:
        body = body_sentences(ctx)
        if ctx.style == "numbered":
            body = [f"{i}. {line}" for i, line in enumerate(body, 1)]
            parts.append(f"{heads[2]}:\n" + "\n".join(body))
        else:
            parts.append(f"{heads[2]}:\n" + paragraphs(rng, body))
    impression = impression_lines(ctx) + [birads_line(ctx)]
    parts.append(f"{heads[3]}:\n" + "\n".join(line for line in impression if line))
    return "\n".join(parts), s.laterality


def per_breast_block(ctx: Ctx) -> str:
    rng, s = ctx.rng, ctx.study
    lines = []
    if s.modality == "MG" and s.composition:
        lines.append(composition_line(ctx))
    if s.modality == "MR":
        lines += mr_study_lines(ctx)
    benign = add_bilateral_benign(ctx)
    if benign:
        lines.append(benign)
    ctx.side_in_heading = True
    breasts = list(s.imaged)
    if rng.random() < 0.7:
        breasts.sort(key=lambda b: b != "right")  # radiologists mostly report right first
    for breast in breasts:
        inline = rng.random() < 0.6
        sentences = " ".join(findings_sentences(ctx, breast))
        head = rng.choice(SECTION_HEADS[breast])
        lines.append(f"{head} {sentences}" if inline else f"{head}\n{sentences}")
    ctx.side_in_heading = False
    closing = closing_no_enhancement(ctx)
    if closing:
        lines.append(closing)
    return "\n".join(lines)


def paragraphs(rng: random.Random, sentences: list[str]) -> str:
    out, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if rng.random() < 0.35:
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return rng.choice(["\n", "\n\n"]).join(out)


def render_narrative(ctx: Ctx) -> tuple[str, str | None]:
    """No headings: the laterality is stated only if the opening sentence says it."""
    rng, s = ctx.rng, ctx.study
    name = "mammography" if s.modality == "MG" else "MRI"
    if rng.random() < 0.6:
        side = "Bilateral" if s.laterality == "bilateral" else f"{s.laterality.capitalize()}"
        why = rng.choice(["", " for surveillance", " after neoadjuvant chemotherapy"])
        opening = f"{side} {name} was performed{why}."
        stated = s.laterality
    else:
        opening = f"{_cap(name)} {rng.choice(['report', 'performed for follow-up'])}."
        # Without a title the laterality is known only when both breasts are described.
        stated = "bilateral" if s.laterality == "bilateral" else None
    body = body_sentences(ctx)
    closing = [line for line in impression_lines(ctx) + [birads_line(ctx)] if line]
    return " ".join([opening, *body, *closing]), stated


def render_structured(ctx: Ctx) -> tuple[str, str]:
    s = ctx.study
    lines = [study_title(ctx), f"Indication: {history_line(ctx)}"]
    if s.modality == "MG":
        if s.composition:
            lines.append(f"Breast composition: {s.composition.upper()}")
        blocks = [structured_calc_block(ctx, c) for c in s.calcs]
        lines.append("Findings:")
        lines += blocks or ["Calcifications: none."]
    else:
        lines += mr_study_lines(ctx)
        lines.append("Findings:")
        lines += [structured_lesion_block(ctx, le, i) for i, le in enumerate(s.lesions, 1)]
        closing = closing_no_enhancement(ctx)
        if closing:
            lines.append(closing)
        elif not s.lesions:
            lines.append("Lesions: none.")
    if s.birads is not None:
        lines.append(f"Assessment: BI-RADS {s.birads}")
    return "\n".join(lines), s.laterality


def telegraphic(rng: random.Random, text: str) -> str:
    """Dictated shorthand: abbreviations a hurried radiologist uses."""
    for long, short in [("left breast", "L breast"), ("right breast", "R breast"), ("with ", "w/ "),
                        ("upper outer quadrant", "UOQ"), ("lower inner quadrant", "LIQ"),
                        ("neoadjuvant chemotherapy", "NAC"), ("status post", "s/p")]:
        if rng.random() < 0.7:
            text = text.replace(long, short)
    return text


TYPO_WORDS = ("calcifications", "microcalcifications", "pleomorphic", "amorphous", "heterogeneous",
              "segmental", "distribution", "enhancement", "persistent", "plateau", "washout", "grouped",
              "clustered", "regional", "spiculated", "circumscribed", "dystrophic", "vascular", "branching")


def typo(rng: random.Random, word: str) -> str:
    """One realistic slip of the keyboard, never on the first letter."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def add_typos(rng: random.Random, text: str) -> str:
    for _ in range(rng.choice([1, 1, 2])):
        words = [m for m in re.finditer(r"[A-Za-z]+", text) if m.group().lower() in TYPO_WORDS]
        if not words:
            break
        hit = rng.choice(words)
        text = text[:hit.start()] + typo(rng, hit.group()) + text[hit.end():]
    return text


# ---------------------------------------------------------------- labels


def _num(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral() else float(value)


def labels(study: Study, no_enhancement: bool, laterality: str | None) -> dict:
    remaining = [le for le in study.lesions if le.change != "no_longer_seen"]
    return {
        "birads": study.birads,
        "breast_composition": study.composition,
        "laterality": laterality,
        "no_enhancement": study.modality == "MR" and no_enhancement and not remaining,
        "calcifications": [
            {"laterality": c.breast, "morphology": c.morphology, "distribution": c.distribution,
             "extent_mm": _num(c.extent_mm), "observed_change": c.change, "quadrant": c.quadrant,
             "clock": c.clock, "group": c.group}
            for c in study.calcs
        ],
        "enhancements": [
            {"laterality": le.breast, "lesion_type": le.lesion_type, "size_mm": _num(le.size_mm),
             "kinetics_initial": le.kinetics_initial, "kinetics_delayed": le.kinetics_delayed,
             "mass_shape": le.mass_shape, "mass_margin": le.mass_margin,
             "nme_distribution": le.nme_distribution, "observed_change": le.change,
             "quadrant": le.quadrant, "clock": le.clock}
            for le in study.lesions
        ],
    }


def generate(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT) -> list[dict]:
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        study = sample_study(rng)
        text, no_enhancement, laterality = render(study, rng)
        cases.append({"id": f"gen-{i + 1:03d}", "modality": study.modality, "text": text,
                      "expected": labels(study, no_enhancement, laterality)})
    return cases


def dumps(cases: list[dict]) -> str:
    return "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.write_text(dumps(generate(args.seed, args.count)), encoding="utf-8")
    print(f"{args.count} reports written to {args.out}")


if __name__ == "__main__":
    main()
