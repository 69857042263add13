"""The measurements of issue 9, one function per item, each returning table rows.

Every function takes a `Bench` (who, which patient, how many runs) and returns `Row`s
(bench/report.py). A measurement whose code is not in this build (an app not installed,
a URL not mounted) returns an explicit "not available: <reason>" row, never a guess.
Pages are requested in-process with Django's test `Client`, logged in; queries are
counted with `CaptureQueriesContext`. App and floor runs alternate, so their ratio is
measured under the same load.
"""

import importlib
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from unittest import mock

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from imaging.models import ImagingStudy
from patients.models import Patient, Site

from . import floor, prepare, report
from .report import Row

BENCH_URLCONF = "bench.urls"
LIST_PAGE_QUERY = ""  # the list as a user first sees it: no filter, sorted by name
API_PAGE_SIZE = 50
IMPORT_SITE = "bench-import"


@dataclass
class Bench:
    """What every measurement needs. `heavy_repeat` is the number of runs of whole-cohort
    jobs (re-evaluation, sweep, import), `repeat` that of everything else."""

    user: AbstractBaseUser  # a radiologist of the cohort sites
    coordinator: AbstractBaseUser
    patient: Patient  # the ten-year, ~40-study patient
    sites: list[Site]
    as_of: date
    repeat: int = 20
    heavy_repeat: int = 3
    import_patients: int = 300
    import_studies_per_patient: int = 10
    workers: int = 1  # processes for the cohort re-evaluation (the command: CPU count)
    load_seconds: float = 20.0  # the measured window of the load test (after a 3 s warm-up)
    tick: Callable[[str], None] = field(default=lambda label: None)

    @property
    def site_ids(self) -> tuple[int, ...]:
        return tuple(s.id for s in self.sites)


@dataclass
class Sample:
    times: list[float] = field(default_factory=list)
    query_counts: list[int] = field(default_factory=list)

    @property
    def queries(self) -> int:
        """The usual count (median): the session's once-a-minute refresh is not the page's."""
        return int(report.median(self.query_counts)) if self.query_counts else 0

    @property
    def median(self) -> float:
        return report.median(self.times)

    @property
    def p95(self) -> float:
        return report.p95(self.times)


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT",
                       "ROLLBACK TO SAVEPOINT")


def is_transaction_control(sql: str) -> bool:
    """BEGIN/COMMIT/SAVEPOINT…: Django lists them with the queries on PostgreSQL, but they
    read and write no rows; the query counts of the table leave them out."""
    head = sql.lstrip().upper()
    return any(head == c or head.startswith(c + " ") for c in TRANSACTION_CONTROL)


COUNTED_RUNS = 3  # their median: the session's once-a-minute refresh is not the page's


def _timed(fn: Callable[[], object], count_queries: bool = True) -> tuple[float, int, object]:
    if count_queries:
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - start
        queries = [q for q in ctx.captured_queries if not is_transaction_control(q["sql"])]
        return elapsed, len(queries), result
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, 0, result


def run_pair(app: Callable[[], object], base: Callable[[], object] | None, repeat: int,
             tick: Callable[[str], None] = lambda _: None, label: str = "") -> tuple[Sample, Sample]:
    """One warm-up; the queries counted over `COUNTED_RUNS` untimed runs (counting wraps
    every cursor, which the timed runs should not pay); then `repeat` alternating timed
    runs of `app` and its floor `base`."""
    app()
    if base:
        base()
    a, b = Sample(), Sample()
    for _ in range(COUNTED_RUNS):
        a.query_counts.append(_timed(app)[1])
        if base:
            b.query_counts.append(_timed(base)[1])
    for _ in range(repeat):
        a.times.append(_timed(app, count_queries=False)[0])
        if base:
            b.times.append(_timed(base, count_queries=False)[0])
        tick(label)
    return a, b


def client_for(user: AbstractBaseUser) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def _get(client: Client, url: str) -> Callable[[], object]:
    def fetch():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response.content
    return fetch


