"""What the benchmark needs in its database: the guard, the cohort, the users, the patient.

1. `check_database_name` refuses any database whose name lacks "bench": the bench
   replaces the cohort sites' patients, so it must never run against a clinic's data.
2. `ensure_cohort` seeds `seed_cohort` at the asked size, or reuses the cohort already
   there when `CohortStamp` says it is exactly that one (same size and seed).
3. `bench_users` are a radiologist and a coordinator of the cohort sites, like the demo
   logins (they cannot log in with a password; the bench uses `force_login`).
4. `history_patient` is a cohort patient with a ten-year, ~40-study history, written
   from the seeding code's own plans when the cohort has none.
"""

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import connection, transaction
from django.db.models import Count, DateTimeField, Max, Min
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from core import roles
from demo.seeding.cohort import SITE_PREFIX, cohort_signer, existing_cohort, seed_cohort
from demo.seeding.course import YEAR, build_plan
from demo.seeding.fastwrite import delete_cascading, write_plans_fast
from demo.seeding.sampling import sample_course
from demo.seeding.writer import Target
from imaging.models import ImagingStudy
from imaging.vocabulary import Modality, Phase
from patients.models import ClinicVisit, Patient, Site
from patients.vocabulary import FollowUpStatus

from .models import CohortStamp

HISTORY_STUDIES = 40
HISTORY_YEARS = 10
HISTORY_MRN = "BENCH-HISTORY-1"
RADIOLOGIST = "bench-radiologist"
COORDINATOR = "bench-coordinator"


class BenchRefused(Exception):
    """The benchmark will not run against this database."""


def check_database_name(name: str) -> None:
    if "bench" not in (name or "").lower():
        raise BenchRefused(
            f"Refusing to run against the database {name!r}: the benchmark replaces every "
            "patient of the cohort sites, so it only runs against a database whose name "
            "contains 'bench' (e.g. tracker_bench; set BENCH_DATABASE_URL / DATABASE_URL).")


@dataclass(frozen=True)
class Cohort:
    patients: int
    seed: int
    as_of: date
    reused: bool
    sites: list[Site]

    @property
    def site_ids(self) -> tuple[int, ...]:
        return tuple(s.id for s in self.sites)


def cohort_sites() -> list[Site]:
    return list(Site.objects.filter(code__startswith=SITE_PREFIX).order_by("id"))


def matching_stamp(patients: int, seed: int) -> CohortStamp | None:
    """The stamp of the cohort in this database, if it is exactly the one asked for."""
    stamp = CohortStamp.objects.order_by("-written_at").first()
    if stamp is None or (stamp.patients, stamp.seed) != (patients, seed):
        return None
    if existing_cohort() != stamp.cohort_patients:
        return None  # somebody changed the cohort sites since
    return stamp


def ensure_cohort(*, patients: int, seed: int, reuse: bool,
                  on_patients: Callable[[int], None] | None = None) -> Cohort:
    stamp = matching_stamp(patients, seed) if reuse else None
    if stamp is not None:
        _analyze()
        return Cohort(patients, seed, stamp.as_of, True, cohort_sites())
    as_of = timezone.localdate()
    with transaction.atomic():
        # Alerts, plans and the like of the old cohort go with its patients (cascade).
        seed_cohort(n=patients, seed=seed, today=as_of, replace=True, on_patients=on_patients)
        backdate_cohort()
        CohortStamp.objects.all().delete()
        CohortStamp.objects.create(patients=patients, seed=seed, as_of=as_of,
                                   cohort_patients=existing_cohort(), seeded_statuses=_statuses())
    _analyze()
    return Cohort(patients, seed, as_of, False, cohort_sites())


def analyze() -> None:
    """Fresh planner statistics after bulk changes (autovacuum lags behind a benchmark):
    with an empty-table estimate for alerts, PostgreSQL picked nested loops that turned
    a cascade delete of 300 patients into minutes."""
    _analyze()


