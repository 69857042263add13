"""What the extractor proposes: frozen values a form or an HL7 feed can read, with evidence.

Every proposed value carries the span of the report it came from (`evidence`), so the study
form can show the radiologist why a field was prefilled before they confirm it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Span] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Span:
    """Characters `start:end` of the report text, and those characters."""

    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True, slots=True)
class CalcProposal:
    """One calcification group in one breast, as the report describes it."""

    laterality: str | None  # patients.vocabulary.Breast: "left" | "right"
    morphology: str | None = None
    distribution: str | None = None
    extent_mm: Decimal | None = None
    quadrant: str | None = None
    clock: int | None = None
    depth: str | None = None
    nipple_distance_mm: Decimal | None = None
    observed_change: str | None = None
    group: str | None = None
    count: int | None = None
    count_bin: str | None = None
    evidence: Mapping[str, Span] = field(default_factory=lambda: EMPTY, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class EnhProposal:
    """One enhancing lesion in one breast on MRI."""

    laterality: str | None
    lesion_type: str | None = None  # "focus" | "mass" | "nme"
    size_mm: Decimal | None = None
    mass_shape: str | None = None
    mass_margin: str | None = None
    nme_distribution: str | None = None
    nme_pattern: str | None = None
    kinetics_initial: str | None = None
    kinetics_delayed: str | None = None
    quadrant: str | None = None
    clock: int | None = None
    depth: str | None = None
    nipple_distance_mm: Decimal | None = None
    observed_change: str | None = None
    lesion: str | None = None  # the report's own label, e.g. "R-NME1" or "1"
    evidence: Mapping[str, Span] = field(default_factory=lambda: EMPTY, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class Proposal:
    """Structured findings proposed from one report; nothing here has been confirmed."""

    modality: str | None
    birads: str | None = None
    breast_composition: str | None = None
    laterality: str | None = None  # patients.vocabulary.Laterality, the study's
    bpe: str | None = None
    no_enhancement: bool = False
    calcifications: tuple[CalcProposal, ...] = ()
    enhancements: tuple[EnhProposal, ...] = ()
    study_evidence: Mapping[str, Span] = field(default_factory=lambda: EMPTY, compare=False)

    @property
    def evidence(self) -> dict[str, Span]:
        """Every proposed field's span, keyed "birads", "calcifications[0].morphology", ..."""
        spans = dict(self.study_evidence)
        for name in ("calcifications", "enhancements"):
            for i, finding in enumerate(getattr(self, name)):
                spans.update({f"{name}[{i}].{key}": span for key, span in finding.evidence.items()})
        return spans

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (decimals as strings, so no precision is lost)."""
        out = _as_dict(self)
        out["evidence"] = out.pop("study_evidence")
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Span):
        return value.as_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return value


def _as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
