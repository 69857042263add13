"""Calcification groups (mammography) and enhancing lesions (MRI), read unit by unit.

1. Anchors. On a mammogram each run of morphology words ("fine pleomorphic and amorphous")
   in a unit that names calcifications is one group, and so is a calcification noun in a
   clause of its own ("a cluster of residual calcifications; and ..."), unless it only
   announces groups ("two groups of calcifications") or points back ("the calcifications").
   On MRI each lesion phrase (mass, focus, non-mass enhancement) is one. Negated anchors,
   anchors recalled only as history ("previously 6 cm of segmental NME") and background
   foci are skipped.
2. Segments. A unit with several anchors is cut between each pair at the strongest
   separator (";", ", and", "and", ",") so "a 5 mm cluster of amorphous calcifications at
   2 o'clock and a 3 mm cluster of punctate calcifications at 10 o'clock" gives each group
   its own size and clock.
3. Values. Each anchor takes the first value of each kind in its segment (the most explicit
   distribution); its breast is the nearest side word, else the unit's, else the breast
   heading above, else the breast the text last spoke of, else the study's single breast.
4. Merging. The impression repeats the findings: a finding compatible with an earlier one
   (same breast, no value in conflict) fills that one's gaps instead of adding a new one.
5. Continuation. A unit without anchor that only adds values ("This is decreased from
   32 mm.") fills the gaps of the finding of the unit just before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from imaging.vocabulary import MORPHOLOGY_RANK, count_bin_for

from . import measures as n
from . import terms as t
from .analysis import View
from .lexicon import Mention
from .proposal import Span

Segment = tuple[int, int]  # token indices, end exclusive


@dataclass(frozen=True, slots=True)
class Anchor:
    first: int
    last: int
    value: str | None
    mention: Mention


@dataclass
class Draft:
    breast: str | None
    unit: int
    values: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Span] = field(default_factory=dict)

    def fill(self, values: Mapping[str, Any], evidence: Mapping[str, Span]) -> None:
        for key, value in values.items():
            if self.values.get(key) is None and value is not None:
                self.values[key] = value
                if key in evidence:
                    self.evidence[key] = evidence[key]


@dataclass(frozen=True)
class Spec:
    """What differs between calcification groups and lesions."""

    type_field: str
    fields: Mapping[str, str]  # mention kind -> proposal field
    identity: tuple[str, ...]  # fields whose different values mean different findings
    size_field: str
    anchors: Callable[[View], list[Anchor]]
    keep_anchor: Callable[[View, Anchor, Segment], bool]
    change_map: Mapping[str, str] = field(default_factory=dict)


def _span(source: str, start: int, end: int) -> Span:
    return Span(start, end, source[start:end])


# ---------------------------------------------------------------- anchors

_JOINERS = frozenset({"and", "or", "to", "with"})
_ANAPHORA = frozenset({"the", "these", "those", "this", "such", "all"})
_CLAUSE_WORDS = frozenset({"and", "whereas", "while"})


def calc_anchors(view: View) -> list[Anchor]:
    """Morphology runs, plus calcification nouns in a clause of their own ("residual calcifications")."""
    nouns = view.of(t.CALC)
    runs = _morphology_runs(view)
    if not nouns and not any(m.value in t.CALCIFICATION_ONLY for run in runs for m in run):
        return []
    anchors = [_run_anchor(run) for run in runs]
    umbrella_ends = [m.last for m in view.any(t.UMBRELLA)]
    for noun in nouns:
        if any(0 <= noun.first - end <= 2 for end in umbrella_ends):
            continue  # "two groups of calcifications": the groups follow
        if anchors and {tok.word for tok in view.tokens[max(0, noun.first - 2):noun.first]} & _ANAPHORA:
            continue  # "...; the calcifications have been partially removed": the same group
        if all(_separated(view, noun, anchor) for anchor in anchors):
            anchors.append(Anchor(noun.first, noun.last, None, noun))
    return sorted(anchors, key=lambda a: a.first)


def _morphology_runs(view: View) -> list[list[Mention]]:
    other_words = {i for m in view.any(t.OTHER) for i in range(m.first, m.last)}
    morphs = [m for m in view.of(t.MORPH) if m.last not in other_words]  # "round mass" is not a calcification
    runs: list[list[Mention]] = []
    for m in morphs:
        if runs and {tok.word for tok in view.tokens[runs[-1][-1].last:m.first]} <= _JOINERS:
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


def _separated(view: View, noun: Mention, anchor: Anchor) -> bool:
    """The noun is not the anchor's ("fine pleomorphic calcifications"): a clause break lies between."""
    if anchor.last <= noun.first <= anchor.last + 2:
        return False
    (_, left_last), (right_first, _) = sorted([(noun.first, noun.last), (anchor.first, anchor.last)])
    return any(_clause_break(view, j) for j in range(left_last, right_first + 1))


