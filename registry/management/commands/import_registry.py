"""python manage.py import_registry FILE.csv [--dry-run] [--site CODE]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from patients.models import Site
from registry.importer import decode_upload, import_registry


class Command(BaseCommand):
    help = ("Import historical patients, treatment, studies and findings from a registry CSV "
            "(layout: docs/registry-csv.md). Validates every row first; writes nothing when "
            "any row has a problem; a re-run of the same file changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true",
                            help="Validate and report what would be created; write nothing.")
        parser.add_argument("--site", help="Site code for rows whose 'site' column is blank.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, file: Path, dry_run: bool, site: str | None, no_progress: bool,
               **options):
        default_site = None
        if site:
            default_site = Site.objects.filter(code=site).first()
            if default_site is None:
                raise CommandError(f"No site with code '{site}'.")
        try:
            text = decode_upload(file.read_bytes())
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        report = import_registry(text, dry_run=dry_run, default_site=default_site,
                                 progress=not no_progress and options["verbosity"] > 0)
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(f"{len(report.problems)} problem(s) in {file.name}; "
                               "nothing was written.")
