"""Reads for the worklist, the calendar feed, the patient's plan and the dashboard."""

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Case, Count, Exists, Min, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone

from core.formatting import day_month_year
from core.permissions import WORKLIST_WORKER_ROLES
from imaging.models import ImagingStudy
from imaging.vocabulary import Modality
from patients.access import sites_for
from patients.models import Patient
from patients.vocabulary import FollowUpStatus, Laterality

from .models import BiopsyFollowUp, ContactLog, Digest, PatientPlan, ScheduledItem

WORKLIST_STATUSES = (FollowUpStatus.ACTIVE, FollowUpStatus.LOST_TO_FOLLOW_UP)
STATE_FILTERS = ("due", "overdue", "lost")


@dataclass(frozen=True)
class WorklistFilters:
    """The worklist's filters; empty values filter nothing.

    `owner`: "" anyone, "me" the user's own items, "none" items nobody owns, or a user id.
    `due_from` / `due_to`: the window the items' due dates fall in.
    """

    site_id: int | None = None
    kind: str = ""
    state: str = ""
    owner: str = ""
    due_from: date | None = None
    due_to: date | None = None


def worklist_items(*, user: User, as_of: date, site_id: int | None = None,
                   kind: str = "", state: str = "",
                   filters: WorklistFilters | None = None) -> QuerySet[ScheduledItem]:
    """Due and overdue items of the user's sites, filtered (not yet read: see `worklist_rows`)."""
    f = filters or WorklistFilters(site_id=site_id, kind=kind, state=state)
    qs = _open_items(user, as_of)
    if f.site_id:
        qs = qs.filter(patient__site_id=f.site_id)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.state == "due":
        qs = qs.filter(overdue_after__gte=as_of)
    elif f.state == "overdue":
        qs = qs.filter(overdue_after__lt=as_of, lost_to_follow_up=False)
    elif f.state == "lost":
        qs = qs.filter(lost_to_follow_up=True)
    if f.owner == "me":
        qs = qs.filter(owner=user)
    elif f.owner == "none":
        qs = qs.filter(owner__isnull=True)
    elif f.owner.isdigit():
        qs = qs.filter(owner_id=int(f.owner))
    if f.due_from:
        qs = qs.filter(due_date__gte=f.due_from)
    if f.due_to:
        qs = qs.filter(due_date__lte=f.due_to)
    return qs


def worklist_patients(items: QuerySet[ScheduledItem]) -> QuerySet:
    """The patients of `items`, most overdue first: rows of (patient_id, first_due). The
    worklist pages through these, so a patient's items are never split across pages."""
    return (items.order_by().values("patient_id").annotate(first_due=Min("due_date"))
            .order_by("first_due", "patient_id"))


def worklist_rows(items: QuerySet[ScheduledItem], patient_ids: list[int]) -> list[ScheduledItem]:
    """The items of these patients, in their order, each with its patient, site, contact
    details and owner (joined) and the patient's last contact and last completed item
    (subqueries): one query for 5 rows or 500."""
    last_contact = ContactLog.objects.filter(patient_id=OuterRef("patient_id")).order_by("-at", "-id")
    last_done = (ScheduledItem.objects.filter(patient_id=OuterRef("patient_id"),
                                              status=ScheduledItem.Status.DONE).order_by("-done_on"))
    rows = (items.filter(patient_id__in=patient_ids)
            .select_related("patient", "patient__site", "patient__contact", "owner")
            .annotate(last_contact_at=Subquery(last_contact.values("at")[:1]),
                      last_contact_outcome=Subquery(last_contact.values("outcome")[:1]),
                      last_seen_on=Subquery(last_done.values("done_on")[:1]))
            .order_by("due_date", "id"))
    position = {pid: i for i, pid in enumerate(patient_ids)}
    return sorted(rows, key=lambda item: position[item.patient_id])  # stable: by due date within


def worklist_colleagues(user: User) -> QuerySet:
    """Who items can be handed to: active users who work the worklist at one of the user's
    sites (the service checks each item's own site)."""
    return (get_user_model().objects.filter(is_active=True, groups__name__in=WORKLIST_WORKER_ROLES,
                                            sites__in=sites_for(user))
            .distinct().order_by("first_name", "last_name", "username"))


def items_chosen(*, user: User, uuids: list) -> list[ScheduledItem]:
    """The ticked items of the user's sites (others are silently not there: the caller
    compares the counts)."""
    return list(ScheduledItem.objects.filter(uuid__in=uuids, patient__site__in=sites_for(user))
                .select_related("patient", "patient__site"))


