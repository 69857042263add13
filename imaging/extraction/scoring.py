"""Precision and recall of the extractor against a labelled corpus (JSON lines).

Each line: {"id", "modality", "text", "expected": {"birads", "breast_composition",
"laterality", "no_enhancement", "calcifications": [...], "enhancements": [...]}}.

How it counts, per field (a key absent from a label is not scored; null means "nothing"):

- Study fields (BI-RADS, composition, laterality), once per report: a proposed value equal
  to the label is a true positive; a proposed value that differs is a false positive, and
  also a false negative when the label has a value; no value proposed where the label has
  one is a false negative. No enhancement counts the proposal "true" the same way.
- Calcification groups are paired with labelled groups by breast + morphology (in report
  order when a breast has two alike); lesions by breast + lesion type. A paired group's
  morphology (a lesion's type) is a true positive; an unpaired proposed group is a false
  positive, an unpaired labelled group a false negative. The other group fields
  (distribution, extent, change; a lesion's size, kinetics, change) are compared slot by
  slot on paired groups, as the study fields are, and count as false positives (proposed)
  or false negatives (labelled) on unpaired ones. So a group found in the wrong breast or
  with the wrong morphology costs its every field. Kinetics counts the initial and the
  delayed phase as two slots per lesion.
- Precision is TP / (TP + FP), recall TP / (TP + FN); with nothing to count, 1.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .proposal import Proposal


@dataclass(frozen=True, slots=True)
class Target:
    precision: float
    recall: float


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    label: str
    target: Target | None = None


TARGET = Target(precision=0.95, recall=0.85)
ROWS = (
    Row("birads", "BI-RADS", TARGET),
    Row("breast_composition", "Breast composition"),
    Row("laterality", "Laterality (study)", TARGET),
    Row("morphology", "Calc. morphology", TARGET),
    Row("distribution", "Calc. distribution", TARGET),
    Row("extent_mm", "Calc. extent", TARGET),
    Row("calc_change", "Calc. observed change"),
    Row("lesion_type", "MRI lesion type"),
    Row("size_mm", "MRI lesion size"),
    Row("kinetics", "MRI kinetics"),
    Row("lesion_change", "MRI observed change"),
    Row("no_enhancement", "MRI no enhancement"),
)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    modality: str | None
    text: str
    expected: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Miss:
    case: str
    field: str
    expected: Any
    proposed: Any


@dataclass
class Scores:
    counts: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    misses: list[Miss] = field(default_factory=list)
    reports: int = 0

    def slot(self, case: str, name: str, expected: Any, proposed: Any) -> None:
        """Count one comparable slot (see the module docstring)."""
        counts = self.counts[name]
        if proposed is not None and proposed == expected:
            counts.tp += 1
            return
        if proposed is not None:
            counts.fp += 1
        if expected is not None:
            counts.fn += 1
        if proposed is not None or expected is not None:
            self.misses.append(Miss(case, name, expected, proposed))

    def failures(self) -> list[str]:
        """The rows whose target this corpus misses, worded for a person."""
        out = []
        for row in ROWS:
            c = self.counts[row.name]
            if row.target and (c.precision < row.target.precision or c.recall < row.target.recall):
                out.append(f"{row.label}: precision {c.precision:.3f}, recall {c.recall:.3f} "
                           f"(target {row.target.precision:.2f} / {row.target.recall:.2f})")
        return out


def load_corpus(path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            raw = json.loads(line)
            case_id = raw.get("id", f"line-{number}")
            cases.append(Case(case_id, raw.get("modality"), raw["text"], raw["expected"]))
    return cases


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"))


_STUDY_FIELDS = ("birads", "breast_composition", "laterality")
_CALC_SLOTS = {"distribution": "distribution", "extent_mm": "extent_mm", "observed_change": "calc_change"}
_LESION_SLOTS = {"size_mm": "size_mm", "kinetics_initial": "kinetics", "kinetics_delayed": "kinetics",
                 "observed_change": "lesion_change"}


def score(cases: Iterable[Case], extract: Callable[[str, str | None], Proposal]) -> Scores:
    scores = Scores()
    for case in cases:
        proposal = extract(case.text, case.modality)
        scores.reports += 1
        _score_study(scores, case, proposal)
        _score_findings(scores, case.id, case.expected.get("calcifications"),
                        [c.as_dict() for c in proposal.calcifications], "morphology", _CALC_SLOTS)
        _score_findings(scores, case.id, case.expected.get("enhancements"),
                        [e.as_dict() for e in proposal.enhancements], "lesion_type", _LESION_SLOTS)
    return scores


def _score_study(scores: Scores, case: Case, proposal: Proposal) -> None:
    for name in _STUDY_FIELDS:
        if name in case.expected:
            scores.slot(case.id, name, case.expected[name], getattr(proposal, name))
    if "no_enhancement" in case.expected:
        scores.slot(case.id, "no_enhancement", True if case.expected["no_enhancement"] else None,
                    True if proposal.no_enhancement else None)


def _comparable(name: str, value: Any) -> Any:
    return _decimal(value) if name.endswith("_mm") else value


def _score_findings(scores: Scores, case: str, expected: list[dict] | None, proposed: list[dict],
                    type_field: str, slots: dict[str, str]) -> None:
    if expected is None:
        return
    pairs, lone_proposed, lone_expected = _pair(expected, proposed, type_field)
    for exp, got in pairs:
        scores.slot(case, type_field, exp.get(type_field), got.get(type_field))
        _slots(scores, case, exp, got, slots)
    for got in lone_proposed:
        scores.slot(case, type_field, None, got.get(type_field))
        _slots(scores, case, {key: None for key in slots}, got, slots)
    for exp in lone_expected:
        scores.slot(case, type_field, exp.get(type_field), None)
        _slots(scores, case, exp, {}, slots)


def _slots(scores: Scores, case: str, exp: dict, got: dict, slots: dict[str, str]) -> None:
    for key, row in slots.items():
        if key in exp:
            scores.slot(case, row, _comparable(key, exp[key]), _comparable(key, got.get(key)))


def _pair(expected: list[dict], proposed: list[dict], type_field: str) -> tuple[list, list, list]:
    """Labelled and proposed findings with the same breast and type, paired in report order."""
    waiting: dict[tuple, list[dict]] = defaultdict(list)
    for got in proposed:
        waiting[(got.get("laterality"), got.get(type_field))].append(got)
    pairs, lone_expected = [], []
    for exp in expected:
        queue = waiting[(exp.get("laterality"), exp.get(type_field))]
        if queue:
            pairs.append((exp, queue.pop(0)))
        else:
            lone_expected.append(exp)
    lone_proposed = [got for queue in waiting.values() for got in queue]
    return pairs, lone_proposed, lone_expected


def table(scores: Scores, title: str) -> str:
    lines = [f"{title} ({scores.reports} reports)",
             f"{'field':<24}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}{'F1':>7}  target",
             "-" * 82]
    for row in ROWS:
        c = scores.counts[row.name]
        if row.target:
            met = c.precision >= row.target.precision and c.recall >= row.target.recall
            target = f"P>={row.target.precision:.2f} R>={row.target.recall:.2f} {'met' if met else 'MISSED'}"
        else:
            target = "-"
        lines.append(f"{row.label:<24}{c.tp:>5}{c.fp:>5}{c.fn:>5}{c.precision:>11.3f}{c.recall:>8.3f}"
                     f"{c.f1:>7.3f}  {target}")
    return "\n".join(lines)