def backdate_cohort() -> None:
    """Give the seeded rows the timestamps ten years of use would have left.

    The writer stamps every row with the seeding time, so the surveillance sweep's daily
    catch-up ("studies and visits saved since the last sweep") would re-match the whole
    cohort every day. A study was last saved when it was signed (or on its date if still
    a draft); a visit was recorded on its day.
    """
    cohort = Patient.objects.filter(site__code__startswith=SITE_PREFIX)
    ImagingStudy.objects.filter(patient__in=cohort).update(
        created_at=Coalesce("signed_at", Cast("study_date", DateTimeField())),
        updated_at=Coalesce("signed_at", Cast("study_date", DateTimeField())))
    ClinicVisit.objects.filter(patient__in=cohort).update(created_at=Cast("date", DateTimeField()))


def _statuses() -> dict[str, list[int]]:
    """The cohort patients whose follow-up status is not 'active', by status."""
    statuses: dict[str, list[int]] = {}
    for pid, status in (Patient.objects.filter(site__code__startswith=SITE_PREFIX)
                        .exclude(follow_up_status=FollowUpStatus.ACTIVE).order_by("id")
                        .values_list("id", "follow_up_status")):
        statuses.setdefault(status, []).append(pid)
    return statuses


def reset_surveillance() -> None:
    """Put the cohort back as it was before its first surveillance sweep, so every run of
    row 5 measures the same work (with `--reuse`, the previous run's plans and stamped
    transitions would otherwise leave the "first" sweep and the days nothing to do).

    Deletes the cohort's plans, items (with their contact logs), the sweep's alerts, the
    digests of the cohort sites' users, every `SweepRun` and `PlanFanOut`, and restores the follow-up
    statuses recorded when the cohort was seeded. A stamp written before statuses were
    recorded records the present ones the first time (the later runs start from those).
    """
    from alerts.models import Alert, Rule
    from surveillance.models import Digest, PatientPlan, PlanFanOut, ScheduledItem, SweepRun

    stamp = CohortStamp.objects.order_by("-written_at").first()
    if stamp is not None and stamp.seeded_statuses is None:
        CohortStamp.objects.filter(id=stamp.id).update(seeded_statuses=_statuses())
        stamp.refresh_from_db()
    cohort = Patient.objects.filter(site__code__startswith=SITE_PREFIX)
    with transaction.atomic():
        delete_cascading(ScheduledItem.objects.filter(patient__in=cohort))
        delete_cascading(PatientPlan.objects.filter(patient__in=cohort))
        delete_cascading(Alert.objects.filter(
            patient__in=cohort, rule__in=[Rule.SURVEILLANCE_OVERDUE, Rule.LOST_TO_FOLLOW_UP]))
        delete_cascading(Digest.objects.filter(user__sites__code__startswith=SITE_PREFIX))
        delete_cascading(SweepRun.objects.all())
        delete_cascading(PlanFanOut.objects.all())
        if stamp is not None:
            cohort.exclude(follow_up_status=FollowUpStatus.ACTIVE).update(
                follow_up_status=FollowUpStatus.ACTIVE)
            for status, ids in stamp.seeded_statuses.items():
                for start in range(0, len(ids), 5000):
                    Patient.objects.filter(id__in=ids[start:start + 5000]).update(follow_up_status=status)
    vacuum_surveillance()


def vacuum_surveillance() -> None:
    """VACUUM ANALYZE the items table after a bulk change (a reset, a first sweep), as a DBA
    would after a bulk load and as autovacuum soon does (surveillance migration 0005): the
    first sweep's stamps leave ~15,000 dead index entries exactly in the date range the
    next days' sweeps read."""
    if connection.vendor == "postgresql" and _can_vacuum():
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE surveillance_scheduleditem")
    _analyze()


def _can_vacuum() -> bool:
    """VACUUM cannot run in a transaction (a test's, or a caller's `atomic`)."""
    return connection.get_autocommit() and not connection.in_atomic_block


