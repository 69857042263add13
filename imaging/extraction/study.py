"""Study-wide fields read from the units: modality, laterality, BPE and "no enhancement"."""

from __future__ import annotations

import re

from . import terms as t
from .analysis import View
from .proposal import Span
from .text import Unit

_MR_CUES = re.compile(r"\bMRI?\b|magnetic resonance|gadolin|enhanc|kinetic|\bT[12]\b|subtraction|\bBPE\b",
                      re.IGNORECASE)
_MG_CUES = re.compile(r"mammo|tomosynth|\bCC\b|\bMLO\b|calcif|microcalc|calcs\b|magnification",
                      re.IGNORECASE)
_EXAM = re.compile(r"mammo|\bMRI?\b|tomosynth|magnetic resonance|breast imaging", re.IGNORECASE)
_TITLE_SIDE = re.compile(
    r"(?i:\b(?P<both>bilateral|bilat|both breasts|both sides)\b|\b(?P<side>left|right)\b)"
    r"|\b(?P<short>Lt|Rt|L|R)\b(?=\s+(?i:dx|diagnostic|screening|breast|mammo\w*|mri)\b)")
# "No new enhancement" leaves room for known enhancement; "no residual or new" does not.
_NOT_NEW = frozenset({"new", "other", "additional", "further"})


def infer_modality(text: str) -> str | None:
    """MG or MR by which words dominate; None when the text does not tell."""
    mr, mg = len(_MR_CUES.findall(text)), len(_MG_CUES.findall(text))
    if mr == mg:
        return None
    return "MR" if mr > mg else "MG"


def _title_units(units: list[Unit]) -> list[Unit]:
    """Units that name the examination: an "EXAM:" line, else the first sentence if it names one."""
    titles = [u for u in units if u.section == "title"]
    if titles:
        return titles
    first = units[:1]
    return [u for u in first if u.first_line and _EXAM.search(u.text)]


def laterality(units: list[Unit], views: list[View], source: str) -> tuple[str | None, Span | None]:
    """Left, right or bilateral: the title's word, else both breasts described, else unknown."""
    for unit in _title_units(units):
        m = _TITLE_SIDE.search(unit.text)
        if m:
            span = Span(unit.start + m.start(), unit.start + m.end(), m.group())
            if m.group("both"):
                return "bilateral", span
            word = (m.group("side") or m.group("short")).lower()
            return (t.LEFT if word.startswith("l") else t.RIGHT), span
    seen: dict[str, Span] = {}
    for view in views:
        if view.unit.section not in ("findings", "impression", "technique", "title"):
            continue
        for mention in view.any(t.SIDE):
            if mention.value is not None:
                start, end = mention.start, mention.end
                seen.setdefault(mention.value, Span(start, end, source[start:end]))
        if view.unit.breast and view.unit.heading:
            start, end = view.unit.heading
            seen.setdefault(view.unit.breast, Span(start, end, source[start:end]))
    if t.BOTH in seen:
        return "bilateral", seen[t.BOTH]
    if t.LEFT in seen and t.RIGHT in seen:
        return "bilateral", seen[t.RIGHT] if seen[t.RIGHT].start > seen[t.LEFT].start else seen[t.LEFT]
    return None, None


def bpe(views: list[View], source: str) -> tuple[str | None, Span | None]:
    """Background parenchymal enhancement: a level word within four words of "BPE"."""
    for view in views:
        if not view.unit.describes_findings:
            continue
        for term in view.any(t.BPE):
            for level in view.any(t.BPE_LEVEL):
                if -4 <= level.first - term.last <= 4 or -4 <= term.first - level.last <= 4:
                    start, end = min(term.start, level.start), max(term.end, level.end)
                    return level.value, Span(start, end, source[start:end])
    return None, None


def no_enhancement_statement(views: list[View], source: str) -> Span | None:
    """An explicit "no (suspicious) enhancement"; "no new enhancement" says less and is not one."""
    for view in views:
        if not view.unit.describes_findings:
            continue
        background = {i for m in view.any(t.BPE) for i in range(m.first, m.last)}
        for scope in view.scopes:
            words = [view.tokens[i].word for i in range(scope.first, scope.last)]
            hits = [i for i in range(scope.first, scope.last)
                    if (view.tokens[i].word.startswith("enhanc") or view.tokens[i].word in ("nme", "nonmass"))
                    and i not in background]
            if not hits:
                continue
            qualifiers = set(words[:hits[0] - scope.first])
            if "residual" in qualifiers or not _NOT_NEW & qualifiers:
                start, end = scope.trigger.start, view.tokens[hits[0]].end
                return Span(start, end, source[start:end])
    return None
