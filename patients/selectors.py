"""Finding patients: the list's search, the API's MRN lookup, possible duplicates.

Every function takes a queryset the caller has already scoped to the user's sites
(`patients.access.patients_for`) or a site the user belongs to, and adds a fixed number
of conditions: the query count does not depend on what was typed.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import F, Func, Q, QuerySet, Value
from django.db.models.functions import Replace, Upper

from .models import Patient, Site

# Punctuation people put in MRNs ("NC-100001", "NC 100001", "NC.100001", "NC/100001").
MRN_PUNCTUATION = ("-", " ", ".", "/", "_")
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_SLASHED = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")  # day/month/year, as the UK writes
_WORDS = re.compile(r"\b(\d{1,2}) ([A-Za-z]{3,9})\.? (\d{4})\b")  # "14 Mar 1966", the list's format


def mrn_key(value: str) -> str:
    """An MRN without punctuation, in capitals: "nc-100001" → "NC100001"."""
    key = value.upper()
    for mark in MRN_PUNCTUATION:
        key = key.replace(mark, "")
    return key


def _mrn_key_expression() -> Func:
    expression: Func = Upper(F("mrn"))
    for mark in MRN_PUNCTUATION:
        expression = Replace(expression, Value(mark), Value(""))
    return expression


def with_mrn_key(qs: QuerySet[Patient]) -> QuerySet[Patient]:
    return qs.annotate(mrn_key=_mrn_key_expression())


@dataclass(frozen=True)
class Search:
    """What was typed in the list's search box, read: a date of birth and words."""

    born: date | None
    words: tuple[str, ...]
    unreadable_date: bool = False


def _month(name: str) -> int | None:
    for fmt in ("%b", "%B"):
        try:
            return datetime.strptime(name[:3] if fmt == "%b" else name, fmt).month
        except ValueError:
            continue
    return None


def read_search(q: str) -> Search:
    """A date of birth (ISO "1966-03-14", "14/03/1966" or "14 Mar 1966") and the other
    words, commas dropped ("Marsh, Helen" is the list's own way of writing a name)."""
    born, unreadable = None, False
    for pattern, order in ((_ISO, "ymd"), (_SLASHED, "dmy"), (_WORDS, "dMy")):
        match = pattern.search(q)
        if not match:
            continue
        parts = dict(zip(order, match.groups(), strict=True))
        month = int(parts["m"]) if "m" in parts else _month(parts["M"])
        try:
            born = date(int(parts["y"]), month or 0, int(parts["d"]))
        except ValueError:
            unreadable = True
        q = q[:match.start()] + " " + q[match.end():]
        break
    words = tuple(w for w in (word.strip(",;") for word in q.split()) if w)
    return Search(born=born, words=words, unreadable_date=unreadable)


def search_patients(qs: QuerySet[Patient], q: str) -> QuerySet[Patient]:
    """Patients of `qs` matching every word of `q` (by name, or by MRN with or without its
    prefix and punctuation) and the date of birth it holds."""
    search = read_search(q)
    if search.unreadable_date:
        return qs.none()
    if search.born:
        qs = qs.filter(date_of_birth=search.born)
    if any(mrn_key(w) for w in search.words):
        qs = with_mrn_key(qs)
    for word in search.words:
        key = mrn_key(word)
        match = (Q(family_name__icontains=word) | Q(given_name__icontains=word)
                 | Q(mrn__istartswith=word))
        if key:
            match |= Q(mrn_key__startswith=key)
            if key.isdigit():  # "100001" finds "NC-100001": the site's letters left out
                match |= Q(mrn_key__regex=rf"^[A-Z]+{key}")
        qs = qs.filter(match)
    return qs


def patients_by_mrn(qs: QuerySet[Patient], mrn: str) -> QuerySet[Patient]:
    """Patients of `qs` whose MRN is `mrn`, punctuation and case aside; with the site's
    letters too when `mrn` is only digits."""
    key = mrn_key(mrn.strip())
    if not key:
        return qs.none()
    match = Q(mrn_key=key)
    if key.isdigit():
        match |= Q(mrn_key__regex=rf"^[A-Z]+{key}$")
    return with_mrn_key(qs).filter(match)


def possible_duplicates(*, site: Site, given_name: str, family_name: str, date_of_birth: date,
                        mrn: str, exclude_pk: int | None = None) -> QuerySet[Patient]:
    """Patients of `site` with the same names (case and surrounding spaces aside) and date
    of birth under another MRN: perhaps the same woman registered twice."""
    qs = (Patient.objects.filter(site=site, date_of_birth=date_of_birth,
                                 given_name__iexact=given_name.strip(),
                                 family_name__iexact=family_name.strip())
          .exclude(mrn=mrn))
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("id")
