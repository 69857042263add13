"""The surveillance schedule as pure functions: dates in, planned items out. No ORM.

docs/clinical-rules.md, "Surveillance schedule". Cadences come in as `ProtocolRules` (from a
`Protocol` row, or `DEFAULT_RULES` in tests); the patient's anchors and risk flags as
`PlanInputs`.
"""

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

CLINICAL_EXAM = "clinical_exam"
MAMMOGRAM = "mammogram"
DIAGNOSTIC_MAMMOGRAM = "diagnostic_mammogram"
MRI = "mri"
IMAGING_KINDS = (MAMMOGRAM, DIAGNOSTIC_MAMMOGRAM, MRI)

UPCOMING, DUE, OVERDUE, DONE, CANCELLED = "upcoming", "due", "overdue", "done", "cancelled"
SUPERSEDED = "superseded"  # generated from treatment dates since corrected or voided
LEFT, RIGHT, BILATERAL = "left", "right", "bilateral"
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class ProtocolRules:
    duration_years: int = 10
    exam_early_interval_months: int = 4
    exam_early_until_year: int = 2
    exam_mid_interval_months: int = 6
    exam_mid_until_year: int = 5
    exam_late_interval_months: int = 12
    mammo_after_diagnosis_months: int = 12
    mammo_after_rt_months: int = 6
    mammo_interval_months: int = 12
    residual_interval_months: int = 6
    residual_duration_years: int = 2
    mri_interval_months: int = 12
    mri_offset_months: int = 6
    high_risk_compositions: frozenset[str] = frozenset("cd")
    high_risk_max_age_at_diagnosis: int = 50
    high_risk_lifetime_percent: float = 20.0
    due_lead_days: int = 30
    grace_days: int = 60
    lost_after_months: int = 12
    window_max_days: int = 183


DEFAULT_RULES = ProtocolRules()


@dataclass(frozen=True)
class PlanInputs:
    """What a patient's plan depends on. `surgery_*` describe the latest (definitive) surgery."""

    surgery_date: date
    procedure: str  # "BCS" | "mastectomy"
    surgery_laterality: str  # left | right | bilateral
    date_of_birth: date
    rt_end_date: date | None = None
    diagnosis_date: date | None = None
    diagnosis_mammogram_date: date | None = None
    residual_calcifications_in_place: bool = False
    latest_breast_composition: str = ""
    pathogenic_variant: bool = False
    chest_radiation_before_30: bool = False
    lifetime_risk_percent: float | None = None


@dataclass(frozen=True)
class PlannedItem:
    kind: str
    laterality: str
    due_date: date
    interval_months: int
    due_from: date = field(compare=False)
    overdue_after: date = field(compare=False)
    window_start: date = field(compare=False)
    window_end: date = field(compare=False)
    lost_after_date: date = field(compare=False)


