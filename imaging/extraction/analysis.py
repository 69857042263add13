"""One unit read: its words, every phrase and number found in it, and which are negated."""

from __future__ import annotations

from dataclasses import dataclass

from . import measures, negation
from . import terms as t
from .lexicon import Mention, Token, lexicon
from .text import Unit


@dataclass(frozen=True, slots=True)
class View:
    unit: Unit
    index: int
    tokens: list[Token]
    mentions: list[Mention]  # sorted by position; `negated` set
    scopes: list[negation.Scope]

    def of(self, *kinds: str, negated: bool = False) -> list[Mention]:
        return [m for m in self.mentions if m.kind in kinds and m.negated == negated]

    def any(self, *kinds: str) -> list[Mention]:
        return [m for m in self.mentions if m.kind in kinds]


def analyse(unit: Unit, index: int, source: str, modality: str) -> View:
    lex = lexicon(modality)
    tokens = lex.tokens(unit.text, unit.start)
    numbers = measures.regex_mentions(unit.text, unit.start, tokens)
    # Words inside a size, clock or label ("group 1", "12 mm") are not lexicon words.
    blocked = frozenset(i for m in numbers if m.kind != measures.COUNT for i in range(m.first, m.last))
    phrases = lex.match(tokens, source, blocked)
    others = {i for m in phrases if m.kind == t.OTHER for i in range(m.first, m.last)}
    if modality == "MR":
        others = set()  # on MRI "a 9 mm mass" is the lesion itself
        phrases = _kinetics_in_context(phrases, tokens, source)
    numbers = measures.classify_sizes(numbers, tokens, others)
    mentions, scopes = negation.apply(tokens, sorted(phrases + numbers, key=lambda m: m.start), source)
    return View(unit, index, tokens, mentions, scopes)


def _near(tokens: list[Token], first: int, last: int, words: frozenset[str], reach: int = 3) -> bool:
    around = tokens[max(0, first - reach):first] + tokens[last:last + reach]
    return any(tok.word in words for tok in around)


def _kinetics_in_context(phrases: list[Mention], tokens: list[Token], source: str) -> list[Mention]:
    """Drop speed words and "persistent" that are not about the enhancement curve.

    "Rapid" is an initial phase only beside words like "initial", "uptake" or a delayed
    descriptor ("rapid/washout" names both phases); "rapid washout" is a delayed phase alone. "Persistent
    non-mass enhancement" after chemotherapy means still there, not a type 1 curve.
    """
    delayed_starts = {m.first for m in phrases if m.kind in (t.KIN_DELAYED, t.CURVE)}
    initial_ends = {m.last for m in phrases if m.kind == t.KIN_INITIAL}
    unit_words = {tok.word for tok in tokens}
    kept = []
    for m in phrases:
        if m.kind == t.KIN_INITIAL:
            beside_delayed = any(m.last <= s <= m.last + 3 for s in delayed_starts)
            if _washout_follows(tokens, m.last, source) or not (
                    beside_delayed or _near(tokens, m.first, m.last, t.KINETIC_CONTEXT)):
                continue
        elif m.kind == t.KIN_DELAYED and m.value == t.KD.PERSISTENT:
            after_initial = any(m.first - 3 <= e <= m.first for e in initial_ends)
            if not (after_initial or _near(tokens, m.first, m.last, t.KINETIC_CONTEXT, reach=2)):
                continue
        elif m.kind == t.CURVE and not unit_words & _CURVE_CONTEXT:
            continue
        kept.append(m)
    return kept


def _washout_follows(tokens: list[Token], i: int, source: str) -> bool:
    words = [tok.word for tok in tokens[i:i + 2]]
    slash = i < len(tokens) and "/" in source[tokens[i - 1].end:tokens[i].start]
    return not slash and (words[:1] == ["washout"] or words == ["wash", "out"])


_CURVE_CONTEXT = frozenset({"curve", "kinetic", "kinetics", "washout", "plateau", "persistent",
                            "enhancement"})
