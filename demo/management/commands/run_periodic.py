"""A minimal in-process beat for the demo without Redis (`Procfile.eager`).

Calls the function behind each `CELERY_BEAT_SCHEDULE` entry on its schedule, in this
process, so outbox rows left behind are still swept and the daily surveillance sweep still
runs. With Redis, `celery beat` does this.
"""

import logging
import time
from datetime import timedelta

from celery import current_app
from celery.schedules import schedule as every
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the beat schedule's tasks in this process (for the demo without a broker)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Run every task once and exit.")

    def handle(self, *args, once: bool, **options) -> None:

        current_app.loader.import_default_modules()
        started = timezone.now()
        entries = []  # [name, task, schedule, last run]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            sched = entry["schedule"]
            # Interval tasks run at start-up, as beat runs them; crontab tasks wait for their time.
            last_run = None if isinstance(sched, int | float) else started
            if isinstance(sched, int | float):
                sched = every(timedelta(seconds=sched))
            sched.app = current_app
            entries.append([name, current_app.tasks[entry["task"]], sched, last_run])
        self.stdout.write("Periodic tasks: " + ", ".join(f"{n} ({s})" for n, _, s, _ in entries))
        while True:
            wait = 60.0
            for entry in entries:
                name, task, sched, last_run = entry
                due, next_in = (True, 0.0) if last_run is None else sched.is_due(last_run)
                if due or once:
                    self._run(name, task)
                    entry[3] = timezone.now()
                wait = min(wait, max(0.5, next_in))
            if once:
                return
            time.sleep(wait)

    @staticmethod
    def _run(name: str, task) -> None:
        try:
            task.run()
        except Exception:
            logger.exception("periodic task %s failed", name)
