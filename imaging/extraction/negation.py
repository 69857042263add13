"""NegEx-style negation: a trigger negates the phrases in its scope.

A pre-trigger ("no", "without", "negative for") reaches forward, a post-trigger ("not seen",
"absent", "none") back, until a terminator word ("but", "however", "which", "there are"),
a sentence or clause stop (". ; ( )") or, going forward, a colon. Commas do not end a scope:
"no mass, calcification or distortion" negates all three. Phrases that contain a negation
word but negate nothing ("no longer seen", "no change", "not significantly changed") are
lexicon phrases matched before the triggers, so their "no" never triggers.

One radiology idiom is read as a change instead: "the previously seen calcifications are
not seen" means they are no longer seen, so a post-trigger whose scope holds a
"previously" word becomes the change code no_longer_seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import terms as t
from .lexicon import Mention, Token

_HARD_STOP = re.compile(r"[.;()!?]")
_FORWARD_STOP = re.compile(r"[.;()!?:]")
_PREVIOUS_CUES = frozenset({"previously", "previous", "prior", "known"})
_TRIGGERS = frozenset({t.NEG_PRE, t.NEG_POST, t.TERM, t.PSEUDO})


@dataclass(frozen=True, slots=True)
class Scope:
    trigger: Mention
    first: int  # token indices, last exclusive
    last: int

    def covers(self, mention: Mention) -> bool:
        return self.first <= mention.first < self.last


def _stops(tokens: list[Token], source: str, pattern: re.Pattern[str]) -> list[bool]:
    """stops[i]: the text between tokens i-1 and i ends a scope."""
    return [False] + [bool(pattern.search(source, tokens[i - 1].end, tokens[i].start))
                      for i in range(1, len(tokens))]


def find_scopes(tokens: list[Token], mentions: list[Mention], source: str) -> list[Scope]:
    terminators = {m.first for m in mentions if m.kind == t.TERM}
    forward_stops = _stops(tokens, source, _FORWARD_STOP)
    backward_stops = _stops(tokens, source, _HARD_STOP)
    scopes = []
    for trigger in mentions:
        if trigger.kind == t.NEG_PRE:
            last = trigger.last
            while last < len(tokens) and not forward_stops[last] and last not in terminators:
                last += 1
            scopes.append(Scope(trigger, trigger.last, last))
        elif trigger.kind == t.NEG_POST:
            first = trigger.first
            while first > 0 and not backward_stops[first] and (first - 1) not in terminators:
                first -= 1
            scopes.append(Scope(trigger, first, trigger.first))
    return scopes


def apply(tokens: list[Token], mentions: list[Mention], source: str) -> tuple[list[Mention], list[Scope]]:
    """The mentions with `negated` set, and the scopes that negate something."""
    kept, changes = [], []
    for scope in find_scopes(tokens, mentions, source):
        if _means_no_longer_seen(scope, tokens):
            changes.append(replace(scope.trigger, kind=t.CHANGE, value=t.C.NO_LONGER_SEEN.value))
        else:
            kept.append(scope)
    converted = {change.start for change in changes}
    marked = []
    for mention in mentions:
        if mention.kind == t.NEG_POST and mention.start in converted:
            continue
        if mention.kind not in _TRIGGERS and any(scope.covers(mention) for scope in kept):
            mention = replace(mention, negated=True)
        marked.append(mention)
    return sorted(marked + changes, key=lambda m: m.start), kept



def _means_no_longer_seen(scope: Scope, tokens: list[Token]) -> bool:
    """"The previously seen calcifications are not seen": gone, not absent."""
    if scope.trigger.kind != t.NEG_POST or tokens[scope.trigger.first].word != "not":
        return False
    return any(tokens[i].word in _PREVIOUS_CUES for i in range(scope.first, scope.last))