def _url(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def page_row(item: str, name: str, sample: Sample, floor_sample: Sample | None) -> Row:
    ratio = (sample.median / floor_sample.median) if floor_sample and floor_sample.times else None
    return Row(item=item, name=name, median=sample.median, p95=sample.p95, queries=sample.queries,
               floor=floor_sample.median if floor_sample and floor_sample.times else None,
               ratio=ratio, runs=len(sample.times), checks=report.page_checks(sample.queries, sample.p95))


# --- (1) timeline, (2) list ----------------------------------------------------------------

def timeline_rows(b: Bench) -> list[Row]:
    client = client_for(b.user)
    uuid = str(b.patient.uuid)
    rows = []
    with override_settings(ROOT_URLCONF=BENCH_URLCONF):
        page, base = run_pair(_get(client, reverse("patient-timeline", kwargs={"uuid": uuid})),
                              lambda: floor.timeline_floor(user_id=b.user.id, patient_uuid=uuid),
                              b.repeat, b.tick, "timeline page")
        rows.append(page_row("1", f"Timeline page ({_studies_of(b.patient)} studies)", page, base))
        api_url = _url("api-patient-timeline", uuid=uuid)
        if api_url is None:
            rows.append(report.unavailable("1", "Timeline API", "the REST API (api/) is not installed"))
        else:
            api, base = run_pair(_get(client, api_url),
                                 lambda: floor.timeline_api_floor(user_id=b.user.id, patient_uuid=uuid),
                                 b.repeat, b.tick, "timeline API")
            rows.append(page_row("1", "Timeline API", api, base))
    return rows


def _studies_of(patient: Patient) -> int:
    return ImagingStudy.objects.filter(patient=patient).count()


def list_rows(b: Bench) -> list[Row]:
    from clinic.views import PAGE_SIZE

    client = client_for(b.user)
    rows = []
    with override_settings(ROOT_URLCONF=BENCH_URLCONF):
        page, base = run_pair(_get(client, reverse("patient-list") + LIST_PAGE_QUERY),
                              lambda: floor.patient_list_floor(user_id=b.user.id, limit=PAGE_SIZE),
                              b.repeat, b.tick, "list page")
        rows.append(page_row("2", f"Patient list page ({PAGE_SIZE} rows)", page, base))
        api_url = _url("api-patient-list")
        if api_url is None:
            rows.append(report.unavailable("2", f"Patient API page ({API_PAGE_SIZE} rows)",
                                           "the REST API (api/) is not installed"))
        else:
            api, base = run_pair(
                _get(client, f"{api_url}?page_size={API_PAGE_SIZE}"),
                lambda: floor.patient_api_floor(user_id=b.user.id, limit=API_PAGE_SIZE),
                b.repeat, b.tick, "list API")
            rows.append(page_row("2", f"Patient API page ({API_PAGE_SIZE} rows)", api, base))
    return rows


# --- (3) incremental evaluation, (4) full re-evaluation --------------------------------------

def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# What queues Celery tasks after commit: (module, function).
ENQUEUERS = (("outbox.services", "_enqueue"), ("alerts.notifications.alerts", "enqueue_send"))


@contextmanager
def no_broker():
    """The bench runs the worker's function itself: nothing is queued to Celery, neither
    the outbox rows' evaluations nor the new alerts' emails (a first evaluation pass
    would queue thousands of `send_notification` tasks to whatever Redis is running)."""
    with ExitStack() as stack:
        for module_name, name in ENQUEUERS:
            module = _module(module_name)
            if module is not None and hasattr(module, name):
                stack.enter_context(mock.patch.object(module, name, lambda *a, **k: None))
        yield


def _new_final_mammogram(patient: Patient, by: AbstractBaseUser, day: date):
    """A mammogram like the patient's last one, signed now: what the worker then evaluates."""
    from imaging.services import study_finalize, study_save_draft

    last = ImagingStudy.objects.filter(patient=patient, modality="MG", status="final").last()
    data = {"study_date": day, "modality": "MG", "phase": "surveillance",
            "laterality": last.laterality if last else "bilateral", "birads": "2",
            "breast_composition": (last.breast_composition if last else "") or "b"}
    calcs = []
    if last is not None:
        for c in last.calcifications.all():
            calcs.append({f: getattr(c, f) for f in (
                "group", "laterality", "morphology", "distribution", "extent_mm", "count_bin",
                "count", "inside_tumor_bed", "quadrant", "clock", "depth")})
    with transaction.atomic():
        study = study_save_draft(patient=patient, data=data, by=by, calcifications=calcs)
        return study_finalize(study=study, by=by)


def incremental_row(b: Bench) -> Row:
    name = "Incremental alert evaluation (1 new final study)"
    from alerts.handlers import evaluate_after_signing
    from outbox.models import Event

    patients = list(Patient.objects.filter(site__in=b.sites).exclude(id=b.patient.id)
                    .order_by("id").values_list("id", flat=True)[:: max(1, _cohort_size(b) // b.repeat)]
                    [:b.repeat])
    patients = [b.patient.id, *patients][:b.repeat + 1]
    sample = Sample()
    for i, pid in enumerate(patients):
        patient = Patient.objects.get(id=pid)
        with no_broker():
            study = _new_final_mammogram(patient, b.user, b.as_of)
        event = Event.objects.filter(kind=Event.Kind.STUDY_FINALIZED, object_id=study.id,
                                     processed_at=None).first()
        if event is None:
            raise RuntimeError("finalizing a study wrote no outbox event")
        # The alerts app's handler of the event (the surveillance plan's matching, the
        # event's other handler, is not part of this row).
        elapsed, queries, _ = _timed(lambda event=event: evaluate_after_signing(event))
        Event.objects.filter(id=event.id).update(processed_at=timezone.now())
        if i:  # the first one warms up
            sample.times.append(elapsed)
            sample.query_counts.append(queries)
        b.tick("incremental")
    return Row(item="3", name=name, median=sample.median, p95=sample.p95, queries=sample.queries,
               runs=len(sample.times), checks=report.incremental_checks(sample.queries))


def _cohort_size(b: Bench) -> int:
    return Patient.objects.filter(site__in=b.sites).count()


def _cohort_studies(b: Bench) -> int:
    return ImagingStudy.objects.filter(patient__site__in=b.sites).count()


def reevaluation_rows(b: Bench) -> list[Row]:
    """The first evaluation of a freshly seeded cohort (raises every alert), then the
    re-evaluation (e.g. after a threshold change: the same decisions, nothing new)."""
    name = "Full-cohort alert re-evaluation"
    evaluation = _module("alerts.evaluation")
    if evaluation is None or not hasattr(evaluation, "reevaluate_chunk"):
        return [report.unavailable("4", name, "the alerts engine (alerts/evaluation.py) is not installed")]
    from alerts.tasks import DEFAULT_CHUNK_SIZE

    ids = list(Patient.objects.filter(site__in=b.sites).order_by("id").values_list("id", flat=True))
    studies = _cohort_studies(b)
    chunks = [ids[start:start + DEFAULT_CHUNK_SIZE] for start in range(0, len(ids), DEFAULT_CHUNK_SIZE)]

    def run() -> None:
        for _ in map_chunks(chunks, b.workers):
            b.tick("re-evaluation")

    rows = []
    forget_alerts(b)
    with no_broker():
        first, _, _ = _timed(run, count_queries=False)
        prepare.analyze()  # the first pass may have written thousands of alerts
        rows.append(Row(item="4", name="First evaluation pass (raises alerts not yet raised)",
                        median=first, rate=studies / first, unit="studies/s", runs=1))
        sample = Sample()
        for _ in range(b.heavy_repeat):
            elapsed, _, _ = _timed(run, count_queries=False)
            sample.times.append(elapsed)
    rate = studies / sample.median
    name += f" ({_processes(b.workers)})"
    rows.append(Row(item="4", name=name, median=sample.median, rate=rate, unit="studies/s",
                    runs=len(sample.times),
                    checks=report.rate_check(rate, report.MIN_REEVAL_STUDIES_PER_S, "studies/s")))
    return rows


def forget_alerts(b: Bench) -> None:
    """Delete the cohort's alerts and their notification rows, so that the first pass
    raises every alert again on a cohort reused from an earlier run (`--reuse`).

    Raw `DELETE`s: the ORM's delete would send a signal, hence write an audit event, per
    alert. This is the bench's own data in its own database, not a clinical deletion.
    """
    from alerts.models import Alert, Notification

    alerts, params = (Alert.objects.filter(patient__site__in=b.sites).values("id")
                      .query.sql_with_params())
    with transaction.atomic(), connection.cursor() as cursor:
        for model, column in ((Notification, "alert_id"), (Alert, "id")):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({alerts})", params)


def _chunk_in_worker(patient_ids: list[int]) -> tuple[int, int]:
    from alerts.evaluation import reevaluate_chunk

    return reevaluate_chunk(None, patient_ids)


def map_chunks(chunks: list, workers: int, work: Callable = _chunk_in_worker) -> Iterator:
    """Do `work` for each chunk here (workers ≤ 1) or in `workers` forked processes, as the
    Celery workers of a deployment share the chunks of `reevaluate_alerts` (or of a
    fanned-out sweep's plans)."""
    if workers <= 1:
        for chunk in chunks:
            yield work(chunk)
        return
    connections.close_all()  # each process opens its own connection
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap_unordered(work, chunks)


# --- (5) surveillance sweep and digest ------------------------------------------------------

def sweep_rows(b: Bench) -> list[Row]:
    """A first sweep (it writes every surveillance plan), then daily sweeps + digests, one
    per day over the last `heavy_repeat` days up to the cohort's `as_of`."""
    name = "Daily surveillance sweep + digest"
    if not apps.is_installed("surveillance"):
        return [report.unavailable("5", name, "the surveillance app is not installed")]
    from surveillance.services.digests import digests_send
    from surveillance.services.sweep import surveillance_sweep

    days = [b.as_of - timedelta(days=k) for k in range(b.heavy_repeat, -1, -1)]
    rows = []
    prepare.reset_surveillance()  # a real first sweep, and days not swept yet
    with no_broker(), override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        first, _, chunks = _timed(lambda: first_sweep(b, as_of=days[0] - timedelta(days=1)),
                                  count_queries=False)
        prepare.vacuum_surveillance()  # the first sweep wrote every plan's items
        how = (f"its {chunks:,} chunks of plans shared by {_processes(b.workers)}" if chunks
               else "in one process (20 chunks of plans or fewer)")
        rows.append(Row(item="5", name="First surveillance sweep (writes every plan)", median=first, runs=1,
                        note=how))
        b.tick("sweep")
        sample, base = Sample(), Sample()
        for day in days:
            elapsed, queries, _ = _timed(lambda day=day: (surveillance_sweep(as_of=day),
                                                          digests_send(as_of=day)))
            f_elapsed, _, _ = _timed(lambda day=day: floor.sweep_floor(as_of=day))
            if day != days[0]:  # the first day warms up
                sample.times.append(elapsed)
                sample.query_counts.append(queries)
                base.times.append(f_elapsed)
            b.tick("sweep")
    ratio = sample.median / base.median
    rows.append(Row(item="5", name=name, median=sample.median, p95=sample.p95, queries=sample.queries,
                    floor=base.median, ratio=ratio, runs=len(sample.times),
                    checks=report.seconds_check(sample.median, report.MAX_SWEEP_SECONDS)))
    return rows


def first_sweep(b: Bench, *, as_of: date) -> int:
    """What the daily task does on a cohort without plans: the plans in chunks shared by
    `b.workers` processes (as by the Celery workers), then the rest of the sweep; a cohort
    of up to `FAN_OUT_MIN_CHUNKS` chunks is swept in one process (surveillance/tasks.py).
    Returns the number of chunks (0: one process)."""
    from surveillance.services.fan_out import plan_chunk_run, plans_fan_out
    from surveillance.services.sweep import surveillance_sweep

    chunk_ids = plans_fan_out(as_of=as_of).chunk_ids
    for _ in map_chunks(chunk_ids, b.workers, plan_chunk_run):
        pass
    surveillance_sweep(as_of=as_of)
    return len(chunk_ids)


def _processes(workers: int) -> str:
    return f"{workers} worker process{'es' if workers > 1 else ''}"


# --- (6) concordance ---------------------------------------------------------------------------

def concordance_row(b: Bench) -> Row:
    from cohort.analysis import concordance_for
    from cohort.selectors import CohortFilters

    filters = CohortFilters(site_ids=b.site_ids)
    sample, _ = run_pair(lambda: concordance_for(filters), None, b.repeat, b.tick, "concordance")
    return Row(item="6", name="Cohort concordance statistics", median=sample.median, p95=sample.p95,
               queries=sample.queries, runs=len(sample.times),
               checks=report.seconds_check(sample.median, report.MAX_CONCORDANCE_SECONDS))


# --- (9) programme quality measures (issue 21) --------------------------------------------------

def quality_rows(b: Bench) -> list[Row]:
    """Every programme quality measure (`quality_report`), once per grouping."""
    from cohort.quality_selectors import GROUP_BY, QualityFilters, quality_report
    from cohort.services import adherence_rebuild

    names = {s.id: s.name for s in b.sites}
    elapsed, _, snapshot = _timed(lambda: adherence_rebuild(as_of=b.as_of), count_queries=False)
    b.tick("quality")
    rows = [Row(item="10", name=f"Adherence snapshot, daily ({snapshot.rows:,} rows)", median=elapsed,
                runs=1)]
    for group_by in GROUP_BY:
        filters = QualityFilters(site_ids=b.site_ids, group_by=group_by)
        sample, _ = run_pair(lambda f=filters: quality_report(f, as_of=b.as_of, site_names=names), None,
                             b.repeat, b.tick, "quality")
        rows.append(Row(item="10", name=f"Programme quality measures, by {group_by}", median=sample.median,
                        p95=sample.p95, queries=sample.queries, runs=len(sample.times),
                        checks=report.quality_checks(sample.median, sample.queries)))
    return rows


# --- (7) CSV import ------------------------------------------------------------------------------

def import_row(b: Bench) -> Row:
    name = (f"CSV registry import ({b.import_patients} patients × "
            f"{b.import_studies_per_patient} studies)")
    installed = apps.is_installed("registry")
    importer = _module("registry.importer") if installed else None
    sample_mod = _module("registry.sample") if installed else None
    if importer is None or sample_mod is None:
        return report.unavailable("7", name, "the registry import (registry/) is not installed")
    from demo.seeding.fastwrite import delete_patients

    site, _ = Site.objects.get_or_create(code=IMPORT_SITE, defaults={"name": "Bench Import"})
    text = sample_mod.sample_registry_csv(patients=b.import_patients,
                                          studies_per_patient=b.import_studies_per_patient,
                                          site=IMPORT_SITE)
    studies = b.import_patients * b.import_studies_per_patient
    sample = Sample()
    with no_broker():
        delete_patients(Patient.objects.filter(site=site))
        # One warm-up import first, as for the request rows: the column parsers are
        # compiled once per process (a server's are warm) and the first run paid for it.
        for run in range(b.heavy_repeat + 1):
            elapsed, _, result = _timed(lambda: importer.import_registry(text), count_queries=False)
            if not result.ok:
                raise RuntimeError(f"the generated registry file did not import: {result.problems[:3]}")
            if run:
                sample.times.append(elapsed)
            delete_patients(Patient.objects.filter(site=site))
            b.tick("import")
    rate = studies / sample.median
    return Row(item="7", name=name, median=sample.median, rate=rate, unit="studies/s",
               runs=len(sample.times),
               checks=report.rate_check(rate, report.MIN_IMPORT_STUDIES_PER_S, "studies/s"))


# --- (8) the framework floor ---------------------------------------------------------------

def trivial_row(b: Bench) -> Row:
    client = client_for(b.user)
    with override_settings(ROOT_URLCONF=BENCH_URLCONF):
        sample, _ = run_pair(_get(client, reverse("bench-trivial")), None, b.repeat, b.tick, "trivial")
    return Row(item="8", name="Framework floor: trivial view (login, middleware)",
               median=sample.median, p95=sample.p95, queries=sample.queries, runs=len(sample.times))


# --- (9) the HL7 feed ----------------------------------------------------------------------

def hl7_row(b: Bench) -> Row:
    if not apps.is_installed("feeds"):
        return report.unavailable("9", "HL7 ORU^R01 through the MLLP listener",
                                  "the hospital feed (feeds/) is not installed")
    from .feed import hl7_row as measure_feed

    row = measure_feed()
    b.tick("hl7")
    return row


def load_rows(b: Bench) -> list[Row]:
    """Item 11: the timeline and list pages served by gunicorn to 16 clients at once."""
    from .load import load_rows as measure_load

    rows = measure_load(b.user, b.sites, seconds=b.load_seconds)
    b.tick("load")
    return rows


# --- everything ------------------------------------------------------------------------------

# name for --skip → (function, item, row name when skipped). Re-evaluation runs before the
# incremental evaluation: one new study is evaluated against a cohort whose alerts exist.
MEASUREMENTS: dict[str, tuple[Callable[[Bench], Row | list[Row]], str, str]] = {
    "timeline": (timeline_rows, "1", "Timeline page and API"),
    "list": (list_rows, "2", "Patient list page and API page"),
    "reevaluation": (reevaluation_rows, "4", "Full-cohort alert re-evaluation"),
    "incremental": (incremental_row, "3", "Incremental alert evaluation (1 new final study)"),
    "sweep": (sweep_rows, "5", "Daily surveillance sweep + digest"),
    "concordance": (concordance_row, "6", "Cohort concordance statistics"),
    "import": (import_row, "7", "CSV registry import"),
    "trivial": (trivial_row, "8", "Framework floor: trivial view (login, middleware)"),
    "hl7": (hl7_row, "9", "HL7 ORU^R01 through the MLLP listener"),
    "quality": (quality_rows, "10", "Programme quality measures"),
    "load": (load_rows, "11", "Timeline and list pages under load (gunicorn, 16 clients)"),
}


def measure_all(b: Bench, skip: Iterable[str] = ()) -> list[Row]:
    """Every row, in the issue's order; a skipped measurement leaves a row saying so."""
    skip = set(skip)
    unknown = skip - set(MEASUREMENTS)
    if unknown:
        raise ValueError(f"unknown measurement(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(MEASUREMENTS)}")
    rows: list[Row] = []
    for key, (fn, item, name) in MEASUREMENTS.items():
        if key in skip:
            rows.append(report.skipped(item, name, key))
            continue
        out = fn(b)
        rows.extend(out if isinstance(out, list) else [out])
    return sorted(rows, key=lambda r: r.item)


def ticks_for(b: Bench, patients: int) -> int:
    """How many `tick`s `measure_all` makes (for the progress bar's total)."""
    from math import ceil

    chunks = ceil(patients / 200)
    return (4 * b.repeat + 4 * b.repeat + (1 + b.heavy_repeat) * chunks + b.repeat + 1
            + (2 + b.heavy_repeat) + b.repeat + (1 + b.heavy_repeat) + b.repeat + 4 * b.repeat + 1 + 1)
