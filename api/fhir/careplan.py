"""CarePlan for scheduled surveillance.

The schedule itself lives in the surveillance app: `planned_exams` turns a patient's
`ScheduledItem` rows into `PlannedExam` values (state as of a date) for
`careplan_resource`; `patient_bundle(planned=...)` adds the CarePlan only when there is
at least one item, so a patient without a schedule gets no CarePlan.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from . import codes as c

# kind → (system, code, display) of what is planned.
PLANNED_CODE = {
    "mammogram": (c.LOINC, "24606-6", "MG Breast Screening"),
    "diagnostic_mammogram": (c.LOINC, "26346-7", "MG Breast - bilateral Diagnostic"),
    "mri": (c.LOINC, "30794-2", "MR Breast"),
    "clinical_exam": (c.SNOMED, "5880005", "Physical examination"),
}
# Scheduled item state (docs/clinical-rules.md) → CarePlan.activity.detail.status.
ACTIVITY_STATUS = {"upcoming": "scheduled", "due": "scheduled", "overdue": "not-started",
                   "done": "completed", "cancelled": "cancelled"}


@dataclass(frozen=True)
class PlannedExam:
    kind: str  # a key of PLANNED_CODE
    due: date
    state: str  # upcoming | due | overdue | done | cancelled
    description: str = ""


def planned_exams(items: Iterable, as_of: date) -> list[PlannedExam]:
    """One `PlannedExam` per scheduled item (`surveillance.models.ScheduledItem`)."""
    return [
        PlannedExam(kind=item.kind, due=item.due_date, state=item.state(as_of),
                    description=" — ".join(filter(None, [item.get_kind_display(),
                                                          item.breast_label])))
        for item in items
    ]


def careplan_resource(*, resource_id: str, patient_ref: str,
                      planned: Sequence[PlannedExam]) -> dict | None:
    """A CarePlan with one activity per planned exam; None when nothing is planned."""
    if not planned:
        return None
    activities = []
    for item in sorted(planned, key=lambda p: (p.due, p.kind)):
        system, code, display = PLANNED_CODE[item.kind]
        detail = {
            "kind": "ServiceRequest",
            "code": {"coding": [{"system": system, "code": code, "display": display}]},
            "status": ACTIVITY_STATUS[item.state],
            "scheduledPeriod": {"start": item.due.isoformat()},
        }
        if item.description:
            detail["description"] = item.description
        activities.append({"detail": detail})
    return {
        "resourceType": "CarePlan",
        "id": resource_id,
        "status": "active",
        "intent": "plan",
        "title": "Breast cancer surveillance",
        "subject": {"reference": patient_ref},
        "activity": activities,
    }
