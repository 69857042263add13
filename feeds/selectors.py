"""Reads for the feed's pages: the reconciliation queue and the message log, site-scoped."""

from dataclasses import dataclass, field
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from core.permissions import is_site_admin
from patients.access import sites_for
from patients.models import Patient

from .models import Message
from .parsing import FeedError, Reader, decode, parse, parse_date, read_header
from .services.common import Identity

MAX_CANDIDATES = 5


def messages_for(user: AbstractBaseUser) -> QuerySet[Message]:
    """Messages of the user's sites; administrators also see those no site was found for
    (an unknown facility, a message that could not be read)."""
    scope = Q(site__in=sites_for(user))
    if is_site_admin(user):
        scope |= Q(site__isnull=True)
    return Message.objects.filter(scope)


def get_message_for_user(user: AbstractBaseUser, uuid: UUID | str) -> Message:
    """The message if the user may see it, else 404 (never 403), as for patients."""
    try:
        return (messages_for(user).select_related("site", "patient", "study", "resolved_by")
                .get(uuid=uuid))
    except (Message.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such message.") from exc


def pid_of(message: Message) -> Identity | None:
    """The patient as the message names her (PID), for staff to compare; None if unreadable."""
    raw = bytes(message.raw)
    try:
        reader = Reader(parse(decode(raw, read_header(raw))[0]))
    except FeedError:
        return None
    return Identity(mrn=message.mrn or reader.value("PID", 3), family_name=reader.value("PID", 5, 1, 1),
                    given_name=reader.value("PID", 5, 1, 2),
                    date_of_birth=parse_date(reader.value("PID", 7)))


@dataclass
class QueueRow:
    message: Message
    who: Identity | None
    candidates: list[Patient] = field(default_factory=list)


def queue_for(user: AbstractBaseUser, *, limit: int = 50) -> tuple[list[QueueRow], int]:
    """Held messages, oldest first, with the patients of their site that could be the one
    (same date of birth or family name); and the number held in all. Three queries."""
    held = messages_for(user).filter(status=Message.Status.HELD).select_related("site", "patient")
    total = held.count()
    rows = [QueueRow(message=m, who=pid_of(m)) for m in held.order_by("received_at", "id")[:limit]]
    dobs = {r.who.date_of_birth for r in rows if r.who and r.who.date_of_birth}
    names = {r.who.family_name.lower() for r in rows if r.who and r.who.family_name}
    site_ids = {r.message.site_id for r in rows}
    if rows and (dobs or names):
        found = list(Patient.objects.filter(site_id__in=site_ids).annotate(family=Lower("family_name"))
                     .filter(Q(date_of_birth__in=dobs) | Q(family__in=names))
                     .order_by("family_name", "given_name")[:500])
        for row in rows:
            if row.who is None:
                continue
            row.candidates = sorted(
                (p for p in found if p.site_id == row.message.site_id
                 and (p.date_of_birth == row.who.date_of_birth or p.family == row.who.family_name.lower())),
                key=lambda p: (p.date_of_birth != row.who.date_of_birth, p.family_name))[:MAX_CANDIDATES]
    return rows, total
