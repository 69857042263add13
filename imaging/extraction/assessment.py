"""BI-RADS assessment category and breast composition, read from the whole report.

BI-RADS: "BI-RADS 4B", "BIRADS: 2", "BI-RADS Category 3", "Category 3", "ACR 4",
"Assessment: 5 - highly suggestive". A category recalled from the past ("previously
BI-RADS 5", one in the history or comparison section) is not this study's. When a report
gives several (one per breast), an "overall"/"final" one wins, then one in the impression
or assessment, then the most worrisome by the ACR order 1 < 2 < 3 < 6 < 0 < 4 < 4A < 4B <
4C < 5 (the atlas's rule for combining assessments).

Composition (mammography only): the a-d letter when given ("ACR C", "density: b",
"heterogeneously dense (C)"), else the 5th-edition wording ("heterogeneously dense"), else
older wording ("predominantly fatty"). ACR numbers 1-4 next to density words are the 4th
edition's composition scale, a-d.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .proposal import Span
from .text import Unit

_BIRADS_WORD = r"(?:\bACR\s+)?\bBI[\s\-]?R(?:AD|DA)S?\b(?:\s*(?:\u00ae|\(R\)))?"
_CATEGORY = r"(?P<v>[0-6](?:\s?[ABCabc](?![A-Za-z]))?|IV[ABC]?|VI|V|III|II|I)(?!\w)"
_BIRADS = re.compile(
    rf"{_BIRADS_WORD}\s*(?:(?:category|cat\.?|assessment|score)\s*)*[:\-=]?\s*"
    rf"(?:(?:right|left|R|L)\b\s*[:\-]?\s*)?{_CATEGORY}", re.IGNORECASE)
_CATEGORY_ONLY = re.compile(rf"\b(?:assessment\s+)?category\s*[:\-]?\s*{_CATEGORY}", re.IGNORECASE)
_ACR = re.compile(r"\bACR\s*(?:category\s*)?[:\-]?\s*(?P<v>[0-6][ABC]?)(?![\w\-])", re.IGNORECASE)
_ASSESSMENT = re.compile(
    r"\b(?:final\s+|overall\s+)?assessment\s*(?:category)?\s*[:\-]\s*(?P<v>[0-6][ABC]?)(?![\w\-])",
    re.IGNORECASE)
_ASSESSMENT_WORDS = re.compile(
    r"\b(?:final\s+|overall\s+)?assessment\s*[:\-]\s*(?P<w>known biopsy[- ]proven malignancy|"
    r"highly suggestive of malignancy|probably benign|benign|negative|suspicious|incomplete)", re.IGNORECASE)
_WORDS_VALUE = {"known biopsy-proven malignancy": "6", "known biopsy proven malignancy": "6",
                "highly suggestive of malignancy": "5", "probably benign": "3", "benign": "2",
                "negative": "1", "suspicious": "4", "incomplete": "0"}
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6"}
_PAST = re.compile(r"\b(?:previous(?:ly)?|prior|was|were|formerly|earlier|historical)\b[^.;\n]{0,15}$",
                   re.IGNORECASE)
_OVERALL = re.compile(r"\b(?:overall|final|combined)\b[^.;\n]{0,20}$", re.IGNORECASE)
_DENSITY_CONTEXT = re.compile(r"densit|dense|composition|parenchym|fibroglandular|fatty", re.IGNORECASE)

# Least to most worrisome, for combining per-breast categories.
ACR_ORDER = ("1", "2", "3", "6", "0", "4", "4A", "4B", "4C", "5")


@dataclass(frozen=True, slots=True)
class Found:
    value: str
    span: Span


def _unit_at(units: list[Unit], offset: int) -> Unit | None:
    """The unit holding this offset, or the next one (a "BIRADS:" heading's own line)."""
    return next((u for u in units if u.end > offset), None)


def _sentence_around(units: list[Unit], text: str, offset: int) -> str:
    """The sentence holding the offset (from the offset, when a heading like "BIRADS:" precedes it)."""
    unit = _unit_at(units, offset)
    return text[min(offset, unit.start):unit.end] if unit else text[offset:]


def birads(text: str, units: list[Unit]) -> Found | None:
    candidates = [found for pattern, reader in _PATTERNS for m in pattern.finditer(text)
                  if (found := _candidate(pattern, reader, m, text, units))]
    return max(candidates, key=lambda c: c[:2])[2] if candidates else None


def _candidate(pattern: re.Pattern[str], reader: Callable[[re.Match[str]], str | None], m: re.Match[str],
               text: str, units: list[Unit]) -> tuple[int, int, Found] | None:
    """(priority, how worrisome, the category) of one match, or None if it is not this study's."""
    value = reader(m)
    unit = _unit_at(units, m.start())
    if value is None or (unit and unit.section in ("history", "comparison")):
        return None
    before = text[max(0, m.start() - 40):m.start()]
    if _PAST.search(before):
        return None  # "previously BI-RADS 5"
    if pattern is not _BIRADS and _DENSITY_CONTEXT.search(_sentence_around(units, text, m.start())):
        return None  # "ACR 2" beside density words is the 4th edition's composition
    in_conclusion = bool(unit and unit.section in ("impression", "assessment"))
    priority = 3 if _OVERALL.search(before) else 2 if in_conclusion else 1
    if pattern is _ASSESSMENT_WORDS:
        priority -= 1  # words are read only when no number is given
    return priority, ACR_ORDER.index(value), Found(value, Span(m.start(), m.end(), m.group()))


def _category(m: re.Match[str]) -> str | None:
    raw = re.sub(r"\s", "", m.group("v")).upper()
    value = _ROMAN.get(raw.rstrip("ABC"), raw.rstrip("ABC")) + raw[len(raw.rstrip("ABC")):]
    if value[0] != "4" and len(value) > 1:
        return None  # "2B" is not a category
    return value if value in ACR_ORDER else None


def _assessment_words(m: re.Match[str]) -> str | None:
    return _WORDS_VALUE.get(m.group("w").lower())


_PATTERNS = ((_BIRADS, _category), (_CATEGORY_ONLY, _category), (_ACR, _category), (_ASSESSMENT, _category),
             (_ASSESSMENT_WORDS, _assessment_words))


# ---------------------------------------------------------------- composition

_LETTER = re.compile(
    r"\b(?:(?:ACR|BI-?RADS)\s+)?(?:breast\s+)?(?:density|composition)(?:\s+(?:category|type))?\s*(?:is\s+)?"
    r"[:\-]?\s*\(?(?P<l>[a-d])\)?(?![\w'])"
    r"|\bACR\s*(?:density\s*)?[:\-]?\s*(?P<acr>[a-d])(?![\w'])"
    r"|(?:dense|fatty|fibroglandular)(?:\s+(?:breasts?|densit(?:y|ies)|tissue))*\s*\((?:ACR\s*)?(?P<paren>[a-d])\)",
    re.IGNORECASE)
_ACR_NUMBER = re.compile(r"\bACR\s*(?:density\s*)?[:\-]?\s*(?P<n>[1-4])(?![\w\-])", re.IGNORECASE)
_PHRASES: tuple[tuple[re.Pattern[str], str, int], ...] = (
    (re.compile(r"\balmost entirely fat", re.IGNORECASE), "a", 2),
    (re.compile(r"\bscattered (?:areas of )?fibroglandular", re.IGNORECASE), "b", 2),
    (re.compile(r"\bhet\w*gen\w* dense", re.IGNORECASE), "c", 2),
    (re.compile(r"\bext\w*m\w* dense", re.IGNORECASE), "d", 2),
    (re.compile(r"\b(?:predominantly|mostly|entirely) fat|\bfatty(?:[- ]replaced)?\s+breast|"
                r"\bbreasts? (?:are|is) fatty", re.IGNORECASE), "a", 1),
)


def composition(text: str, units: list[Unit]) -> Found | None:
    """The breast composition letter; the letter written outranks the words."""
    candidates: list[tuple[int, int, Found]] = []

    def add(m: re.Match[str], value: str, rank: int) -> None:
        unit = _unit_at(units, m.start())
        if unit is None or unit.section not in ("history", "comparison"):
            candidates.append((rank, -m.start(), Found(value, Span(m.start(), m.end(), m.group()))))

    for m in _LETTER.finditer(text):
        add(m, (m.group("l") or m.group("acr") or m.group("paren")).lower(), 3)
    for m in _ACR_NUMBER.finditer(text):
        if _DENSITY_CONTEXT.search(_sentence_around(units, text, m.start())):
            add(m, "abcd"[int(m.group("n")) - 1], 3)
    for pattern, value, rank in _PHRASES:
        for m in pattern.finditer(text):
            add(m, value, rank)
    return max(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None