def add_months(d: date, months: int) -> date:
    """`d` plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    total = d.month - 1 + months
    year, month = d.year + total // 12, total % 12 + 1
    if d.day <= 28:  # every month has the day: no calendar lookup (a first sweep makes millions)
        return date(year, month, d.day)
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def age_on(date_of_birth: date, on: date) -> int:
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def high_risk_reasons(inputs: PlanInputs, rules: ProtocolRules = DEFAULT_RULES) -> list[str]:
    """Why the patient gets yearly MRI (empty when she is not high-risk)."""
    reasons = []
    if inputs.latest_breast_composition and inputs.latest_breast_composition in rules.high_risk_compositions:
        reasons.append(f"breast composition {inputs.latest_breast_composition}")
    diagnosed = inputs.diagnosis_date or inputs.surgery_date
    if age_on(inputs.date_of_birth, diagnosed) <= rules.high_risk_max_age_at_diagnosis:
        reasons.append(f"diagnosed at {rules.high_risk_max_age_at_diagnosis} or younger")
    if inputs.pathogenic_variant:
        reasons.append("pathogenic variant")
    if inputs.chest_radiation_before_30:
        reasons.append("chest radiation before 30")
    risk = inputs.lifetime_risk_percent
    if risk is not None and risk >= rules.high_risk_lifetime_percent:
        reasons.append(f"lifetime risk ≥ {rules.high_risk_lifetime_percent:g}%")
    return reasons


def ends_on(inputs: PlanInputs, rules: ProtocolRules = DEFAULT_RULES) -> date:
    return add_months(inputs.surgery_date, rules.duration_years * 12)


def other_breast(laterality: str) -> str:
    return {LEFT: RIGHT, RIGHT: LEFT}.get(laterality, "")


def imaged_breasts(inputs: PlanInputs) -> str:
    """Breasts left to image: both after BCS, the other one after a unilateral mastectomy."""
    if inputs.procedure == "BCS":
        return BILATERAL
    return other_breast(inputs.surgery_laterality)


def first_mammogram_date(inputs: PlanInputs, rules: ProtocolRules = DEFAULT_RULES) -> date:
    """The later of diagnosis mammogram + 12 months and RT end (or surgery) + 6 months."""
    diagnosis = inputs.diagnosis_mammogram_date or inputs.diagnosis_date or inputs.surgery_date
    after_treatment = inputs.rt_end_date or inputs.surgery_date
    return max(add_months(diagnosis, rules.mammo_after_diagnosis_months),
               add_months(after_treatment, rules.mammo_after_rt_months))


def exam_offsets(rules: ProtocolRules = DEFAULT_RULES) -> list[int]:
    """Months after surgery of the clinical exams (4-monthly, then 6-monthly, then yearly)."""
    offsets: list[int] = []
    m, end = 0, rules.duration_years * 12
    while True:
        year = m // 12 + 1
        if year <= rules.exam_early_until_year:
            m += rules.exam_early_interval_months
        elif year <= rules.exam_mid_until_year:
            m += rules.exam_mid_interval_months
        else:
            m += rules.exam_late_interval_months
        if m > end:
            return offsets
        offsets.append(m)


def make_item(kind: str, laterality: str, due_date: date, interval_months: int,
              rules: ProtocolRules = DEFAULT_RULES, *, window_start: date | None = None,
              window_end: date | None = None) -> PlannedItem:
    """An item with its state dates. Its matching window defaults to half its interval
    either side (at most `window_max_days`); `series_items` makes a series' windows tile."""
    half = timedelta(days=min(round(interval_months * DAYS_PER_MONTH / 2), rules.window_max_days))
    overdue_after = due_date + timedelta(days=rules.grace_days)
    return PlannedItem(
        kind=kind, laterality=laterality, due_date=due_date, interval_months=interval_months,
        due_from=due_date - timedelta(days=rules.due_lead_days), overdue_after=overdue_after,
        window_start=window_start or due_date - half, window_end=window_end or due_date + half,
        lost_after_date=lost_after(overdue_after, rules),
    )