def _analyze() -> None:
    """`VACUUM ANALYZE` after a bulk load, as a DBA would run it (autovacuum lags behind a
    benchmark): fresh planner statistics, and a visibility map that lets index-only scans
    skip the heap — without it every index-only probe of the freshly loaded studies also
    read the table (the concordance query read ~200,000 heap pages more at 100,000
    patients). Inside a transaction (VACUUM cannot run there) only ANALYZE."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if _can_vacuum() else "ANALYZE")


def _bench_user(username: str, role: str, sites: list[Site]) -> AbstractBaseUser:
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, first_name="Bench", last_name=role.title(),
                    email=f"{username}@bench.example")
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=role))
    for site in sites:
        site.members.add(user)
    return user


def bench_users(sites: list[Site]) -> tuple[AbstractBaseUser, AbstractBaseUser]:
    """(radiologist, coordinator) of every cohort site."""
    return (_bench_user(RADIOLOGIST, roles.RADIOLOGIST, sites),
            _bench_user(COORDINATOR, roles.COORDINATOR, sites))


def find_history_patient(*, studies: int = HISTORY_STUDIES, years: int = HISTORY_YEARS,
                         tolerance: int = 5) -> Patient | None:
    """The cohort patient whose history is closest to `studies` studies over `years` years."""
    rows = (ImagingStudy.objects.filter(patient__site__code__startswith=SITE_PREFIX)
            .values("patient_id").annotate(n=Count("id"), first=Min("study_date"), last=Max("study_date"))
            .filter(n__gte=studies - tolerance, n__lte=studies + tolerance))
    span = timedelta(days=round(years * YEAR) - 60)
    fits = [r for r in rows if r["last"] - r["first"] >= span]
    if not fits:
        return None
    best = min(fits, key=lambda r: (abs(r["n"] - studies), r["patient_id"]))
    return Patient.objects.get(id=best["patient_id"])


def history_patient(*, seed: int, as_of: date, sites: list[Site]) -> Patient:
    """A ten-year, ~40-study patient of the cohort: found, or written once."""
    found = find_history_patient()
    if found is not None:
        return found
    with transaction.atomic():
        signer = cohort_signer(sites)
        plan = history_plan(seed=seed, as_of=as_of)
        write_plans_fast([(plan, Target(site_id=sites[0].id, signer_id=signer.id))])
        patient = Patient.objects.get(site=sites[0], mrn=HISTORY_MRN)
        CohortStamp.objects.update(cohort_patients=existing_cohort(), history_patient_id=patient.id)
    return patient


def history_plan(*, seed: int, as_of: date, studies: int = HISTORY_STUDIES):
    """A seeded course operated ten and a half years ago, followed with mammography and
    MRI (high risk), with interval mammograms added until it has `studies` studies.

    The seeding code (demo.seeding) draws the course; the interval mammograms are
    copies of the yearly ones three months later, as for a short-interval follow-up.
    """
    rng = random.Random(seed * 7919 + 40)
    course = sample_course(rng, mrn=HISTORY_MRN, today=as_of, surprises=False)
    course.surgery_date = as_of - timedelta(days=round(10.5 * YEAR))
    course.pathogenic_variant = True  # high risk: yearly MRI as well as mammography
    course.follow_up_status = "active"
    plan = build_plan(course, as_of)
    yearly = [s for s in plan.studies if s.modality == Modality.MG and s.phase == Phase.SURVEILLANCE]
    extra, k = [], 0
    while len(plan.studies) + len(extra) < studies and yearly:
        base = yearly[k % len(yearly)]
        interval = copy.deepcopy(base)
        interval.study_date = base.study_date + timedelta(days=91 * (1 + k // len(yearly)))
        if interval.study_date <= as_of:
            extra.append(interval)
        k += 1
        if k > 10 * studies:
            break
    plan.studies = sorted(plan.studies + extra, key=lambda s: (s.study_date, s.modality))
    return plan


def cohort_counts() -> tuple[int, int]:
    """(patients, studies) in the cohort sites."""
    patients = existing_cohort()
    studies = ImagingStudy.objects.filter(patient__site__code__startswith=SITE_PREFIX).count()
    return patients, studies
