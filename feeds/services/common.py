"""What every message type's processing shares: the site, the patient identity, the outcome."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model, OuterRef, QuerySet, Subquery

from patients.models import NacCourse, Patient, Site, Surgery

from ..models import FeedSource, Message, ProcedureCode
from ..parsing import Reader, error, parse_date, reject

M = TypeVar("M", bound=Model)

FEED_USERNAME = "hl7-feed"
CONFIG_SECONDS = 10


@dataclass
class Outcome:
    """What processing did: the message's status, and the reason shown in the log / ACK."""

    status: str = Message.Status.PROCESSED
    detail: str = ""
    hold_reason: str = ""
    patient: Patient | None = None
    study_id: int | None = None

    @classmethod
    def held(cls, reason: str, detail: str, patient: Patient | None = None) -> "Outcome":
        return cls(status=Message.Status.HELD, hold_reason=reason, detail=detail, patient=patient)


@dataclass(frozen=True)
class Identity:
    """The patient a message is about, as the message gives her (PID)."""

    mrn: str
    family_name: str
    given_name: str
    date_of_birth: date | None


class Cached:
    """A value read from the database at most every `seconds` per process: the feed's
    configuration is read for every message (≥ 200 a second) and changes a few times a
    year. An admin's change applies within `seconds`."""

    def __init__(self, load: Callable[[], Any], seconds: float = CONFIG_SECONDS):
        self.load, self.seconds = load, seconds
        self.value, self.until = None, 0.0
        self.lock = threading.Lock()

    def get(self) -> Any:
        with self.lock:
            if time.monotonic() >= self.until:
                self.value, self.until = self.load(), time.monotonic() + self.seconds
            return self.value

    def clear(self) -> None:
        with self.lock:
            self.until = 0.0


def _load_feed_user() -> AbstractBaseUser:
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=FEED_USERNAME, defaults={"first_name": "HL7", "last_name": "feed", "is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


_FEED_USER = Cached(_load_feed_user)
_SOURCES = Cached(lambda: list(FeedSource.objects.select_related("site")))
_PROCEDURES = Cached(lambda: {p.code: p for p in ProcedureCode.objects.all()})


def feed_user() -> AbstractBaseUser:
    """The account the feed acts as (created_by of its drafts, actor of its audit events).
    It cannot log in: no password, inactive."""
    return _FEED_USER.get()


def procedure_codes() -> dict[str, ProcedureCode]:
    return _PROCEDURES.get()


def clear_configuration() -> None:
    """Forget the cached configuration (tests; an admin's change otherwise applies within
    CONFIG_SECONDS)."""
    for cached in (_FEED_USER, _SOURCES, _PROCEDURES):
        cached.clear()


def source_for(facility: str, reader: Reader) -> tuple[FeedSource, str]:
    """The configured source of a message and the PID-3 repetition to read the MRN from.

    A source for (facility, authority) wins over one for the facility alone; no source, or an
    inactive one, is a rejection the sender's interface team can act on.
    """
    sources = [s for s in _SOURCES.get() if s.sending_facility == facility]
    if not sources:
        raise reject(f"Sending facility '{facility}' (MSH-4) is not configured: an administrator maps "
                     "it to a site under Hospital feeds › Feed sources.", "MSH-4")
    authorities = [reader.value("PID", 3, rep, 4) for rep in range(1, reader.reps("PID", 3) + 1)]
    for source in sources:
        if source.assigning_authority and source.assigning_authority in authorities:
            chosen = source
            break
    else:
        chosen = next((s for s in sources if not s.assigning_authority), None)
        if chosen is None:
            wanted = ", ".join(sorted(s.assigning_authority for s in sources))
            raise error(f"No identifier in PID-3 is assigned by {wanted}, the authority configured for "
                        f"facility '{facility}'.", "PID-3")
    if not chosen.is_active:
        raise reject(f"The feed from '{facility}' is switched off by an administrator.", "MSH-4")
    rep = (authorities.index(chosen.assigning_authority) + 1) if chosen.assigning_authority else 1
    return chosen, str(rep)


def identity(reader: Reader, rep: str, *, segment: str = "PID") -> Identity:
    """The MRN (PID-3), name (PID-5) and date of birth (PID-7); AE when the MRN is missing."""
    mrn = reader.value(segment, 3, int(rep), 1)
    if not mrn:
        raise error("PID-3 carries no medical record number.", "PID-3")
    if len(mrn) > 32:
        raise error(f"The medical record number in PID-3 is {len(mrn)} characters; the tracker keeps "
                    "at most 32.", "PID-3")
    raw_dob = reader.value(segment, 7)
    dob = parse_date(raw_dob) if raw_dob else None
    if raw_dob and dob is None:
        raise error(f"PID-7 (date of birth) '{raw_dob[:20]}' is not an HL7 date (YYYYMMDD).", "PID-7")
    return Identity(mrn=mrn, family_name=reader.value(segment, 5, 1, 1)[:100],
                    given_name=reader.value(segment, 5, 1, 2)[:100], date_of_birth=dob)


# Read with the patient (one query, not three): a new study's phase comes from them.
TREATMENT_DATES = {
    "first_surgery": Subquery(Surgery.objects.filter(patient=OuterRef("pk")).order_by("date")
                              .values("date")[:1]),
    "nac_start": Subquery(NacCourse.objects.filter(patient=OuterRef("pk")).order_by("start_date")
                          .values("start_date")[:1]),
    "nac_end": Subquery(NacCourse.objects.filter(patient=OuterRef("pk"), end_date__isnull=False)
                        .order_by("-end_date").values("end_date")[:1]),
}


_per_thread = threading.local()


def _patients_with_dates() -> QuerySet[Patient]:
    """Patients locked, with their treatment dates: built once per thread (the listener's
    thread of a connection serves every message on it). Resolving the three subqueries for
    every message cost ~0.5 ms of CPU of the ~11 ms a report took (docs/performance.md,
    row 9); each lookup filters a clone. Not shared between threads: compiling a query
    touches the bookkeeping of its subqueries, which clones share."""
    queryset = getattr(_per_thread, "patients", None)
    if queryset is None:
        queryset = Patient.objects.select_for_update(of=("self",)).annotate(**TREATMENT_DATES)
        _per_thread.patients = queryset
    return queryset


def unique_row(queryset: QuerySet[M]) -> M | None:
    """The row of a lookup by a unique key, or None. Not `.first()`: its ORDER BY (the model's
    ordering, or the primary key) orders one row and was compiled for every message (with
    the patient query built once, 1.6 → 0.9 ms of CPU for that query, busy machine)."""
    rows = list(queryset.order_by()[:1])
    return rows[0] if rows else None


def find_patient(site: Site, who: Identity) -> tuple[Patient | None, Outcome | None]:
    """The site's patient with this MRN, locked; or the hold that says why there is none.

    An MRN whose patient has another date of birth is held, never trusted: filing a report
    under the wrong patient is the worst mistake a feed can make.
    """
    patient = unique_row(_patients_with_dates().filter(site=site, mrn=who.mrn))
    if patient is None:
        return None, Outcome.held(Message.HoldReason.UNMATCHED,
                                  "No patient with this MRN at the site: match her to a patient or "
                                  "register her.")
    if who.date_of_birth and patient.date_of_birth != who.date_of_birth:
        return None, Outcome.held(Message.HoldReason.DOB_MISMATCH,
                                  "A patient has this MRN but another date of birth: check which "
                                  "patient the message is about.", patient=None)
    return patient, None
