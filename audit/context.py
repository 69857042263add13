"""Who is acting, for the audit trail: set per request by the middleware."""

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class AuditContext:
    request: object | None = None  # the user is read at record time (DRF sets it late)
    ip: str | None = None
    path: str = ""
    viewed_patients: dict[int, str] = field(default_factory=dict)  # id -> uuid
    search: str = ""  # words searched for that the URL does not carry (the patient list's)

    @property
    def user(self):
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


current: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)


def get() -> AuditContext:
    return current.get() or AuditContext()


def note_patient_viewed(patient) -> None:
    """Called by the one patient-fetch helper: the middleware records the view."""
    ctx = current.get()
    if ctx is not None:
        ctx.viewed_patients[patient.id] = str(patient.uuid)


def note_search(words: str) -> None:
    """A list page searched for `words` (kept out of its URL): the list event records them."""
    ctx = current.get()
    if ctx is not None:
        ctx.search = words