def actionable_items(as_of: date, due_by: date | None = None) -> QuerySet[ScheduledItem]:
    """Pending items that are due or overdue and still actionable, at every site.

    A missed item is superseded once a later item of the same series (kind and breast) is
    done or itself due: nobody can do last year's mammogram now, the coordinator works the
    current one. Items marked lost to follow-up always stay on the list.
    """
    later = ScheduledItem.objects.filter(
        patient_id=OuterRef("patient_id"), kind=OuterRef("kind"), laterality=OuterRef("laterality"),
        due_date__gt=OuterRef("due_date")).filter(
        Q(status=ScheduledItem.Status.DONE) | Q(status=ScheduledItem.Status.PENDING, due_from__lte=as_of))
    return ScheduledItem.objects.filter(
        status=ScheduledItem.Status.PENDING, due_from__lte=due_by or as_of,
        patient__follow_up_status__in=WORKLIST_STATUSES,
    ).filter(Q(lost_to_follow_up=True) | ~Exists(later))


def overdue_items(as_of: date) -> QuerySet[ScheduledItem]:
    """Actionable items past their grace period (the patient list's "overdue" filter)."""
    return actionable_items(as_of).filter(overdue_after__lt=as_of)


def _open_items(user: User, as_of: date, due_by: date | None = None) -> QuerySet[ScheduledItem]:
    return actionable_items(as_of, due_by).filter(patient__site__in=sites_for(user))


def item_for_user(*, user: User, uuid) -> ScheduledItem | None:
    """The item if it belongs to one of the user's sites (the view turns None into 404)."""
    try:
        return (ScheduledItem.objects.select_related("patient", "patient__site", "patient__contact", "study",
                                                     "visit", "owner")
                .filter(patient__site__in=sites_for(user)).get(uuid=uuid))
    except (ScheduledItem.DoesNotExist, ValueError, TypeError):
        return None


def item_contacts(item: ScheduledItem) -> QuerySet[ContactLog]:
    return item.contacts.select_related("by").order_by("-at", "-id")


def feed_items(*, user: User, as_of: date, until: date) -> QuerySet[ScheduledItem]:
    """The worklist's items plus those coming due by `until`, for the calendar feed."""
    return (_open_items(user, as_of, due_by=until).select_related("patient")
            .only("uuid", "kind", "laterality", "due_date", "due_from", "overdue_after", "status",
                  "patient__uuid")
            .order_by("due_date", "id")[:2000])


@dataclass
class PlanView:
    """A patient's plan for the timeline: what was done, what was missed, what is next."""

    plan: PatientPlan | None
    as_of: date
    past: list[ScheduledItem] = field(default_factory=list)  # done, cancelled, missed (overdue)
    open: list[ScheduledItem] = field(default_factory=list)  # due or overdue now
    upcoming: list[ScheduledItem] = field(default_factory=list)
    unmatched: list[ImagingStudy] = field(default_factory=list)

    @property
    def next_due(self) -> ScheduledItem | None:
        return self.open[0] if self.open else (self.upcoming[0] if self.upcoming else None)

    @property
    def done_count(self) -> int:
        return sum(1 for i in self.past if i.status == ScheduledItem.Status.DONE)

    @property
    def missed_count(self) -> int:
        return sum(1 for i in self.past if i.status == ScheduledItem.Status.PENDING)

    # The tables' rows, formatted once (`plan_line`): ten years of items are ~40 rows.
    @cached_property
    def open_lines(self) -> list[dict]:
        return [plan_line(i) for i in self.open]

    @cached_property
    def past_lines(self) -> list[dict]:
        return [plan_line(i) for i in self.past]

    @cached_property
    def upcoming_lines(self) -> list[dict]:
        return [plan_line(i) for i in self.upcoming]


KIND_LABELS = dict(ScheduledItem.Kind.choices)
LATERALITY_LABELS = dict(Laterality.choices)
MODALITY_LABELS = dict(Modality.choices)


def item_label(item: ScheduledItem) -> str:
    """e.g. "Mammogram (left)": `get_kind_display` and the breast, as the plan shows them."""
    text = KIND_LABELS.get(item.kind, item.kind)
    if item.laterality:
        text += f" ({LATERALITY_LABELS.get(item.laterality, item.laterality).lower()})"
    return text


def plan_line(item: ScheduledItem) -> dict:
    """One row of the plan's tables, its values formatted (a dict: the template language
    looks keys up first; model attributes and `get_FOO_display` cost it several times more).
    `item` went through `plan_view` (its `current_state` is set)."""
    if item.study_id is not None:
        study = item.study  # read with the items (no query)
        assert study is not None
        done_with = MODALITY_LABELS.get(study.modality, study.modality)
    else:
        done_with = "visit" if item.visit_id is not None else "elsewhere"
    return {
        "due": day_month_year(item.due_date),
        "exam": item_label(item),
        "status": item.status,
        "state": item.current_state,
        "lost": item.lost_to_follow_up,
        "done_on": day_month_year(item.done_on),
        "done_with": done_with,
        "cancel_reason": item.cancel_reason,
    }


