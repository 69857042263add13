"""Run the daily surveillance sweep and digests now (what beat does at 06:00).

    manage.py surveillance_daily            # in this process, every plan included
    manage.py surveillance_daily --enqueue  # on the running Celery workers (a first sweep's
                                            # plans spread over them in chunks)
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Sweep the surveillance plans (transitions, alerts, completion) and send the daily digests."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Day to sweep as (YYYY-MM-DD); default today.")
        parser.add_argument("--enqueue", action="store_true", help="Send the task to the Celery worker.")

    def handle(self, *args, **options):
        from surveillance.tasks import daily_sweep_and_digest

        day = options["date"]
        if day:
            try:
                date.fromisoformat(day)
            except ValueError as exc:
                raise CommandError(f"--date must be YYYY-MM-DD, not {day!r}.") from exc
        if options["enqueue"]:
            daily_sweep_and_digest.delay(day)
            self.stdout.write("Enqueued the daily surveillance task for the worker.")
            return
        result = daily_sweep_and_digest(day, fan_out=False)
        self.stdout.write(f"Sweep: {result['sweep']}")
        self.stdout.write(f"Digests: {result['digests']}")