def _clause_break(view: View, j: int) -> bool:
    """";" before token j, or j is "and" / "whereas" / "while"."""
    return ";" in _gap(view, j) or (0 < j < len(view.tokens) and view.tokens[j].word in _CLAUSE_WORDS)


def _run_anchor(run: list[Mention]) -> Anchor:
    """One group described by several morphologies takes the most suspicious (ties: the last, the head)."""
    best = max(enumerate(run), key=lambda im: (MORPHOLOGY_RANK[im[1].value or ""], im[0]))[1]
    return Anchor(run[0].first, run[-1].last, best.value, best)


def keep_calc_anchor(view: View, anchor: Anchor, segment: Segment) -> bool:
    return not _only_history(view, anchor, segment)


def lesion_anchors(view: View) -> list[Anchor]:
    return [Anchor(m.first, m.last, m.value, m) for m in view.of(t.LESION)]


def keep_lesion_anchor(view: View, anchor: Anchor, segment: Segment) -> bool:
    if any(tok.word == "background" for tok in view.tokens[segment[0]:segment[1]]):
        return False  # foci "related to background enhancement" are not lesions
    return not _only_history(view, anchor, segment)


_HISTORY_CUES = frozenset({"previously", "previous", "prior", "baseline", "formerly"})


def _only_history(view: View, anchor: Anchor, segment: Segment) -> bool:
    """"(previously 2.7 cm irregular mass)": recalled, not found, unless its change is told."""
    before = {tok.word for tok in view.tokens[max(segment[0], anchor.first - 5):anchor.first]}
    has_change = any(segment[0] <= m.first < segment[1] for m in view.of(t.CHANGE))
    return bool(before & _HISTORY_CUES) and not has_change


# ---------------------------------------------------------------- segments

def _cut(view: View, anchors: list[Anchor]) -> list[Segment]:
    bounds = [0]
    for left, right in zip(anchors, anchors[1:], strict=False):
        bounds.append(_boundary(view, left.last, right.first))
    bounds.append(len(view.tokens))
    return list(zip(bounds, bounds[1:], strict=False))


def _boundary(view: View, after: int, before: int) -> int:
    """The token index where the second anchor's segment starts."""
    best, best_strength = (after + before + 1) // 2, 0
    for j in range(after, before + 1):
        strength = _separator(view, j)
        if strength >= best_strength and strength > 0:
            best, best_strength = j, strength
    return best


def _separator(view: View, j: int) -> int:
    """How strongly the text just before token j separates two findings (0: not at all)."""
    gap = _gap(view, j)
    if ";" in gap or ": " in gap:  # not the colon of "8:00"
        return 5
    if 0 < j < len(view.tokens) and view.tokens[j].word in _CLAUSE_WORDS:
        return 4 if "," in gap else 3
    return 2 if "," in gap else 0


def _gap(view: View, j: int) -> str:
    """The characters between tokens j-1 and j ("" at either end of the unit)."""
    if j <= 0 or j >= len(view.tokens):
        return ""
    return view.unit.text[view.tokens[j - 1].end - view.unit.start:view.tokens[j].start - view.unit.start]


# ---------------------------------------------------------------- values

def _value(kind: str, mention: Mention, change_map: Mapping[str, str]) -> Any:
    if mention.value is None:
        return None
    if kind in (n.SIZE, n.NIPPLE):
        return Decimal(mention.value)
    if kind in (n.CLOCK, n.COUNT):
        return int(mention.value)
    if kind == t.CHANGE:
        return change_map.get(mention.value, mention.value)
    return mention.value


