"""The coordinators' daily digest: one email per coordinator per day, never per patient.

Each transition the sweep stamped (newly due, newly overdue, newly lost to follow-up) is
reported once: a coordinator's digest covers the days since their previous one. The
`Digest` row for (coordinator, day) is claimed (created under a unique constraint) before
anything is sent, so a second beat on the same day sends nothing.
"""

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from alerts.notifications.email import send_email
from core.roles import COORDINATOR
from patients.models import Site

from ..models import Digest, ScheduledItem
from .sweep import CATCH_UP_DAYS

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=30)
TRANSITIONS = (("due", "became_due_on"), ("overdue", "became_overdue_on"), ("lost", "lost_on"))


@dataclass(frozen=True)
class DigestRow:
    item_uuid: str
    patient_uuid: str
    patient_ref: str  # initials and MRN: enough for clinic staff, nothing more
    site: str
    kind: str
    laterality: str
    due_date: str


def patient_ref(given_name: str, family_name: str, mrn: str) -> str:
    initials = "".join(f"{n[:1].upper()}." for n in (given_name, family_name) if n)
    return f"{initials} {mrn}".strip()


def digests_send(*, as_of: date | None = None) -> dict[str, int]:
    """Build, claim and send today's digest of every coordinator. Returns counts by status."""
    return _send_all(as_of or timezone.localdate())


def _send_all(as_of: date) -> dict[str, int]:
    floor = as_of - timedelta(days=CATCH_UP_DAYS)
    users = list(get_user_model().objects.filter(groups__name=COORDINATOR, is_active=True).distinct())
    user_ids = [u.id for u in users]
    sites_of: dict[int, set[int]] = defaultdict(set)
    memberships = Site.members.through.objects.filter(user_id__in=user_ids)
    for uid, sid in memberships.values_list("user_id", "site_id"):
        sites_of[uid].add(sid)
    last = dict(Digest.objects.filter(user_id__in=user_ids, date__lt=as_of).values("user_id")
                .annotate(last=Max("date")).values_list("user_id", "last"))
    # Since the day after the previous digest; a first digest covers the last CATCH_UP_DAYS.
    starts = {uid: max(floor, last[uid] + timedelta(days=1)) if uid in last else floor for uid in user_ids}
    rows = _transitions(min(starts.values(), default=as_of), as_of, set().union(*sites_of.values()))
    counts: dict[str, int] = defaultdict(int)
    for user in users:
        status = digest_send_one(user=user, as_of=as_of, period_start=starts[user.id],
                                 rows=[r for r in rows if r["patient__site_id"] in sites_of[user.id]])
        counts[status or "skipped"] += 1
    return dict(counts)


def _transitions(start: date, end: date, site_ids: set[int]) -> list[dict]:
    """Every item with a transition stamped in [start, end] at these sites, in one query."""
    if not site_ids:
        return []
    window = Q()
    for _, stamp in TRANSITIONS:
        window |= Q(**{f"{stamp}__gte": start, f"{stamp}__lte": end})
    items = ScheduledItem.objects.filter(window, patient__site_id__in=site_ids).order_by("due_date", "id")
    return list(items.values(  # type: ignore[arg-type]  # TypedDict rows, read as dicts
        "uuid", "kind", "laterality", "due_date", "became_due_on", "became_overdue_on", "lost_on",
        "patient__uuid", "patient__given_name", "patient__family_name", "patient__mrn",
        "patient__site_id", "patient__site__name"))


def _content(rows: list[dict], start: date, end: date) -> dict[str, list[dict]]:
    kinds = dict(ScheduledItem.Kind.choices)
    content: dict[str, list[dict]] = {name: [] for name, _ in TRANSITIONS}
    for r in rows:
        row = asdict(DigestRow(
            item_uuid=str(r["uuid"]), patient_uuid=str(r["patient__uuid"]),
            patient_ref=patient_ref(r["patient__given_name"], r["patient__family_name"], r["patient__mrn"]),
            site=r["patient__site__name"], kind=kinds[r["kind"]], laterality=r["laterality"],
            due_date=r["due_date"].isoformat()))
        for name, stamp in TRANSITIONS:
            if r[stamp] is not None and start <= r[stamp] <= end:
                content[name].append(row)
    return content


def _claim(user_id: int, as_of: date, period_start: date) -> Digest | None:
    """The digest row for (user, day) if this run may send it; None if another run has.

    A row left `failed`, or `sending` for longer than STALE_CLAIM (its worker died
    mid-send and the task was redelivered), may be claimed again, by one run only.
    """
    try:
        with transaction.atomic():
            return Digest.objects.create(user_id=user_id, date=as_of, period_start=period_start)
    except IntegrityError:
        now = timezone.now()
        retry = Q(status=Digest.Status.FAILED) | Q(status=Digest.Status.SENDING,
                                                   claimed_at__lt=now - STALE_CLAIM)
        row = Digest.objects.filter(retry, user_id=user_id, date=as_of).first()
        if row and Digest.objects.filter(retry, id=row.id).update(status=Digest.Status.SENDING,
                                                                  claimed_at=now) == 1:
            row.status, row.claimed_at = Digest.Status.SENDING, now
            return row
        return None


def digest_send_one(*, user, as_of: date, period_start: date, rows: list[dict]) -> str | None:
    """Claim, fill and send one coordinator's digest; returns its final status (None: not ours)."""
    digest = _claim(user.id, as_of, period_start)
    if digest is None:
        return None
    content = _content(rows, digest.period_start, as_of)
    digest.content = content
    digest.newly_due, digest.newly_overdue, digest.newly_lost = (len(content[n]) for n, _ in TRANSITIONS)
    if digest.total == 0:
        digest.status = Digest.Status.EMPTY
    elif not user.email:
        digest.status = Digest.Status.IN_APP
    else:
        try:
            send_email("digest", _email_context(user, digest), [user.email])
        except Exception as exc:  # recorded on the row; a later beat the same day retries it
            log.warning("digest %s could not be sent: %s", digest.id, type(exc).__name__)
            digest.status, digest.error = Digest.Status.FAILED, f"{type(exc).__name__}: {exc}"[:300]
        else:
            digest.status, digest.sent_at, digest.error = Digest.Status.SENT, timezone.now(), ""
    digest.save()
    return digest.status


def _email_context(user, digest: Digest) -> dict:
    by_site: dict[str, dict[str, list[dict]]] = defaultdict(lambda: {n: [] for n, _ in TRANSITIONS})
    for name, _ in TRANSITIONS:
        for row in digest.content[name]:
            by_site[row["site"]][name].append(row)
    return {
        "user": user, "digest": digest, "sites": sorted(by_site.items()),
        "worklist_url": settings.SITE_URL.rstrip("/") + reverse("worklist"),
        "site_url": settings.SITE_URL.rstrip("/"),
    }
