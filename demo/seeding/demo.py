"""`seed_demo`: two sites, one login per role, the case-report patient and ~40 others.

Idempotent: sites and users are looked up before they are created, and a patient whose
MRN already exists at its site is left exactly as it is, so a second run writes nothing.
Every final study gets its outbox row in the same transaction, so the alerts worker's
outbox sweep evaluates every demo patient.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone

from feeds.models import FeedSource
from patients.models import Patient, Site

from .accounts import DEMO_LOGINS, ensure_logins, ensure_sites
from .course import build_plan
from .demo_roster import CASE_REPORT_MRN, roster
from .outreach import seed_contacts, seed_letter_templates
from .writer import Target, WriteStats, write_plans


@dataclass
class DemoResult:
    stats: WriteStats
    users_created: list[str]
    skipped_patients: int
    case_report: Patient
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, site


@transaction.atomic
def seed_demo(*, today: date | None = None) -> DemoResult:
    today = today or timezone.localdate()
    sites = ensure_sites()
    ensure_feed_sources(sites)
    users, created = ensure_logins(sites)
    signers = {"north": users["radiologist"], "south": users["radiologist2"]}
    existing = set(Patient.objects.filter(site__in=sites.values()).values_list("site__code", "mrn"))
    todo, skipped = [], 0
    for code, course in roster(today):
        if (code, course.mrn) in existing:
            skipped += 1
            continue
        target = Target(site_id=sites[code].id, signer_id=signers[code].id,
                        created_by_id=users["staff"].id if code == "north" else signers[code].id)
        todo.append((build_plan(course, today), target))
    stats = write_plans(todo, outbox=True, validate=True)
    seed_contacts(sites)
    seed_letter_templates(sites)
    case = Patient.objects.get(site=sites["north"], mrn=CASE_REPORT_MRN)
    logins = [(x.username, x.role, sites[x.site_code].name) for x in DEMO_LOGINS]
    return DemoResult(stats=stats, users_created=created, skipped_patients=skipped, case_report=case,
                      logins=logins)


# The demo hospital's radiology system: docs/hl7.md sends its example messages as NORTH_RIS.
DEMO_FEEDS = (("north", "NORTH_RIS"), ("south", "SOUTH_RIS"))


def ensure_feed_sources(sites: dict[str, Site]) -> None:
    for code, facility in DEMO_FEEDS:
        FeedSource.objects.get_or_create(sending_facility=facility, assigning_authority="",
                                         defaults={"site": sites[code], "note": "demo"})
