"""The sampled structure of a synthetic report: the study and what it shows, before any words."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

SIDES = ("left", "right")


OTHER = {"left": "right", "right": "left"}


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
