"""Words, and the lexicon phrases found among them (longest phrase first, typos forgiven)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from . import terms as t
from .fuzzy import Corrector

_WORD = re.compile(r"[A-Za-z]+|\d+(?:[.,]\d+)?")
# What may stand between the words of one phrase: "non-mass", "coarse, heterogeneous", "Distribution: x".
_PHRASE_GAP = re.compile(r"[ ,/:\-]*")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    word: str  # lower case, typo corrected
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Mention:
    """A phrase of one kind (terms.MORPH, terms.SIZE...) over tokens first:last of a unit."""

    kind: str
    value: str | None
    start: int
    end: int
    first: int
    last: int  # exclusive
    strength: int = 0
    negated: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    words: tuple[str, ...]
    tags: tuple[tuple[str, str | None, int], ...]  # (kind, value, strength)


class Lexicon:
    def __init__(self, entries: list[_Entry], corrector: Corrector) -> None:
        self.corrector = corrector
        self._starting: dict[str, list[_Entry]] = {}
        for entry in sorted(entries, key=lambda e: -len(e.words)):
            self._starting.setdefault(entry.words[0], []).append(entry)

    def tokens(self, text: str, offset: int) -> list[Token]:
        correct = self.corrector.correct
        return [Token(m.group(), correct(m.group().lower()), offset + m.start(), offset + m.end())
                for m in _WORD.finditer(text)]

    def match(self, tokens: list[Token], source: str, blocked: frozenset[int] = frozenset()) -> list[Mention]:
        """Every lexicon phrase among the tokens, greedily longest first, left to right."""
        found: list[Mention] = []
        i = 0
        while i < len(tokens):
            entry = None if i in blocked else self._entry_at(tokens, source, i, blocked)
            if entry is None:
                i += 1
                continue
            last = i + len(entry.words)
            found += [Mention(kind, value, tokens[i].start, tokens[last - 1].end, i, last, strength)
                      for kind, value, strength in entry.tags]
            i = last
        return found

    def _entry_at(self, tokens: list[Token], source: str, i: int, blocked: frozenset[int]) -> _Entry | None:
        for entry in self._starting.get(tokens[i].word, ()):
            last = i + len(entry.words)
            if last > len(tokens) or any(k in blocked for k in range(i, last)):
                continue
            words_match = all(tokens[i + k].word == word for k, word in enumerate(entry.words))
            if words_match and all(_PHRASE_GAP.fullmatch(source, tokens[k - 1].end, tokens[k].start)
                                   for k in range(i + 1, last)):
                return entry
        return None


def _words(phrase: str) -> tuple[str, ...]:
    return tuple(m.group().lower() for m in _WORD.finditer(phrase))


def _table(kind: str, table: Mapping[str, str | None] | tuple[str, ...], strength: int = 0) -> list[_Entry]:
    items = table.items() if isinstance(table, Mapping) else ((phrase, None) for phrase in table)
    # Plain strings, not TextChoices members: proposals travel to forms and HL7 as text.
    return [_Entry(_words(phrase), ((kind, None if value is None else str(value), strength),))
            for phrase, value in items]


def _common() -> list[_Entry]:
    entries = (_table(t.CHANGE, t.CHANGES) + _table(t.QUADRANT, t.QUADRANTS) + _table(t.SIDE, t.SIDES)
               + _table(t.NEG_PRE, t.NEGATION_PRE) + _table(t.NEG_POST, t.NEGATION_POST)
               + _table(t.TERM, t.TERMINATORS) + _table(t.PSEUDO, t.PSEUDO_NEGATIONS))
    entries += [_Entry((word,), ((t.SIDE, str(side), 0), (t.QUADRANT, str(quadrant), 0)))
                for word, (side, quadrant) in t.SIDE_QUADRANTS.items()]
    return entries


def _mammography() -> list[_Entry]:
    entries = _table(t.MORPH, t.MORPHOLOGY) + _table(t.CALC, t.CALC_NOUNS) + _table(t.OTHER, t.MG_OTHER)
    entries += [_Entry(_words(phrase), ((t.DIST, str(value), strength),))
                for phrase, (value, strength) in t.DISTRIBUTION.items()]
    entries += _table(t.UMBRELLA, ("groups", "clusters"))
    return entries


def _mri() -> list[_Entry]:
    entries = (_table(t.LESION, t.LESIONS) + _table(t.SHAPE, t.SHAPES) + _table(t.MARGIN, t.MARGINS)
               + _table(t.NME_DIST, t.NME_DISTRIBUTIONS) + _table(t.NME_PATTERN, t.NME_PATTERNS)
               + _table(t.KIN_INITIAL, t.KINETICS_INITIAL) + _table(t.KIN_DELAYED, t.KINETICS_DELAYED)
               + _table(t.CURVE, t.CURVES) + _table(t.ENH, t.ENHANCEMENT_WORDS) + _table(t.BPE, t.BACKGROUND)
               + _table(t.BPE_LEVEL, t.BPE_LEVELS) + _table(t.OTHER, t.MR_OTHER)
               + _table(t.UMBRELLA, ("foci",)))
    for word in t.NME_BY_DISTRIBUTION:
        entries.append(_Entry((word, "enhancement"), ((t.LESION, str(t.LT.NME), 0),
                                                      (t.NME_DIST, str(t.NME_DISTRIBUTIONS[word]), 0))))
    entries.append(_Entry(("clumped", "enhancement"),
                          ((t.LESION, str(t.LT.NME), 0), (t.NME_PATTERN, str(t.NP.CLUMPED), 0))))
    return entries


@cache
def corrector() -> Corrector:
    vocabulary = {word for entry in _common() + _mammography() + _mri() for word in entry.words}
    # Words the typo matcher must recognise as themselves though no phrase starts with them.
    vocabulary |= {"breast", "breasts", "distribution", "enhancement", "calcium", "milk", "mass", "clock"}
    return Corrector(word for word in vocabulary if word.isalpha())


@cache
def lexicon(modality: str) -> Lexicon:
    """The phrases of mammography ("MG") or MRI ("MR") reports, with those both share."""
    specific = _mammography() if modality == "MG" else _mri()
    return Lexicon(_common() + specific, corrector())
