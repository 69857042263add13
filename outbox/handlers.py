"""Which function handles which kind of event.

Consumer apps register their handlers when Django starts (their `AppConfig.ready` imports
their `handlers` module):

    @handles(Event.Kind.STUDY_FINALIZED, Event.Kind.STUDY_AMENDED)
    def evaluate(event: Event) -> None: ...

Handlers must be idempotent: an event whose processing failed half-way runs every
handler again on retry.
"""

from collections import defaultdict
from collections.abc import Callable

from .models import Event

Handler = Callable[[Event], None]

_registry: dict[str, list[Handler]] = defaultdict(list)


def handles(*kinds: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for kind in kinds:
            if func not in _registry[kind]:
                _registry[kind].append(func)
        return func
    return register


def handlers_for(kind: str) -> list[Handler]:
    return list(_registry.get(kind, ()))
