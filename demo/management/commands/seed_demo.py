"""python manage.py seed_demo — demo sites, one login per role, and the demo patients."""

from django.core.management.base import BaseCommand

from core.roles import ROLE_LABELS
from demo.seeding.accounts import DEMO_PASSWORD
from demo.seeding.demo import seed_demo


class Command(BaseCommand):
    help = (
        "Load the demo data: the North and South Clinic sites, one login per role "
        f"(password {DEMO_PASSWORD!r}), the case-report patient of docs/clinical-rules.md and ~40 other "
        "patients. Idempotent: existing users and patients are left as they are."
    )

    def handle(self, *args, **options) -> None:
        result = seed_demo()
        s = result.stats
        if s.patients:
            self.stdout.write(self.style.SUCCESS(
                f"Demo data loaded: {s.patients} patients, {s.studies} studies "
                f"({s.final_studies} signed, {s.outbox} queued for alert evaluation), "
                f"{s.findings} findings."))
        else:
            self.stdout.write(f"Demo data already loaded ({result.skipped_patients} patients); "
                              "nothing changed.")
        case = result.case_report
        # Synthetic demo data: printing the case-report patient's name and MRN is the point.
        self.stdout.write(f"Case-report patient: {case.full_name}, MRN {case.mrn} "
                          f"({case.site.name}).")
        self.stdout.write("")
        rows = [("username", "role", "site", "password")] + [
            (u, ROLE_LABELS[r], site, DEMO_PASSWORD) for u, r, site in result.logins]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for n, row in enumerate(rows):
            self.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
        if len(result.users_created) < len(result.logins):
            self.stdout.write("(Existing demo users keep the password they have now.)")
