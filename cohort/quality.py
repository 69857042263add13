"""Programme quality measures: pure functions from rows and counts to figures (no ORM).

The database side is `cohort/quality_selectors.py`; the page, the CSV and the API show
what `quality_report` returns, so they agree by construction. Definitions (docs/cohort.md,
"Programme quality"):

- **Timeliness** of a start (an alert raised; a post-surgical BI-RADS 0, 4 or 5) to its
  acknowledgement and its resolution, in calendar days (local dates). *Resolved within N
  days* counts the starts at least N days old on the report date, so a start still inside
  its window is not counted as late.
- **Biopsy follow-through**: from the order (an alert resolved as biopsy ordered) to the
  biopsy whose histology is recorded; follow-ups past their due date without a result.
- **Adherence**: scheduled exams done within their window, among those whose window has
  closed (cancelled ones left out), by year of follow-up since surgery.
- **Overdue / lost**: patients with a surveillance plan who have an overdue exam today, and
  those lost to follow-up.
- **Alert outcomes per rule**: the resolution mix, and among the alerts whose biopsy has
  a result the share malignant (DCIS or invasive): the rule's positive predictive value.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median
from typing import NamedTuple

from .stats import Estimate, wilson

WINDOWS = (30, 60, 90)
FOLLOW_UP_YEARS = tuple(range(1, 11))
YEAR = timedelta(days=365.25)
MALIGNANT = frozenset({"dcis", "invasive"})


class Start(NamedTuple):
    """Something that needs follow-up: started on `day`, acknowledged and resolved (or not).

    A named tuple, not a frozen dataclass: the measures build one per alert of the cohort
    (~30,000 at 100,000 patients) and a frozen dataclass's `__init__` was a tenth of the
    report's time there."""

    day: date
    acknowledged: date | None = None
    resolved: date | None = None


@dataclass(frozen=True)
class Timeliness:
    n: int
    acknowledged: int
    median_days_to_acknowledge: float | None
    resolved: int
    median_days_to_resolve: float | None
    # window (days) → (resolved within it, starts at least that old), and as an estimate
    within: dict[int, tuple[int, int]]

    def share_within(self, days: int) -> Estimate:
        done, total = self.within[days]
        return wilson(done, total)


def timeliness(starts: Iterable[Start], as_of: date) -> Timeliness:
    """`starts`: anything with `day`, `acknowledged` and `resolved` dates (a `Start`, an
    alert row). One pass over day numbers (ordinals): at 100,000 patients the cohort's
    ~30,000 alerts go through here twice, and date subtraction was most of its time."""
    today = as_of.toordinal()
    ack_days: list[int] = []
    resolve_days: list[int] = []
    done = dict.fromkeys(WINDOWS, 0)
    total = dict.fromkeys(WINDOWS, 0)
    n = 0
    for s in starts:
        n += 1
        day = s.day.toordinal()
        if s.acknowledged is not None:
            ack_days.append(s.acknowledged.toordinal() - day)
        took = None if s.resolved is None else s.resolved.toordinal() - day
        if took is not None:
            resolve_days.append(took)
        age = today - day
        for window in WINDOWS:
            if age >= window:
                total[window] += 1
                if took is not None and took <= window:
                    done[window] += 1
    return Timeliness(
        n=n, acknowledged=len(ack_days),
        median_days_to_acknowledge=float(median(ack_days)) if ack_days else None,
        resolved=len(resolve_days),
        median_days_to_resolve=float(median(resolve_days)) if resolve_days else None,
        within={w: (done[w], total[w]) for w in WINDOWS},
    )


@dataclass(frozen=True)
class Adherence:
    """Per year of follow-up: (done within the window, windows closed)."""

    by_year: dict[int, tuple[int, int]]

    @property
    def done(self) -> int:
        return sum(d for d, _ in self.by_year.values())

    @property
    def total(self) -> int:
        return sum(t for _, t in self.by_year.values())

    @property
    def overall(self) -> Estimate:
        return wilson(self.done, self.total)

    def year(self, year: int) -> Estimate:
        done, total = self.by_year.get(year, (0, 0))
        return wilson(done, total)


