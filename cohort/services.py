"""Writes of the cohort app: the daily adherence snapshot."""

from datetime import date

from django.db import transaction
from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, Q, Value, When
from django.db.models.functions import Coalesce

from surveillance.models import ScheduledItem

from .models import AdherenceCount, AdherenceSnapshot
from .quality import FOLLOW_UP_YEARS, YEAR

BATCH = 5000


@transaction.atomic
def adherence_rebuild(*, as_of: date) -> AdherenceSnapshot:
    """Count the scheduled exams whose window closed before `as_of`, per site, subtype, due
    date and year of follow-up (cancelled ones left out), replacing the previous snapshot.

    One grouped query over the items; year *k* holds the exams due between *k* − 1 and *k*
    years (of 365.25 days) after the plan's surgery date, year 11 anything later.
    """
    followed = ExpressionWrapper(F("due_date") - F("patient__surveillance_plan__surgery_date"),
                                 output_field=DurationField())
    year = Case(*(When(followed__lt=YEAR * k, then=Value(k)) for k in FOLLOW_UP_YEARS),
                default=Value(len(FOLLOW_UP_YEARS) + 1))
    in_window = Q(status=ScheduledItem.Status.DONE, done_on__gte=F("window_start"),
                  done_on__lte=F("window_end"))
    rows = (ScheduledItem.objects.filter(window_end__lt=as_of, patient__surveillance_plan__isnull=False)
            .exclude(status=ScheduledItem.Status.CANCELLED)
            .annotate(followed=followed)
            .values(site_id=F("patient__site_id"),
                    subtype_=Coalesce(F("patient__tumour__subtype"), Value("")), due=F("due_date"), year=year)
            .annotate(closed=Count("id"), done=Count("id", filter=in_window))
            .order_by())
    AdherenceSnapshot.objects.all().delete()
    snapshot = AdherenceSnapshot.objects.create(as_of=as_of)
    counts = [AdherenceCount(snapshot=snapshot, site_id=r["site_id"], subtype=r["subtype_"],
                             due_date=r["due"], follow_up_year=r["year"], closed=r["closed"], done=r["done"])
              for r in rows]
    AdherenceCount.objects.bulk_create(counts, batch_size=BATCH)
    snapshot.rows = len(counts)
    snapshot.save(update_fields=["rows"])
    return snapshot
