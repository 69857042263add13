"""python manage.py bench [--patients 10000] [--seed 1] [--repeat N] [--json PATH] [--reuse]
                         [--compare 10000,100000] [--compare-files A.json,B.json]

Seeds a synthetic cohort (`seed_cohort`), measures issue 9's items 1–8 and prints one
table with the targets and PASS/MISS, also written as JSON (var/bench/ by default).
Only runs against a database whose name contains "bench". See docs/performance.md.
"""

import json
import logging
import os
import platform
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import override_settings
from tqdm import tqdm

from bench import measure, prepare, report
from tracker.startup import freeze_startup_heap

DEFAULT_DIR = Path(settings.BASE_DIR) / "var" / "bench"
# Per-patient INFO lines (new alerts, logins) would flood the table and cost time.
QUIET_LOGGERS = ("alerts", "axes", "surveillance", "registry", "audit", "patients", "imaging")


def _quiet_logs() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # WhiteNoise warns once per middleware chain when STATIC_ROOT was never collected.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError as exc:
        raise CommandError(f"--compare takes cohort sizes like 10000,100000, not {value!r}.") from exc
    if len(sizes) < 2 or min(sizes) < 1:
        raise CommandError("--compare needs at least two cohort sizes, each at least 1.")
    return sizes


class Command(BaseCommand):
    help = "Benchmark the tracker on a synthetic cohort against the targets of issue 9."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=10_000, help="Cohort size (default 10,000).")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the cohort (default 1).")
        parser.add_argument("--repeat", type=int, default=20,
                            help="Runs of each request-sized measurement (default 20: the p95 "
                                 "is then the second slowest run, not the slowest).")
        parser.add_argument("--heavy-repeat", type=int, default=3,
                            help="Runs of each whole-cohort job: re-evaluation, sweep, import (default 3).")
        parser.add_argument("--import-patients", type=int, default=300,
                            help="Patients in the generated registry CSV, 10 studies each (default 300).")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                            help="Processes sharing the cohort re-evaluation's chunks, like Celery "
                                 "workers (default: the CPU count).")
        parser.add_argument("--skip", default="", metavar="NAME,…",
                            help="Measurements to leave out (their rows say so): "
                                 + ", ".join(measure.MEASUREMENTS) + ".")
        parser.add_argument("--json", type=Path, default=None,
                            help="Where to write the JSON (default var/bench/bench-<patients>.json).")
        parser.add_argument("--reuse", action="store_true",
                            help="Reuse the cohort in the database if it is exactly this one "
                                 "(same --patients and --seed); otherwise seed it.")
        parser.add_argument("--compare", type=_sizes, default=None, metavar="N1,N2",
                            help="Run at each cohort size and print the timings side by side.")
        parser.add_argument("--compare-files", default=None, metavar="A.json,B.json",
                            help="Print earlier JSON results side by side (measures nothing).")
        parser.add_argument("--quiet", action="store_true", help="No progress bars.")

    def handle(self, *args, **o) -> None:
        if o["compare_files"]:
            self._print_compare([json.loads(Path(p).read_text()) for p in o["compare_files"].split(",")])
            return
        name = connection.settings_dict.get("NAME") or ""
        try:
            prepare.check_database_name(str(name))
        except prepare.BenchRefused as exc:
            raise CommandError(str(exc)) from exc
        if o["repeat"] < 1 or o["heavy_repeat"] < 1 or o["patients"] < 1:
            raise CommandError("--patients, --repeat and --heavy-repeat must be at least 1.")
        unknown = {k for k in o["skip"].split(",") if k.strip()} - set(measure.MEASUREMENTS)
        if unknown:
            raise CommandError(f"--skip: unknown measurement(s) {', '.join(sorted(unknown))}; "
                               f"choose from {', '.join(measure.MEASUREMENTS)}.")
        _quiet_logs()
        if connection.vendor != "postgresql":
            self.stderr.write(self.style.WARNING(
                f"Measuring on {connection.vendor}, not PostgreSQL: the targets are for PostgreSQL."))
        if o["compare"]:
            runs = [self._run(dict(o, patients=n, json=None)) for n in o["compare"]]
            self._print_compare(runs)
            return
        self._run(o)

    def _run(self, o: dict) -> dict:
        # The bench's users have no authenticator app: the pages are measured after login,
        # not behind the second factor (which privileged roles need when the policy is on).
        # Pages name static files as they are: nothing is collected for the bench (the
        # page weight with collected files is tests/browser/test_page_weight.py's).
        plain = {**settings.STORAGES, "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        with override_settings(TWO_FACTOR_REQUIRED=False, STORAGES=plain):
            return self._measure(o)

    def _measure(self, o: dict) -> dict:
        quiet = o["quiet"]
        bar = tqdm(total=o["patients"], unit="patient", desc="seed cohort", file=sys.stderr,
                   disable=quiet)
        cohort = prepare.ensure_cohort(patients=o["patients"], seed=o["seed"], reuse=o["reuse"],
                                       on_patients=bar.update)
        bar.close()
        if cohort.reused:
            self.stderr.write(f"Reusing the cohort already seeded ({cohort.patients} patients, "
                              f"seed {cohort.seed}).")
        user, coordinator = prepare.bench_users(cohort.sites)
        patient = prepare.history_patient(seed=cohort.seed, as_of=cohort.as_of, sites=cohort.sites)
        b = measure.Bench(user=user, coordinator=coordinator, patient=patient, sites=cohort.sites,
                          as_of=cohort.as_of, repeat=o["repeat"], heavy_repeat=o["heavy_repeat"],
                          import_patients=o["import_patients"], workers=max(1, o["workers"]))
        patients, studies = prepare.cohort_counts()
        bar = tqdm(total=measure.ticks_for(b, patients), desc="measure", file=sys.stderr,
                   disable=quiet)

        def tick(label: str) -> None:
            bar.set_postfix_str(label, refresh=False)
            bar.update()

        b.tick = tick
        # As each gunicorn worker does once it has loaded the app (gunicorn.conf.py).
        freeze_startup_heap()
        rows = measure.measure_all(b, skip=[k for k in o["skip"].split(",") if k.strip()])
        bar.close()
        # Counted again: the incremental evaluation added a few studies.
        patients, studies = prepare.cohort_counts()
        meta = self._meta(o, patients, studies)
        path = o["json"] or DEFAULT_DIR / f"bench-{o['patients']}.json"
        if meta["database_settings"]:
            self.stdout.write("Database session settings: " + ", ".join(
                f"{k}={v}" for k, v in meta["database_settings"].items())
                + " (docs/deployment.md recommends jit=off, and work_mem=64MB for the workers).")
        for line in report.table_lines(rows, patients=patients, studies=studies, repeat=o["repeat"]):
            self.stdout.write(line)
        report.write_json(path, rows, meta)
        self.stdout.write(f"JSON: {path}")
        return {"meta": meta, "rows": [r.as_dict() for r in rows]}

    def _meta(self, o: dict, patients: int, studies: int) -> dict:
        with connection.cursor() as cursor:
            version, database_settings = "", {}
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
                version = cursor.fetchone()[0]
                # The deployment's tuning (DATABASE_PG_OPTIONS or ALTER ROLE): the figures
                # depend on it, so the report says what it ran with.
                for setting in ("jit", "work_mem"):
                    cursor.execute(f"SHOW {setting}")
                    database_settings[setting] = cursor.fetchone()[0]
        return {
            "patients": patients, "studies": studies, "seeded_patients": o["patients"],
            "seed": o["seed"], "repeat": o["repeat"], "heavy_repeat": o["heavy_repeat"],
            "workers": o["workers"],
            "database": connection.vendor, "database_version": version,
            "database_settings": database_settings,
            "django": django.get_version(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def _print_compare(self, runs: list[dict]) -> None:
        self.stdout.write("")
        for line in report.compare_lines(runs):
            self.stdout.write(line)
