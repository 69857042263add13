"""Typo tolerance: a word the lexicon does not know is read as the lexicon word it nearly is.

Dictated and typed reports misspell long words ("pleomorhpic", "calcifcations",
"enhancmeent"). The tolerance grows with the word (one edit from 6 letters, two from 10),
short words may only swap neighbours ("rigth"), and the first letter must match: typists
rarely get it wrong, and it keeps most real words away from lexicon words. Real words
that are still one edit from a lexicon word ("course" and "coarse") are listed as PROTECTED.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

# Real words within reach of a lexicon word: "course" is not "coarse", "progression" is not
# the kinetic "progressive", a "sutured" incision is no suture calcification.
PROTECTED = frozenset({"course", "progression", "progressing", "persisting", "sutured", "region", "grouper"})


def max_edits(length: int) -> int:
    """How many edits a word of this length may carry and still be recognised."""
    if length >= 10:
        return 2
    if length >= 6:
        return 1
    return 0  # short words: adjacent transposition only (checked separately)


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein without reuse), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _is_transposition(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


class Corrector:
    """Maps a lower-case word to the known word it is a typo of, or to itself."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.vocabulary = frozenset(vocabulary)
        self._by_initial: dict[str, list[str]] = {}
        for word in sorted(self.vocabulary):
            self._by_initial.setdefault(word[0], []).append(word)
        self.correct = lru_cache(maxsize=8192)(self._correct)

    def _correct(self, word: str) -> str:
        if word in self.vocabulary or word in PROTECTED or len(word) < 4 or not word.isalpha():
            return word
        best, best_distance = word, None
        for known in self._by_initial.get(word[0], ()):
            distance = self._distance(word, known)
            if distance is not None and (best_distance is None or distance < best_distance):
                best, best_distance = known, distance
        return best

    @staticmethod
    def _distance(word: str, known: str) -> int | None:
        limit = min(max_edits(len(word)), max_edits(len(known)))
        if limit == 0:
            return 1 if len(known) >= 4 and _is_transposition(word, known) else None
        distance = osa_distance(word, known, limit)
        return distance if distance <= limit else None
