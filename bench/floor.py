"""The floor: the rows a page or job reads, fetched with hand-written SQL and dumped to JSON.

Each function runs plain SQL over Django's own connection (same socket, same
transaction state as the app's queries) and serializes the rows with `json.dumps`,
which is the least any implementation has to do to answer with the same data. The app's
time divided by this is the "ratio to the floor" of the table. Scoping by the user's
sites is part of the floor too: the app must not skip it, nor may the floor; so is
leaving voided records out (`voided_at IS NULL`), as the app's default managers do.
"""

import json
from datetime import date
from uuid import UUID

from django.db import connection

from core.pagination import COUNT_LIMIT


def _rows(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _uuid(value: str):
    """A UUID as the database stores it (SQLite: 32 hex digits, PostgreSQL: uuid)."""
    from patients.models import Patient

    return Patient._meta.get_field("uuid").get_db_prep_value(UUID(str(value)), connection)


def _dump(data: dict) -> str:
    return json.dumps(data, default=str)


_SCOPE = "p.site_id IN (SELECT site_id FROM patients_site_members WHERE user_id = %s)"


def timeline_floor(*, user_id: int, patient_uuid: str) -> str:
    """Everything the timeline page shows: patient, tumour, studies with findings,
    treatment, visits, outcome events, open alerts and the surveillance plan with its
    scheduled items (one query per table)."""
    patients = _rows(
        "SELECT p.*, s.name AS site_name, t.diagnosis_date, t.subtype, t.laterality AS tumour_laterality,"
        " t.histology, t.grade, t.er_percent, t.pr_percent, t.her2_ihc, t.her2_ish"
        " FROM patients_patient p JOIN patients_site s ON s.id = p.site_id"
        " LEFT JOIN patients_tumourprofile t ON t.patient_id = p.id"
        f" WHERE p.uuid = %s AND {_SCOPE}", [_uuid(patient_uuid), user_id])
    pid = patients[0]["id"]
    data = {"patient": patients[0], **_history_rows(pid)}
    data["visits"] = _rows(
        "SELECT v.*, u.first_name, u.last_name FROM patients_clinicvisit v"
        " LEFT JOIN auth_user u ON u.id = v.recorded_by_id WHERE v.patient_id = %s AND v.voided_at IS NULL"
        " ORDER BY v.date DESC, v.id DESC", [pid])
    data["events"] = _rows("SELECT * FROM patients_clinicalevent WHERE patient_id = %s AND voided_at IS NULL"
                            " ORDER BY date, id",
                           [pid])
    data["alerts"] = _rows(
        "SELECT a.id, a.rule, a.severity, a.breast, a.reason, a.created_at, i.study_date"
        " FROM alerts_alert a LEFT JOIN imaging_imagingstudy i ON i.id = a.study_id"
        " WHERE a.patient_id = %s AND a.state = 'open' ORDER BY a.created_at DESC", [pid])
    data["plan"] = _rows(
        "SELECT pl.*, pr.name AS protocol_name FROM surveillance_patientplan pl"
        " JOIN surveillance_protocol pr ON pr.id = pl.protocol_id WHERE pl.patient_id = %s", [pid])
    data["scheduled_items"] = _rows(
        "SELECT * FROM surveillance_scheduleditem WHERE patient_id = %s ORDER BY due_date, kind, id",
        [pid])
    return _dump(data)


def _history_rows(pid: int) -> dict:
    return {
        "studies": _rows("SELECT * FROM imaging_imagingstudy WHERE patient_id = %s AND voided_at IS NULL"
                         " ORDER BY study_date, id",
                         [pid]),
        "calcifications": _rows(
            "SELECT c.* FROM imaging_calcificationfinding c JOIN imaging_imagingstudy i ON i.id = c.study_id"
            " WHERE i.patient_id = %s AND i.voided_at IS NULL", [pid]),
        "enhancements": _rows(
            "SELECT e.* FROM imaging_enhancementfinding e JOIN imaging_imagingstudy i ON i.id = e.study_id"
            " WHERE i.patient_id = %s AND i.voided_at IS NULL", [pid]),
        "surgeries": _rows(
            "SELECT su.*, pa.ypt, pa.ypn, pa.pcr, pa.rcb_class FROM patients_surgery su"
            " LEFT JOIN patients_pathology pa ON pa.surgery_id = su.id"
            " WHERE su.patient_id = %s AND su.voided_at IS NULL ORDER BY su.date, su.id", [pid]),
        "nac": _rows("SELECT * FROM patients_naccourse WHERE patient_id = %s AND voided_at IS NULL"
                     " ORDER BY start_date", [pid]),
        "radiotherapy": _rows("SELECT * FROM patients_radiotherapy"
                              " WHERE patient_id = %s AND voided_at IS NULL ORDER BY start_date",
                              [pid]),
    }


def timeline_api_floor(*, user_id: int, patient_uuid: str) -> str:
    """What the timeline API reads: the patient (scoped), studies, findings, treatment."""
    patients = _rows(f"SELECT p.id, p.uuid FROM patients_patient p WHERE p.uuid = %s AND {_SCOPE}",
                     [_uuid(patient_uuid), user_id])
    return _dump({"patient": patients[0], **_history_rows(patients[0]["id"])})


# The count as the pages make it (core/pagination.py): up to 10,000 rows past the page.
_BOUNDED_COUNT = (f"SELECT count(*) AS n FROM (SELECT 1 FROM patients_patient p WHERE {_SCOPE}"
                  f" LIMIT {COUNT_LIMIT + 1}) counted")


def patient_list_floor(*, user_id: int, limit: int) -> str:
    """The first page of the patient list (its columns, sorted by name) and the count."""
    total = _rows(_BOUNDED_COUNT, [user_id])
    rows = _rows(
        "SELECT p.id, p.uuid, p.mrn, p.given_name, p.family_name, p.follow_up_status, s.name AS site,"
        " t.diagnosis_date, t.subtype,"
        " (SELECT count(*) FROM alerts_alert a WHERE a.patient_id = p.id AND a.state = 'open')"
        "   AS open_alerts,"
        " (SELECT max(i.study_date) FROM imaging_imagingstudy i WHERE i.patient_id = p.id"
        "  AND i.voided_at IS NULL) AS last_study,"
        " (SELECT pa.pcr FROM patients_pathology pa JOIN patients_surgery su ON su.id = pa.surgery_id"
        "   WHERE su.patient_id = p.id AND su.voided_at IS NULL ORDER BY su.date, su.id LIMIT 1) AS pcr"
        " FROM patients_patient p JOIN patients_site s ON s.id = p.site_id"
        " LEFT JOIN patients_tumourprofile t ON t.patient_id = p.id"
        f" WHERE {_SCOPE} ORDER BY p.family_name, p.given_name, p.id LIMIT %s", [user_id, limit])
    return _dump({"count": total[0]["n"], "results": rows})


def patient_api_floor(*, user_id: int, limit: int) -> str:
    """A page of the patient API: patients with tumour, NAC, radiotherapy, surgery and
    pathology (the nested rows fetched for the page's ids), and the count."""
    total = _rows(_BOUNDED_COUNT, [user_id])
    patients = _rows(
        "SELECT p.*, s.code AS site_code, t.diagnosis_date, t.subtype, t.laterality AS tumour_laterality,"
        " t.histology, t.grade, t.er_percent, t.pr_percent, t.her2_ihc, t.her2_ish"
        " FROM patients_patient p JOIN patients_site s ON s.id = p.site_id"
        " LEFT JOIN patients_tumourprofile t ON t.patient_id = p.id"
        f" WHERE {_SCOPE} ORDER BY p.family_name, p.given_name, p.id LIMIT %s", [user_id, limit])
    ids = [p["id"] for p in patients] or [0]
    marks = ", ".join(["%s"] * len(ids))
    nested = {
        "nac": _rows(f"SELECT * FROM patients_naccourse WHERE patient_id IN ({marks})"
                     " AND voided_at IS NULL", ids),
        "radiotherapy": _rows(f"SELECT * FROM patients_radiotherapy WHERE patient_id IN ({marks})"
                              " AND voided_at IS NULL", ids),
        "surgeries": _rows(
            "SELECT su.*, pa.ypt, pa.ypn, pa.pcr, pa.rcb_class, pa.rcb_index FROM patients_surgery su"
            f" LEFT JOIN patients_pathology pa ON pa.surgery_id = su.id WHERE su.patient_id IN ({marks})"
            " AND su.voided_at IS NULL",
            ids),
    }
    return _dump({"count": total[0]["n"], "results": patients, **nested})


def sweep_floor(*, as_of: date) -> str:
    """The rows the daily sweep and digest look at: pending items of active patients that
    become due, overdue or lost by `as_of`, and the items the digest lists (one query
    each), fetched and serialized — without the updates the sweep then makes."""
    base = ("FROM surveillance_scheduleditem it JOIN patients_patient p ON p.id = it.patient_id"
            " WHERE it.status = 'pending' AND p.follow_up_status = 'active'")
    data = {
        "due": _rows(f"SELECT it.id, it.patient_id {base} AND it.became_due_on IS NULL AND it.due_from <= %s",
                     [as_of]),
        "overdue": _rows(f"SELECT it.id, it.patient_id, it.kind, it.laterality, it.due_date {base}"
                         " AND it.became_overdue_on IS NULL AND it.overdue_after < %s", [as_of]),
        "lost": _rows(f"SELECT it.id, it.patient_id {base} AND it.lost_on IS NULL"
                      " AND it.became_overdue_on IS NOT NULL AND it.lost_after_date < %s", [as_of]),
        "digest": _rows(
            "SELECT it.uuid, it.kind, it.laterality, it.due_date, p.uuid AS patient_uuid, p.mrn,"
            " p.given_name, p.family_name, s.name FROM surveillance_scheduleditem it"
            " JOIN patients_patient p ON p.id = it.patient_id JOIN patients_site s ON s.id = p.site_id"
            " WHERE it.became_due_on = %s OR it.became_overdue_on = %s OR it.lost_on = %s",
            [as_of, as_of, as_of]),
    }
    return _dump(data)
