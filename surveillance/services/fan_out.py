"""A sweep with many plans to write (the first sweep after an import), spread over the workers.

A first sweep writes every plan of the cohort: at 100,000 patients that is minutes of one
worker, at a million about an hour. When more than `FAN_OUT_MIN_CHUNKS` chunks of plans are
missing or stale, the daily task does not write them itself:

1. `plans_fan_out` records the chunks (`PlanChunk`: the patients' row ids, so a task
   carries only the chunk's id) and the task sends one `generate_plan_chunk` per chunk.
   Every worker of every machine takes chunks.
2. `plan_chunk_run` writes one chunk's plans (`plans_generate`, which also matches the
   patients' studies and visits) and marks the chunk done in the same transaction. The
   chunk's row is locked while it runs, so a second delivery of the same task (a worker
   killed after the commit, a chunk sent again) waits and then finds it done.
3. The chunk that finds every chunk done claims the rest of the sweep (`continued_at`, one
   UPDATE that only one of them can win): transitions, biopsies, completion and the
   digests, for the whole cohort, as on any day.

Nothing waits forever: if a chunk's task is lost (Redis lost its queue), the next beat
sends the unfinished chunks again and runs the day's sweep without waiting, leaving those
patients' plans to their chunks. A chunk that fails is done too (logged); the next sweep
finds its plans still stale and writes them itself, as it does after any failed chunk.
"""

import logging
from dataclasses import dataclass, field
from datetime import date

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
    """What the daily task does with its plans: send these chunks; `new` when they were
    just recorded (the last of them continues the sweep, so the task stops here);
    `waiting` holds the patients of an earlier fan-out's unfinished chunks (the day's
    sweep goes on without them)."""

    chunk_ids: list[int] = field(default_factory=list)
    new: bool = False
    waiting: set[int] = field(default_factory=set)


def plans_fan_out(*, as_of: date) -> FanOut:
    """Decide how the day's sweep writes its plans.

    An earlier fan-out still unfinished: its undone chunks are sent again and the sweep
    goes on without their patients. Otherwise, more than `FAN_OUT_MIN_CHUNKS` chunks of missing or
    stale plans: a new fan-out. Otherwise nothing: the sweep writes its plans itself."""
    unfinished = list(PlanFanOut.objects.filter(continued_at__isnull=True))
    if unfinished:
        undone = list(PlanChunk.objects.filter(fan_out__in=unfinished, done_at__isnull=True)
                      .values_list("id", "patient_ids"))
        # Today's sweep does the rest for every fan-out found, finished or not.
        PlanFanOut.objects.filter(id__in=[f.id for f in unfinished]).update(continued_at=timezone.now())
        if undone:
            log.warning("a fanned-out sweep left %d chunks undone: sent again", len(undone))
            return FanOut(chunk_ids=[cid for cid, _ in undone],
                          waiting={pid for _, ids in undone for pid in ids})
    ids = stale_plan_patient_ids()
    chunk = FAN_OUT_CHUNK
    if len(ids) <= FAN_OUT_MIN_CHUNKS * chunk:
        return FanOut()
    with transaction.atomic():
        fan = PlanFanOut.objects.create(as_of=as_of)
        chunks = PlanChunk.objects.bulk_create([PlanChunk(fan_out=fan, patient_ids=ids[start:start + chunk])
                                                for start in range(0, len(ids), chunk)])
    log.info("sweep for %s: %d plans to write, in %d chunks for the workers", as_of, len(ids), len(chunks))
    return FanOut(chunk_ids=[c.id for c in chunks], new=True)


def plan_chunk_run(chunk_id: int) -> date | None:
    """Write one chunk's plans. Returns the day whose sweep the caller must now continue
    when this chunk was the last one left (only one caller ever gets it), else None."""
    with transaction.atomic():
        chunk = PlanChunk.objects.select_for_update().select_related("fan_out").filter(id=chunk_id).first()
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
    return fan.as_of if unclaimed.update(continued_at=timezone.now()) else None