def adherence_from_cumulative(done_before: Sequence[int], total_before: Sequence[int]) -> Adherence:
    """Per-year counts from cumulative ones: element k counts the items due before the end
    of year k + 1 of follow-up (the database counts those in one pass)."""
    by_year, prev_done, prev_total = {}, 0, 0
    for year, done, total in zip(FOLLOW_UP_YEARS, done_before, total_before, strict=True):
        by_year[year] = (done - prev_done, total - prev_total)
        prev_done, prev_total = done, total
    return Adherence(by_year)


@dataclass(frozen=True)
class PlanStatus:
    patients: int  # with a surveillance plan
    overdue: int  # with an exam overdue today
    lost: int  # lost to follow-up

    @property
    def overdue_rate(self) -> Estimate:
        return wilson(self.overdue, self.patients)

    @property
    def lost_rate(self) -> Estimate:
        return wilson(self.lost, self.patients)


@dataclass(frozen=True)
class BiopsyFollowThrough:
    """Biopsies ordered by an alert's resolution: order to result, and those late."""

    timeliness: Timeliness  # from the order to the biopsy date, once the histology is recorded
    overdue: int  # no result, past the due date


def biopsy_follow_through(rows: Iterable[tuple[date, date, date | None]], as_of: date) -> BiopsyFollowThrough:
    """`rows`: (ordered on, result due, biopsy date when the histology is recorded)."""
    rows = list(rows)
    return BiopsyFollowThrough(
        timeliness=timeliness((Start(day=o, acknowledged=None, resolved=b) for o, _, b in rows), as_of),
        overdue=sum(1 for _, due, b in rows if b is None and as_of > due))


@dataclass(frozen=True)
class GroupMeasures:
    key: str
    label: str
    alerts: Timeliness
    abnormal: Timeliness
    biopsies: BiopsyFollowThrough
    adherence: Adherence | None  # None where it does not apply (grouped by radiologist)
    status: PlanStatus | None  # None where it does not apply (by radiologist or year)


class AlertOutcome(NamedTuple):
    """One alert as the per-rule outcome reads it (a named tuple, as `Start`)."""

    rule: str
    state: str
    resolution: str
    histology: str = ""  # of its biopsy follow-up, when one has a result


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    n: int
    states: dict[str, int]
    resolutions: dict[str, int]
    biopsied: int  # biopsies with a result
    malignant: int

    @property
    def ppv(self) -> Estimate:
        return wilson(self.malignant, self.biopsied)


def rule_outcomes(alerts: Iterable[AlertOutcome], rules: Sequence[str]) -> list[RuleOutcome]:
    """One row per rule of `rules` (in that order), then any other rule met in the data.

    `alerts`: `AlertOutcome`s, or any rows with their four fields (the selectors pass their
    alert rows as they are)."""
    by_rule: dict[str, list[AlertOutcome]] = {}
    for a in alerts:
        by_rule.setdefault(a.rule, []).append(a)
    ordered = [r for r in rules if r in by_rule] + sorted(set(by_rule) - set(rules))
    out = []
    for rule in ordered:
        rows = by_rule[rule]
        states: dict[str, int] = {}
        resolutions: dict[str, int] = {}
        for a in rows:
            states[a.state] = states.get(a.state, 0) + 1
            if a.resolution:
                resolutions[a.resolution] = resolutions.get(a.resolution, 0) + 1
        with_result = [a for a in rows if a.histology]
        out.append(RuleOutcome(rule=rule, n=len(rows), states=states, resolutions=resolutions,
                               biopsied=len(with_result),
                               malignant=sum(1 for a in with_result if a.histology in MALIGNANT)))
    return out


@dataclass(frozen=True)
class QualityReport:
    as_of: date
    group_by: str
    groups: list[GroupMeasures]
    overall: GroupMeasures
    rules: list[RuleOutcome]
    adherence_as_of: date | None = None  # the day of the adherence snapshot
    filters: dict = field(default_factory=dict)
