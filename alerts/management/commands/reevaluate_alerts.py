"""Re-evaluate every patient with the current thresholds, in chunks, showing progress.

    python manage.py reevaluate_alerts [--chunk-size N] [--in-process] [--no-wait]

By default each chunk is a Celery task (workers share them) and the bar follows the
chunks as workers finish them. `--in-process` evaluates the chunks here instead (no
broker needed). Already-raised alerts are never raised again: only new decisions alert.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from alerts.evaluation import reevaluate_chunk, reevaluation_start
from alerts.models import Reevaluation
from alerts.tasks import DEFAULT_CHUNK_SIZE, reevaluate_patients


class Command(BaseCommand):
    help = "Re-evaluate the alert rules for the whole cohort, in chunks of patients."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
                            help=f"Patients per chunk/task (default {DEFAULT_CHUNK_SIZE}).")
        parser.add_argument("--in-process", action="store_true",
                            help="Evaluate here instead of in Celery workers.")
        parser.add_argument("--no-wait", action="store_true",
                            help="Queue the chunks and return without following progress.")
        parser.add_argument("--timeout", type=int, default=3600,
                            help="Seconds to follow the workers' progress before giving up.")

    def handle(self, *args, chunk_size: int, in_process: bool, no_wait: bool, timeout: int,
               **options) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        run, chunks = reevaluation_start(chunk_size=chunk_size)
        self.stdout.write(f"Re-evaluation #{run.id}: {run.total_patients} patients in "
                          f"{len(chunks)} chunk(s) of up to {chunk_size}.")
        bar = tqdm(total=run.total_patients, unit="patient", disable=options["verbosity"] == 0)
        if in_process:
            for chunk in chunks:
                reevaluate_chunk(run.id, chunk)
                bar.update(len(chunk))
        else:
            try:
                for chunk in chunks:
                    reevaluate_patients.delay(run.id, chunk)
            except Exception as exc:
                raise CommandError(f"Could not queue the chunks ({exc}); is the broker running? "
                                   "Use --in-process to evaluate without workers.") from exc
            if no_wait:
                bar.close()
                self.stdout.write("Queued; follow it under Alerts › Re-evaluations in the admin.")
                return
            self._follow(run.id, bar, timeout)
        bar.close()
        run.refresh_from_db()
        self.stdout.write(self.style.SUCCESS(
            f"Done: {run.done_patients} patients evaluated, {run.failed_patients} failed, "
            f"{run.alerts_created} new alert(s)."))

    def _follow(self, run_id: int, bar: tqdm, timeout: int) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = Reevaluation.objects.get(id=run_id)
            bar.update(min(run.done_patients, run.total_patients) - bar.n)
            if run.done_patients >= run.total_patients:
                return
            time.sleep(0.5)
        raise CommandError(f"Gave up following after {timeout}s; the workers carry on.")