def _pick(mentions: list[Mention], kind: str, anchor: Anchor) -> Mention | None:
    of_kind = [m for m in mentions if m.kind == kind]
    if not of_kind:
        return None
    if kind == t.DIST:  # "segmental distribution" over "grouped" over "a group of"
        return max(of_kind, key=lambda m: (m.strength, -abs(m.first - anchor.first)))
    return of_kind[0]


def _values(spec: Spec, mentions: list[Mention], anchor: Anchor | None,
            source: str) -> tuple[dict[str, Any], dict[str, Span]]:
    values: dict[str, Any] = {}
    evidence: dict[str, Span] = {}
    reference = anchor or Anchor(0, 0, None, mentions[0])
    for kind, name in spec.fields.items():
        if values.get(name) is not None:
            continue
        mention = _pick(mentions, kind, reference)
        if mention:
            values[name] = _value(kind, mention, spec.change_map)
            evidence[name] = _span(source, mention.start, mention.end)
    if values.get("count") is not None:
        values["count_bin"] = str(count_bin_for(values["count"]))
    change = _pick(mentions, t.CHANGE, reference)
    if change and values.get("observed_change") in _BY_SIZE and _size_follows(mentions, change):
        values["observed_change"] = _BY_SIZE[values["observed_change"]]  # "decreased from 6 cm"
    return values, evidence


_BY_SIZE = {t.C.INCREASE_CALCIFICATIONS.value: t.C.INCREASE_SIZE.value,
            t.C.DECREASE_CALCIFICATIONS.value: t.C.DECREASE_SIZE.value}


def _size_follows(mentions: list[Mention], change: Mention) -> bool:
    return any(m.kind in (n.SIZE, n.OLD_SIZE) and 0 <= m.first - change.last <= 2 for m in mentions)


def _sides(view: View, anchor: Anchor, segment: Segment) -> list[Mention]:
    """The side words that place this anchor: its segment's, else the unit's; nearest first."""
    sides = view.of(t.SIDE)
    inside = [m for m in sides if segment[0] <= m.first < segment[1]]
    pool = inside or sides
    return sorted(pool, key=lambda m: abs(m.first - anchor.first))


# ---------------------------------------------------------------- reading a report

