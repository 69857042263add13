"""Calendar feed tokens (a secret shown once; only its hash is stored) and the feed itself."""

import hashlib
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .. import ical
from ..models import CalendarToken, ScheduledItem
from ..selectors import feed_items

FEED_AHEAD_DAYS = 90


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def calendar_token_create(*, user: User) -> str:
    """A new secret for the user's feed; any older one is revoked. Returns the raw token."""
    calendar_token_revoke(user=user)
    raw = secrets.token_urlsafe(32)
    CalendarToken.objects.create(user=user, token_hash=_hash(raw), hint=raw[:6])
    return raw


def calendar_token_revoke(*, user: User) -> int:
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def active_token(*, user: User) -> CalendarToken | None:
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).first()


def user_for_token(raw: str):
    """The active user whose live token this is, else None (unknown or revoked)."""
    token = (CalendarToken.objects.select_related("user")
             .filter(token_hash=_hash(raw), revoked_at__isnull=True, user__is_active=True).first())
    if token is None:
        return None
    CalendarToken.objects.filter(id=token.id).update(last_used_at=timezone.now())
    return token.user


def feed_events(*, user: User, as_of: date) -> list[ical.CalendarEvent]:
    """Due, overdue and soon-due items of the user's sites. No names, MRN or birth dates:
    calendars sync to phones, so a patient is a short reference only."""
    kinds = dict(ScheduledItem.Kind.choices)
    base = settings.SITE_URL.rstrip("/")
    events = []
    for item in feed_items(user=user, as_of=as_of, until=as_of + timedelta(days=FEED_AHEAD_DAYS)):
        side = f" ({item.laterality})" if item.laterality else ""
        state = item.state(as_of)
        events.append(ical.CalendarEvent(
            uid=f"{item.uuid}@breast-surveillance-tracker", day=item.due_date,
            summary=f"{kinds[item.kind]}{side} {state} — patient ref {str(item.patient.uuid)[:8]}",
            description="Open the worklist in the tracker for details.",
            url=base + reverse("worklist-item", kwargs={"uuid": item.uuid})))
    return events