def series_items(kind: str, laterality: str, dues: Sequence[tuple[date, int]],
                 rules: ProtocolRules = DEFAULT_RULES) -> list[PlannedItem]:
    """Items of one series (due date, interval). Neighbours' windows meet half-way, with
    no gap and no overlap, so every date near the series belongs to exactly one item."""
    cap = timedelta(days=rules.window_max_days)
    items = []
    for n, (due, interval) in enumerate(dues):
        start = end = None
        if n > 0:
            prev = dues[n - 1][0]
            start = max(prev + timedelta(days=(due - prev).days // 2 + 1), due - cap)
        if n + 1 < len(dues):
            end = min(due + timedelta(days=(dues[n + 1][0] - due).days // 2), due + cap)
        items.append(make_item(kind, laterality, due, interval, rules, window_start=start, window_end=end))
    return items


def _series(first: date, interval_months: int, until: date) -> list[date]:
    dates, n = [], 0
    while (d := add_months(first, n * interval_months)) <= until:
        dates.append(d)
        n += 1
    return dates


def plan_items(inputs: PlanInputs, rules: ProtocolRules = DEFAULT_RULES) -> list[PlannedItem]:
    """Every item of the patient's surveillance period, in date order.

    1. Clinical exams from the surgery date (cadence by year of surveillance).
    2. Mammograms from `first_mammogram_date`, yearly: both breasts after BCS, the other
       breast after a unilateral mastectomy, none after a bilateral one.
    3. Residual suspicious calcifications left in place (BCS): diagnostic mammograms of the
       treated breast every 6 months for 2 years after surgery.
    4. High-risk patients: MRI yearly, offset 6 months from the mammograms.
    """
    end = ends_on(inputs, rules)
    items: list[PlannedItem] = []
    exams = [(add_months(inputs.surgery_date, m), _exam_interval_at(m, rules)) for m in exam_offsets(rules)]
    items += series_items(CLINICAL_EXAM, "", exams, rules)
    breasts = imaged_breasts(inputs)
    first_mammo = first_mammogram_date(inputs, rules)
    if breasts:
        mammos = _series(first_mammo, rules.mammo_interval_months, end)
        items += series_items(MAMMOGRAM, breasts, [(d, rules.mammo_interval_months) for d in mammos], rules)
    if inputs.residual_calcifications_in_place and inputs.procedure == "BCS":
        residual_end = min(end, add_months(inputs.surgery_date, rules.residual_duration_years * 12))
        first = add_months(inputs.surgery_date, rules.residual_interval_months)
        residual = _series(first, rules.residual_interval_months, residual_end)
        items += series_items(DIAGNOSTIC_MAMMOGRAM, inputs.surgery_laterality,
                              [(d, rules.residual_interval_months) for d in residual], rules)
    if breasts and high_risk_reasons(inputs, rules):
        mris = _series(add_months(first_mammo, rules.mri_offset_months), rules.mri_interval_months, end)
        items += series_items(MRI, breasts, [(d, rules.mri_interval_months) for d in mris], rules)
    return sorted(items, key=lambda i: (i.due_date, i.kind, i.laterality))


def _exam_interval_at(month: int, rules: ProtocolRules) -> int:
    """The cadence that led to the exam at `month` (used for its matching window)."""
    year = (month - 1) // 12 + 1
    if year <= rules.exam_early_until_year:
        return rules.exam_early_interval_months
    if year <= rules.exam_mid_until_year:
        return rules.exam_mid_interval_months
    return rules.exam_late_interval_months


def item_state(status: str, due_from: date, overdue_after: date, as_of: date) -> str:
    """upcoming (before due_from) → due → overdue (after overdue_after); done/cancelled stored."""
    if status in (DONE, CANCELLED, SUPERSEDED):
        return status
    if as_of < due_from:
        return UPCOMING
    if as_of <= overdue_after:
        return DUE
    return OVERDUE


def lost_after(overdue_after: date, rules: ProtocolRules = DEFAULT_RULES) -> date:
    """Lost to follow-up when nothing was done by this date (12 months past overdue)."""
    return add_months(overdue_after, rules.lost_after_months)


def covers(item_laterality: str, study_laterality: str) -> bool:
    """A study covers the item's breast(s): bilateral covers all, one side only itself."""
    if not item_laterality:
        return True
    return study_laterality == BILATERAL or study_laterality == item_laterality


STUDY_KINDS = {"MG": (MAMMOGRAM, DIAGNOSTIC_MAMMOGRAM), "MR": (MRI,)}
VISIT_KINDS = ("clinical_exam", "oncology")  # a telephone call is not an examination


@dataclass(frozen=True)
class Candidate:
    """A pending item as the matcher sees it."""

    id: int
    kind: str
    laterality: str
    due_date: date
    window_start: date
    window_end: date


def choose_items(candidates: Iterable[Candidate], on: date, kinds: Sequence[str],
                 laterality: str | None) -> list[Candidate]:
    """The items one study/visit on `on` fulfils: per kind, the pending item whose window
    contains the date, nearest by due date (earlier on a tie). `laterality` None = a visit."""
    chosen = []
    for kind in kinds:
        fits = [c for c in candidates if c.kind == kind and c.window_start <= on <= c.window_end
                and (laterality is None or covers(c.laterality, laterality))]
        if fits:
            chosen.append(min(fits, key=lambda c: (abs((c.due_date - on).days), c.due_date)))
    return chosen


def still_to_plan(wanted: Sequence[PlannedItem], kept: Sequence[tuple[str, str, date]]) -> list[PlannedItem]:
    """The new plan's items a regeneration places: those not already represented by a kept
    item (done, or declined by the patient: kind, laterality, date done or due) of the same
    series inside the new item's window."""
    return [p for p in wanted if not any(
        kind == p.kind and lat == p.laterality and p.window_start <= on <= p.window_end
        for kind, lat, on in kept)]


def pair_for_regeneration(existing: Sequence[tuple[int, str, str, date]],
                          wanted: Sequence[PlannedItem]) -> tuple[list[tuple[int, PlannedItem]],
                                                                  list[int], list[PlannedItem]]:
    """Pair the existing regenerable items (id, kind, laterality, due) with wanted ones.

    Within each (kind, laterality) series both lists are taken in date order and zipped,
    so an item keeps its id (and its contact log) when its date moves. Returns (pairs,
    surplus existing ids, new planned items).
    """
    def key(kind: str, lat: str) -> tuple[str, str]:
        return kind, lat

    groups: dict[tuple[str, str], tuple[list, list]] = {}
    for row in sorted(existing, key=lambda r: r[3]):
        groups.setdefault(key(row[1], row[2]), ([], []))[0].append(row)
    for item in sorted(wanted, key=lambda i: i.due_date):
        groups.setdefault(key(item.kind, item.laterality), ([], []))[1].append(item)
    pairs: list[tuple[int, PlannedItem]] = []
    surplus: list[int] = []
    new: list[PlannedItem] = []
    for old_rows, new_items in groups.values():
        n = min(len(old_rows), len(new_items))
        pairs.extend((old_rows[i][0], new_items[i]) for i in range(n))
        surplus.extend(r[0] for r in old_rows[n:])
        new.extend(new_items[n:])
    return pairs, surplus, new
