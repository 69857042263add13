"""Many plans to write (the first sweep after an import, a protocol change), spread over the workers.

A first sweep writes every plan of the cohort: at 100,000 patients that is minutes of one
worker, at a million about an hour; a change of the default protocol rewrites as many. When
more than `FAN_OUT_MIN_CHUNKS` chunks of plans are missing or stale, the daily task (and
the protocol change's `refresh_stale_plans`) does not write them itself:

1. `plans_fan_out` records the chunks (`PlanChunk`: the patients' row ids, so a task
   carries only the chunk's id) and the task sends one `generate_plan_chunk` per chunk.
   Every worker of every machine takes chunks.
2. `plan_chunk_run` writes one chunk's plans (`plans_generate`, which also matches the
   patients' studies and visits) and marks the chunk done in the same transaction. The
   chunk's row is locked while it runs, so a second delivery of the same task (a worker
   killed after the commit, a chunk sent again) waits and then finds it done.
3. The chunk that finds every chunk done claims the rest of the sweep (`continued_at`, one
   UPDATE that only one of them can win): transitions, biopsies, completion and the
   digests, for the whole cohort, as on any day. After a protocol change there is no
   sweep to continue (`sweep_after` false): the next daily sweep runs as usual.

Beat firing twice finds the day's chunks under way and does nothing. Nothing waits
forever: if a chunk's task is lost (Redis lost its queue), the next day's beat sends the
unfinished chunks again and runs the day's sweep without waiting, leaving those
patients' plans to their chunks. A chunk that fails is done too (logged); the next sweep
finds its plans still stale and writes them itself, as it does after any failed chunk.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from ..models import PlanChunk, PlanFanOut
from .plans import CHUNK, plans_generate, stale_plan_patient_ids

log = logging.getLogger(__name__)

# Up to this many chunks (10,000 patients) a sweep writes its plans itself: ~30 s on one
# worker at 100,000 patients (docs/performance.md), not worth the round trip.
FAN_OUT_MIN_CHUNKS = 20
FAN_OUT_CHUNK = CHUNK  # patients a chunk


@dataclass(slots=True)
class FanOut:
    """What the caller does with the plans: send these chunks; `new` when a fan-out was
    just recorded (its chunks write the plans, and for the daily sweep the last of them
    continues the sweep, so the task stops there); `waiting` holds the patients of earlier
    chunks not done yet (the caller leaves their plans alone)."""

    chunk_ids: list[int] = field(default_factory=list)
    new: bool = False
    waiting: set[int] = field(default_factory=set)
    pending: int = 0  # chunks left of the same day's fan-out: its sweep is under way
    stale: list[int] | None = None  # no new fan-out: the missing or stale plans, for the caller


def plans_fan_out(*, as_of: date, sweep_after: bool = True) -> FanOut:
    """Decide how the plans are written: by the caller (nothing to send), or by the workers.

    For the daily sweep (`sweep_after`): if the same day's sweep already fanned out and
    chunks are left (beat fired twice), nothing is done (`pending`). Otherwise chunks of
    earlier fan-outs not done yet are sent again (a task lost with Redis's queue; one still
    queued finds its chunk done and does nothing) and their patients are `waiting`: nobody
    else writes their plans meanwhile. The daily sweep takes those fan-outs over: it does
    the rest, now.
    Then, more than `FAN_OUT_MIN_CHUNKS` chunks of other missing or stale plans: a new
    fan-out, which the caller sends (`new`)."""
    if sweep_after:
        today = PlanFanOut.objects.filter(continued_at__isnull=True, sweep_after=True, as_of=as_of)
        pending = PlanChunk.objects.filter(fan_out__in=today, done_at__isnull=True).count()
        if pending:  # beat fired twice: the day's sweep is under way, its last chunk continues it
            return FanOut(pending=pending)
        PlanFanOut.objects.filter(continued_at__isnull=True).update(continued_at=timezone.now())
    undone = list(PlanChunk.objects.filter(done_at__isnull=True).values_list("id", "patient_ids"))
    if undone:
        log.warning("%d chunks of plans were not done yet: sent again", len(undone))
    resend = [chunk_id for chunk_id, _ in undone]
    waiting = {pid for _, ids in undone for pid in ids}
    ids = [pid for pid in stale_plan_patient_ids() if pid not in waiting]
    chunk = FAN_OUT_CHUNK
    if len(ids) <= FAN_OUT_MIN_CHUNKS * chunk:
        return FanOut(chunk_ids=resend, waiting=waiting, stale=ids)
    with transaction.atomic():
        fan = PlanFanOut.objects.create(as_of=as_of, sweep_after=sweep_after)
        chunks = PlanChunk.objects.bulk_create([PlanChunk(fan_out=fan, patient_ids=ids[start:start + chunk])
                                                for start in range(0, len(ids), chunk)])
    log.info("%d plans to write for %s, in %d chunks for the workers", len(ids), as_of, len(chunks))
    return FanOut(chunk_ids=resend + [c.id for c in chunks], new=True, waiting=waiting)


def waiting_patients() -> set[int]:
    """The patients of the chunks not done yet: their plans are being written by workers."""
    undone = PlanChunk.objects.filter(done_at__isnull=True).values_list("patient_ids", flat=True)
    return {pid for ids in undone for pid in ids}


def matched_by_chunks(*, since: datetime | None) -> set[int]:
    """The patients of the chunks written since `since` (all, with None): their plans were
    matched with their studies and visits as they were written, so the sweep's matching
    catch-up leaves them out (at a million patients it would match them all again)."""
    done = PlanChunk.objects.filter(done_at__isnull=False, failed=False)
    if since is not None:
        done = done.filter(done_at__gte=since)
    return {pid for ids in done.values_list("patient_ids", flat=True) for pid in ids}


def locked_chunk(chunk_id: int) -> PlanChunk | None:
    """The chunk with its fan-out, its row locked until the transaction ends."""
    return (PlanChunk.objects.select_for_update(of=("self",)).select_related("fan_out")
            .filter(id=chunk_id).first())


def plan_chunk_run(chunk_id: int) -> date | None:
    """Write one chunk's plans. Returns the day whose sweep the caller must now continue
    when this chunk was the last one left (only one caller ever gets it), else None."""
    with transaction.atomic():
        # The chunk's row only (`of`): locking its fan-out's row too, as a plain
        # select_for_update with select_related does, made every chunk wait for the one
        # running, whatever the number of workers.
        chunk = locked_chunk(chunk_id)
        if chunk is None:  # the fan-out was deleted (an admin cleaning up): nothing to do
            return None
        fan = chunk.fan_out
        if chunk.done_at is None:
            try:
                with transaction.atomic():
                    plans_generate(chunk.patient_ids, today=fan.as_of)
            except Exception:  # one bad chunk must not stop the sweep
                log.exception("plan generation failed for chunk #%s (%d patients)", chunk.id,
                              len(chunk.patient_ids))
                chunk.failed = True
            chunk.done_at = timezone.now()
            chunk.save(update_fields=["done_at", "failed"])
    if PlanChunk.objects.filter(fan_out=fan, done_at__isnull=True).exists():
        return None
    unclaimed = PlanFanOut.objects.filter(id=fan.id, continued_at__isnull=True)
    claimed = unclaimed.update(continued_at=timezone.now())
    return fan.as_of if claimed and fan.sweep_after else None
