"""A reproducible synthetic cohort for the cohort view and the benchmarks.

The cohort lives in its own sites (`cohort-1` … `cohort-K`) and is signed by its own
user (`cohort-radiologist`, who cannot log in), so it never touches the demo logins or
the demo patients. Its final studies get no outbox rows: ten thousand patients would
flood the alert worker; re-evaluate the cohort with the alerts app's full re-evaluation.
"""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils import timezone

from core import roles
from patients.models import Patient, Site

from .course import build_plan
from .fastwrite import delete_patients, write_plans_fast
from .plans import PatientPlan
from .sampling import sample_course
from .writer import Target, WriteStats

SITE_PREFIX = "cohort-"
SIGNER = "cohort-radiologist"


class CohortExists(Exception):
    """The cohort sites already hold patients and replacing them was not asked for."""


@dataclass
class CohortResult:
    stats: WriteStats
    deleted: int
    sites: list[str]


def cohort_sites(k: int) -> list[Site]:
    sites = []
    for i in range(1, k + 1):
        site, _ = Site.objects.get_or_create(code=f"{SITE_PREFIX}{i}",
                                             defaults={"name": f"Cohort Site {i}"})
        sites.append(site)
    return sites


def cohort_signer(sites: list[Site]) -> AbstractBaseUser:
    User = get_user_model()
    user = User.objects.filter(username=SIGNER).first()
    if user is None:
        user = User(username=SIGNER, first_name="Synthetic", last_name="Radiologist")
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=roles.RADIOLOGIST))
    for site in sites:
        site.members.add(user)
    return user


def cohort_plans(n: int, seed: int, sites: list[Site], signer_id: int, today: date
                 ) -> Iterator[tuple[PatientPlan, Target]]:
    """The same `n`, `seed`, site count and `today` always give the same plans."""
    rng = random.Random(seed)
    for i in range(n):
        k = i % len(sites)
        course = sample_course(rng, mrn=f"C{k + 1}-{i + 1:06d}", today=today)
        yield build_plan(course, today), Target(site_id=sites[k].id, signer_id=signer_id)


def existing_cohort() -> int:
    return Patient.objects.filter(site__code__startswith=SITE_PREFIX).count()


@transaction.atomic
def seed_cohort(*, n: int, seed: int, sites: int = 1, today: date | None = None,
                replace: bool = False, chunk_size: int = 1000,
                on_patients: Callable[[int], None] | None = None) -> CohortResult:
    """Write the cohort; refuses when cohort sites hold patients unless `replace`.

    With `replace`, every patient of every `cohort-*` site is deleted first, in the same
    transaction, so a failed run leaves the previous cohort in place.
    """
    today = today or timezone.localdate()
    deleted = existing_cohort()
    if deleted and not replace:
        raise CohortExists(
            f"The cohort sites already hold {deleted} patients. Run again with --replace to "
            "delete them and write the new cohort (demo patients are never touched)."
        )
    if deleted:
        # Follows every model's on_delete, so what other apps attach to these patients goes too.
        delete_patients(Patient.objects.filter(site__code__startswith=SITE_PREFIX))
    site_rows = cohort_sites(sites)
    signer = cohort_signer(site_rows)
    stats = write_plans_fast(cohort_plans(n, seed, site_rows, signer.id, today),
                             chunk_size=chunk_size, on_patients=on_patients)
    return CohortResult(stats=stats, deleted=deleted, sites=[s.code for s in site_rows])
