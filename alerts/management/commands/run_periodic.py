"""A minimal in-process beat for the demo without Redis (`Procfile.eager`).

Calls the function behind each `CELERY_BEAT_SCHEDULE` entry on its schedule, in this
process, so outbox rows left behind are still swept. With Redis, `celery beat` does this.
"""

import logging
import time

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the beat schedule's tasks in this process (for the demo without a broker)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Run every task once and exit.")

    def handle(self, *args, once: bool, **options) -> None:
        import tracker.celery  # noqa: F401  (registers the tasks)

        current_app.loader.import_default_modules()
        entries = []
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            schedule = entry["schedule"]
            if not isinstance(schedule, int | float):
                raise CommandError(f"{name}: only schedules in seconds are supported here.")
            task = current_app.tasks[entry["task"]]
            entries.append([name, task, float(schedule), 0.0])
        self.stdout.write("Periodic tasks: " + ", ".join(f"{n} every {s:g}s" for n, _, s, _ in entries))
        while True:
            now = time.monotonic()
            for entry in entries:
                name, task, every, due = entry
                if now >= due:
                    try:
                        task.run()
                    except Exception:
                        logger.exception("periodic task %s failed", name)
                    entry[3] = now + every
            if once:
                return
            time.sleep(max(0.5, min(e[3] for e in entries) - time.monotonic()))