class Reader:
    def __init__(self, spec: Spec, source: str, study_breast: str | None) -> None:
        self.spec, self.source, self.study_breast = spec, source, study_breast
        self.drafts: list[Draft] = []
        self.carry: str | None = None
        self.section: str | None = None
        self.last: Draft | None = None
        self.last_unit = -2

    def read(self, views: Iterable[View]) -> list[Draft]:
        for view in views:
            if view.unit.section != self.section:
                self.section, self.carry, self.last = view.unit.section, None, None
            if view.unit.describes_findings:
                self._read_unit(view)
            self._update_carry(view)
        return [self._finished(d) for d in self.drafts]

    def _read_unit(self, view: View) -> None:
        anchors = self.spec.anchors(view)
        if not anchors:
            self._continue(view)
            return
        touched = None
        for anchor, segment in zip(anchors, _cut(view, anchors), strict=True):
            if not self.spec.keep_anchor(view, anchor, segment):
                continue
            touched = self._anchor(view, anchor, segment) or touched
        if touched:
            self.last, self.last_unit = touched, view.index

    def _anchor(self, view: View, anchor: Anchor, segment: Segment) -> Draft | None:
        mentions = [m for m in view.mentions if segment[0] <= m.first < segment[1] and not m.negated]
        values, evidence = _values(self.spec, mentions, anchor, self.source)
        values[self.spec.type_field] = anchor.value
        evidence[self.spec.type_field] = _span(self.source, anchor.mention.start, anchor.mention.end)
        placed = None
        for breast, breast_span in self._breasts(view, anchor, segment):
            draft = Draft(breast, view.index)
            draft.fill(values, evidence)
            if breast_span:
                draft.evidence["laterality"] = breast_span
            placed = self._place(draft) or placed
        return placed

    def _breasts(self, view: View, anchor: Anchor, segment: Segment) -> list[tuple[str | None, Span | None]]:
        sides = _sides(view, anchor, segment)
        if sides:
            span = _span(self.source, sides[0].start, sides[0].end)
            if sides[0].value == t.BOTH:
                return [(t.LEFT, span), (t.RIGHT, span)]
            return [(sides[0].value, span)]
        if view.unit.breast:
            heading = view.unit.heading
            return [(view.unit.breast, _span(self.source, *heading) if heading else None)]
        return [(self.carry or self.study_breast, None)]

    def _place(self, draft: Draft) -> Draft | None:
        """Add the draft, or merge it into the one earlier finding it repeats; None if ambiguous."""
        compatible = [d for d in self.drafts if d.unit != draft.unit and self._compatible(d, draft)]
        kind = draft.values.get(self.spec.type_field)
        if len(compatible) > 1 and kind is not None:
            compatible = [d for d in compatible if d.values.get(self.spec.type_field) == kind] or compatible
        if len(compatible) == 1:
            target = compatible[0]
            target.breast = target.breast or draft.breast
            target.fill(draft.values, draft.evidence)
            return target
        if compatible:
            return None  # "the calcifications are stable" with two groups in that breast
        self.drafts.append(draft)
        return draft

    def _compatible(self, old: Draft, new: Draft) -> bool:
        if old.breast and new.breast and old.breast != new.breast:
            return False
        return all(old.values.get(f) is None or new.values.get(f) is None or old.values[f] == new.values[f]
                   for f in self.spec.identity)

    def _continue(self, view: View) -> None:
        """A unit of values only, right after a finding's unit, completes that finding."""
        if self.last is None or view.index != self.last_unit + 1 or view.of(t.OTHER):
            return
        sides = {m.value for m in view.of(t.SIDE)}
        if sides and sides != {self.last.breast}:
            return
        mentions = [m for m in view.mentions if not m.negated]
        if not mentions:
            return
        values, evidence = _values(self.spec, mentions, None, self.source)
        if self.spec.type_field == "morphology":
            morphs = view.of(t.MORPH)
            if morphs:
                values["morphology"] = _run_anchor(morphs).value
                evidence["morphology"] = _span(self.source, morphs[0].start, morphs[-1].end)
        if values:
            self.last.fill(values, evidence)
            self.last_unit = view.index

    def _update_carry(self, view: View) -> None:
        # A wholly negated sentence ("no calcifications in the right breast") leaves the topic where it was.
        sides = {m.value for m in view.of(t.SIDE)} - {t.BOTH}
        if len(sides) == 1:
            self.carry = sides.pop()
        elif sides:
            self.carry = None

    def _finished(self, draft: Draft) -> Draft:
        if draft.values.get("observed_change") == t.C.NO_LONGER_SEEN:
            # A size given for a finding that is gone is the size it had.
            for key in (self.spec.size_field, "count", "count_bin"):
                draft.values.pop(key, None)
                draft.evidence.pop(key, None)
        return draft


CALCIFICATIONS = Spec(
    type_field="morphology",
    fields={t.DIST: "distribution", n.SIZE: "extent_mm", t.QUADRANT: "quadrant", n.CLOCK: "clock",
            n.DEPTH: "depth", n.NIPPLE: "nipple_distance_mm", t.CHANGE: "observed_change", n.LABEL: "group",
            n.COUNT: "count", n.COUNT_BIN: "count_bin"},
    identity=("morphology", "distribution", "extent_mm", "clock", "quadrant", "group"),
    size_field="extent_mm",
    anchors=calc_anchors,
    keep_anchor=keep_calc_anchor,
)

LESIONS = Spec(
    type_field="lesion_type",
    fields={n.SIZE: "size_mm", t.SHAPE: "mass_shape", t.MARGIN: "mass_margin",
            t.NME_DIST: "nme_distribution", t.NME_PATTERN: "nme_pattern",
            t.KIN_INITIAL: "kinetics_initial", t.KIN_DELAYED: "kinetics_delayed", t.CURVE: "kinetics_delayed",
            t.QUADRANT: "quadrant", n.CLOCK: "clock", n.DEPTH: "depth", n.NIPPLE: "nipple_distance_mm",
            t.CHANGE: "observed_change", n.LABEL: "lesion"},
    identity=("lesion_type", "size_mm", "clock", "quadrant", "mass_shape", "mass_margin", "nme_distribution",
              "lesion"),
    size_field="size_mm",
    anchors=lesion_anchors,
    keep_anchor=keep_lesion_anchor,
    change_map=t.LESION_CHANGE,
)
