"""The coordinators' daily digest: one email per coordinator per day, never per patient.

Each transition the sweep records (`Transition`: newly due, newly overdue, newly lost to
follow-up) reaches each coordinator of its site exactly once: a digest claims the
transitions no digest of its coordinator has claimed (`TransitionDelivery`, unique per
transition and coordinator), whenever the sweep wrote them — a sweep run after the day's
digest is reported the next day. The `Digest` row for (coordinator, day) is claimed
(created under a unique constraint) before anything is sent, so a second beat on the same
day sends nothing.
"""

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from alerts.notifications.email import send_email
from core.roles import COORDINATOR
from patients.models import Site

from ..models import Digest, ScheduledItem, Transition, TransitionDelivery
from .sweep import CATCH_UP_DAYS

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=30)
TRANSITIONS = ("due", "overdue", "lost")  # `Transition.Kind`, in the digest's order


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
    users = list(get_user_model().objects.filter(groups__name=COORDINATOR, is_active=True).distinct())
    sites_of: dict[int, set[int]] = defaultdict(set)
    memberships = Site.members.through.objects.filter(user_id__in=[u.id for u in users])
    for uid, sid in memberships.values_list("user_id", "site_id"):
        sites_of[uid].add(sid)
    counts: dict[str, int] = defaultdict(int)
    for user in users:
        status = digest_send_one(user=user, as_of=as_of, site_ids=sites_of[user.id])
        counts[status or "skipped"] += 1
    return dict(counts)


def _claim_transitions(digest: Digest, site_ids: set[int], as_of: date) -> None:
    """Attach to `digest` every transition at these sites that no digest of its coordinator
    has claimed yet — whenever the sweep wrote it, before or after the day's digest — and
    those of the coordinator's earlier digests that failed for good (another day's).

    The claim is the `TransitionDelivery` row: unique per (transition, coordinator), so
    of two runs that race for the same transition one inserts it and the other skips it
    (ON CONFLICT DO NOTHING); the digest reads back only the rows it holds. Transitions
    older than the catch-up window (a coordinator's first digest, a long absence) are left.
    """
    TransitionDelivery.objects.filter(user_id=digest.user_id, digest__status=Digest.Status.FAILED,
                                      digest__date__lt=digest.date).update(digest=digest)
    if not site_ids:
        return
    floor = as_of - timedelta(days=CATCH_UP_DAYS)
    mine = TransitionDelivery.objects.filter(transition=OuterRef("pk"), user_id=digest.user_id)
    unclaimed = (Transition.objects.filter(site_id__in=site_ids, on__gte=floor, on__lte=as_of)
                 .filter(~Exists(mine)).order_by("id").values_list("id", flat=True))
    TransitionDelivery.objects.bulk_create(
        [TransitionDelivery(transition_id=tid, user_id=digest.user_id, digest=digest) for tid in unclaimed],
        batch_size=1000, ignore_conflicts=True)


def _rows(digest: Digest) -> list[dict]:
    """The transitions `digest` holds, with their items and patients, in one query."""
    return list(Transition.objects.filter(deliveries__digest=digest)  # type: ignore[arg-type]  # dict rows
                .order_by("item__due_date", "item_id", "id")
                .values("kind", "on", "item__uuid", "item__kind", "item__laterality", "item__due_date",
                        "item__patient__uuid", "item__patient__given_name", "item__patient__family_name",
                        "item__patient__mrn", "site__name"))


def _content(rows: list[dict]) -> dict[str, list[dict]]:
    kinds = dict(ScheduledItem.Kind.choices)
    content: dict[str, list[dict]] = {name: [] for name in TRANSITIONS}
    for r in rows:
        content[r["kind"]].append(asdict(DigestRow(
            item_uuid=str(r["item__uuid"]), patient_uuid=str(r["item__patient__uuid"]),
            patient_ref=patient_ref(r["item__patient__given_name"], r["item__patient__family_name"],
                                    r["item__patient__mrn"]),
            site=r["site__name"], kind=kinds[r["item__kind"]], laterality=r["item__laterality"],
            due_date=r["item__due_date"].isoformat())))
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


def digest_send_one(*, user, as_of: date, site_ids: set[int]) -> str | None:
    """Claim the digest, claim its transitions, send; returns its final status (None: not ours)."""
    digest = _claim(user.id, as_of, as_of)
    if digest is None:
        return None
    _claim_transitions(digest, site_ids, as_of)
    rows = _rows(digest)
    digest.period_start = min((r["on"] for r in rows), default=as_of)
    content = _content(rows)
    digest.content = content
    digest.newly_due, digest.newly_overdue, digest.newly_lost = (len(content[n]) for n in TRANSITIONS)
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
    by_site: dict[str, dict[str, list[dict]]] = defaultdict(lambda: {n: [] for n in TRANSITIONS})
    for name in TRANSITIONS:
        for row in digest.content[name]:
            by_site[row["site"]][name].append(row)
    return {
        "user": user, "digest": digest, "sites": sorted(by_site.items()),
        "worklist_url": settings.SITE_URL.rstrip("/") + reverse("worklist"),
        "site_url": settings.SITE_URL.rstrip("/"),
    }