def plan_for_patient(patient: Patient, *, as_of: date | None = None) -> PlanView:
    """The patient's plan in three queries (plan, items with their links, unmatched studies)."""
    plan = PatientPlan.objects.filter(patient=patient).select_related("protocol").first()
    items = list(patient.scheduled_items.select_related("study", "visit").order_by("due_date", "kind", "id"))
    unmatched = list(unmatched_studies(patient, since=plan.surgery_date if plan else None))
    return plan_view(plan, items, unmatched=unmatched, as_of=as_of)


def plan_view(plan: PatientPlan | None, items: list[ScheduledItem], *, unmatched: list[ImagingStudy],
              as_of: date | None = None) -> PlanView:
    """The plan from rows already read (`items` by due date, with their study and visit).

    Past = done, cancelled, or missed (still pending with its matching window closed).
    """
    as_of = as_of or timezone.localdate()
    view = PlanView(plan=plan, as_of=as_of, unmatched=unmatched)
    for item in items:
        item.current_state = item.state(as_of)
        item.missed = item.status == ScheduledItem.Status.PENDING and item.window_end < as_of
        if item.status != ScheduledItem.Status.PENDING or item.missed:
            view.past.append(item)
        elif item.current_state in ("due", "overdue"):
            view.open.append(item)
        else:
            view.upcoming.append(item)
    return view


def unmatched_studies(patient: Patient, *, since: date | None) -> QuerySet[ImagingStudy]:
    """Final surveillance mammograms and MRIs after surgery that fulfil no item: kept and
    shown, never discarded (e.g. an extra diagnostic work-up between scheduled exams)."""
    if since is None:
        return ImagingStudy.objects.none()
    linked = ScheduledItem.objects.filter(study_id=OuterRef("pk"))
    return (ImagingStudy.objects.filter(patient=patient, status="final", modality__in=["MG", "MR"],
                                        study_date__gt=since)
            .filter(~Exists(linked)).order_by("study_date"))


def unmatched_among(studies: list[ImagingStudy], items: list[ScheduledItem], *,
                    since: date | None) -> list[ImagingStudy]:
    """`unmatched_studies` from the patient's studies (date order) and items already read.

    Matching links a study only to items of its own patient (services/matching.py), so her
    items are all the items that can link her studies.
    """
    if since is None:
        return []
    linked = {item.study_id for item in items}
    return [s for s in studies if s.status == "final" and s.modality in ("MG", "MR")
            and s.study_date > since and s.id not in linked]


def digest_for_dashboard(user: User) -> Digest | None:
    """The user's latest digest with something in it (the in-app copy of the email)."""
    if not user.is_authenticated:
        return None
    return (Digest.objects.filter(user=user).exclude(status=Digest.Status.EMPTY)
            .exclude(Q(newly_due=0) & Q(newly_overdue=0) & Q(newly_lost=0)).order_by("-date").first())


def worklist_counts(*, user: User, as_of: date) -> dict[str, int]:
    """Due / overdue / lost counts of the user's sites, for the dashboard (one query)."""
    return _open_items(user, as_of).aggregate(
        due=Count("id", filter=Q(overdue_after__gte=as_of)),
        overdue=Count("id", filter=Q(overdue_after__lt=as_of, lost_to_follow_up=False)),
        lost=Count("id", filter=Q(lost_to_follow_up=True)),
    )




def biopsy_follow_ups(*, user: User, as_of: date, state: str = "") -> QuerySet:
    """The user's sites' biopsy follow-ups, those without a result first (oldest due first).

    `state`: "awaiting", "overdue" or "done" on `as_of`; empty for all.
    """
    qs = (BiopsyFollowUp.objects.filter(patient__site__in=sites_for(user))
          .select_related("patient", "patient__site", "alert", "result_recorded_by"))
    if state == "done":
        qs = qs.exclude(histology="")
    elif state == "overdue":
        qs = qs.filter(histology="", due_date__lt=as_of)
    elif state == "awaiting":
        qs = qs.filter(histology="", due_date__gte=as_of)
    return qs.order_by(Case(When(histology="", then=0), default=1), "due_date", "id")


def biopsy_follow_up_for_user(*, user: User, uuid):
    """The follow-up if it belongs to one of the user's sites (None otherwise: 404)."""
    try:
        return (BiopsyFollowUp.objects.select_related("patient", "patient__site", "alert", "alert__study",
                                                      "result_recorded_by", "event")
                .filter(patient__site__in=sites_for(user)).get(uuid=uuid))
    except (BiopsyFollowUp.DoesNotExist, ValueError, TypeError):
        return None


def biopsy_counts(*, user: User, as_of: date) -> dict[str, int]:
    """Follow-ups without a result on `as_of`: awaiting (not yet due) and overdue."""
    return (BiopsyFollowUp.objects.filter(patient__site__in=sites_for(user), histology="")
            .aggregate(awaiting=Count("id", filter=Q(due_date__gte=as_of)),
                       overdue=Count("id", filter=Q(due_date__lt=as_of))))
