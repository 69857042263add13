"""python manage.py seed_cohort --patients N --seed S [--sites K] — a synthetic cohort."""

import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from demo.seeding.cohort import CohortExists, seed_cohort


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of must be a date like 2026-11-22, not {value!r}.") from exc


class Command(BaseCommand):
    help = (
        "Write a reproducible synthetic cohort (same --patients, --seed, --sites and --as-of "
        "give the same data) into its own sites cohort-1 .. cohort-K, signed by the user "
        "'cohort-radiologist' (who cannot log in). Demo logins and demo patients are never "
        "touched. If the cohort sites already hold patients the command refuses; --replace "
        "deletes them first (in the same transaction). The cohort's final studies get NO "
        "outbox rows, so the alert worker does not evaluate them one by one: run the alerts "
        "app's full-cohort re-evaluation for that."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, required=True, help="Number of patients.")
        parser.add_argument("--seed", type=int, required=True, help="Random seed.")
        parser.add_argument("--sites", type=int, default=1, help="Number of cohort sites (default 1).")
        parser.add_argument("--as-of", type=_as_of, default=None,
                            help="The 'today' the histories run up to (default: today).")
        parser.add_argument("--replace", action="store_true",
                            help="Delete the patients of the cohort sites before writing.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, patients: int, seed: int, sites: int, as_of: date | str | None,
               replace: bool, quiet: bool, **options) -> None:
        if isinstance(as_of, str):  # call_command() passes keyword options unparsed
            as_of = _as_of(as_of)
        if patients < 1:
            raise CommandError("--patients must be at least 1.")
        if sites < 1 or sites > patients:
            raise CommandError("--sites must be between 1 and the number of patients.")
        if as_of and as_of > timezone.localdate():
            raise CommandError("--as-of cannot be in the future: studies cannot be.")
        bar = tqdm(total=patients, unit="patient", file=sys.stderr, disable=quiet,
                   desc="seed_cohort")
        started = time.monotonic()
        try:
            result = seed_cohort(n=patients, seed=seed, sites=sites, today=as_of, replace=replace,
                                 on_patients=bar.update)
        except CohortExists as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        s = result.stats
        replaced = f" (replaced {result.deleted} patients)" if result.deleted else ""
        self.stdout.write(self.style.SUCCESS(
            f"Cohort written to {', '.join(result.sites)}{replaced}: {s.patients} patients, "
            f"{s.studies} studies, {s.findings} findings in {time.monotonic() - started:.1f} s."))
