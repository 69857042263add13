"""Proposed findings (from a report's text) turned into the study form's prefilled values.

Pure: a stored proposal (`StudyProposal.proposal`, the extractor's `Proposal.as_dict()`)
and the draft in, the form's initial values and the report text behind each value out.
Only fields the draft leaves empty are proposed, and finding rows only when the draft has
none: what a person or the sending system entered is never overwritten by a guess.
Values outside the lexicon are dropped, so a proposal can never put an invalid choice in
the form.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from patients.vocabulary import Breast

from . import vocabulary as v

# Study fields a proposal may fill, per modality (the form shows the others only where they apply).
STUDY_FIELDS: dict[str, tuple[str, ...]] = {
    v.Modality.MG: ("birads", "breast_composition"),
    v.Modality.MR: ("birads", "bpe", "no_enhancement"),
    v.Modality.US: ("birads",),
}
CHOICES: dict[str, set[str]] = {
    "birads": set(v.BiRads.values),
    "breast_composition": set(v.BreastComposition.values),
    "bpe": set(v.Bpe.values),
    "laterality": set(Breast.values),
    "morphology": set(v.Morphology.values),
    "distribution": set(v.Distribution.values),
    "count_bin": set(v.CountBin.values),
    "quadrant": set(v.Quadrant.values),
    "depth": set(v.Depth.values),
    "observed_change": set(v.ObservedChange.values),
    "lesion_type": set(v.LesionType.values),
    "mass_shape": set(v.MassShape.values),
    "mass_margin": set(v.MassMargin.values),
    "nme_distribution": set(v.NmeDistribution.values),
    "nme_pattern": set(v.NmePattern.values),
    "kinetics_initial": set(v.KineticsInitial.values),
    "kinetics_delayed": set(v.KineticsDelayed.values),
}
DECIMALS = ("extent_mm", "size_mm", "nipple_distance_mm")
CALC_KEYS = ("group", "laterality", "morphology", "distribution", "extent_mm", "count", "count_bin",
             "observed_change", "quadrant", "clock", "depth", "nipple_distance_mm")
ENH_KEYS = ("lesion", "laterality", "lesion_type", "size_mm", "kinetics_initial", "kinetics_delayed",
            "observed_change", "mass_shape", "mass_margin", "nme_distribution", "nme_pattern",
            "quadrant", "clock", "depth", "nipple_distance_mm")


@dataclass
class ProposedRow:
    values: dict[str, Any]
    evidence: dict[str, str]  # field -> the report's words


@dataclass
class Prefill:
    study: dict[str, Any] = field(default_factory=dict)
    study_evidence: dict[str, str] = field(default_factory=dict)
    calcifications: list[ProposedRow] = field(default_factory=list)
    enhancements: list[ProposedRow] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Values proposed: study fields plus every filled field of every row."""
        rows = [*self.calcifications, *self.enhancements]
        return len(self.study) + sum(len(r.values) for r in rows)

    @property
    def row_count(self) -> int:
        return len(self.calcifications) + len(self.enhancements)

    def __bool__(self) -> bool:
        return self.count > 0


def _clean(name: str, value: Any) -> Any:
    """The value as the form takes it, or None when it is not a value of the lexicon."""
    if value is None or value == "":
        return None
    if name in CHOICES:
        return value if value in CHOICES[name] else None
    if name in DECIMALS:
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return None
        return amount if amount >= 0 else None
    if name in ("clock", "count"):
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None
        return number if (name == "count" and number >= 0) or 1 <= number <= 12 else None
    return str(value)[:32]


def _quote(span: Any) -> str:
    return str(span.get("text", "")).strip() if isinstance(span, dict) else ""


def _row(raw: dict, keys: tuple[str, ...], label_key: str, label: str) -> ProposedRow:
    values = {k: c for k in keys if (c := _clean(k, raw.get(k))) is not None}
    if values.get("count") is not None and "count_bin" not in values:
        values["count_bin"] = v.count_bin_for(values["count"])
    values.setdefault(label_key, label)
    evidence = {k: q for k, span in (raw.get("evidence") or {}).items() if (q := _quote(span))}
    return ProposedRow(values=values, evidence=evidence)


def _labels(rows: list[dict], prefix_of_breast: dict[str, str]) -> list[str]:
    """The report's own label when it gave one, else L1, L2, R1… per breast."""
    counts: dict[str, int] = {}
    labels = []
    for raw in rows:
        side = prefix_of_breast.get(raw.get("laterality") or "", "")
        counts[side] = counts.get(side, 0) + 1
        labels.append(f"{side or 'G'}{counts[side]}")
    return labels


def prefill(proposal: dict, *, modality: str, study_values: dict[str, Any],
            has_findings: bool) -> Prefill:
    """What the form shows as proposed for a draft (`study_values`: its current fields)."""
    out = Prefill()
    evidence = proposal.get("evidence") or {}
    for name in STUDY_FIELDS.get(modality, ()):
        value = proposal.get(name)
        if name == "no_enhancement":
            if value is True and not study_values.get(name) and not proposal.get("enhancements"):
                out.study[name] = True
        elif (clean := _clean(name, value)) is not None and not study_values.get(name):
            out.study[name] = clean
        if name in out.study and (q := _quote(evidence.get(name))):
            out.study_evidence[name] = q
    if has_findings:
        return out
    sides = {"left": "L", "right": "R"}
    if modality == v.Modality.MG:
        rows = [r for r in proposal.get("calcifications") or () if isinstance(r, dict)]
        for raw, label in zip(rows, _labels(rows, sides), strict=True):
            out.calcifications.append(_row(raw, CALC_KEYS, "group", raw.get("group") or label))
    elif modality == v.Modality.MR:
        rows = [r for r in proposal.get("enhancements") or () if isinstance(r, dict)]
        for raw, label in zip(rows, _labels(rows, sides), strict=True):
            out.enhancements.append(_row(raw, ENH_KEYS, "lesion", raw.get("lesion") or label))
    return out


def review_summary(prefilled: Prefill, saved: dict[str, Any]) -> dict[str, list[str]]:
    """Which proposed study fields the person kept and which they changed (for the audit)."""
    kept = [k for k, val in prefilled.study.items() if saved.get(k) == val]
    changed = [k for k in prefilled.study if k not in kept]
    return {"kept": kept, "changed": changed,
            "rows_proposed": [f"calcifications: {len(prefilled.calcifications)}",
                              f"enhancements: {len(prefilled.enhancements)}"]}
