"""Write plans as raw rows: PostgreSQL COPY, executemany elsewhere. For the big cohort.

`writer.write_plans` builds model instances and bulk_creates them; at 10,000 patients
(~350,000 rows) Django's per-instance work dominates. Here each row is a tuple in the
model's column order, ids are taken from the table's sequence up front (so children can
point at parents without a RETURNING round trip), and PostgreSQL receives the rows with
COPY (`core.bulk.copy_rows`). Field defaults (uuid, timestamps, lexicon version …) come from the
model fields themselves, so a row here equals what the ORM would store; tests compare the
two writers. No outbox rows: the cohort is evaluated by the alerts app's full re-evaluation.

Seeding only (the demo and the benchmark's cohorts of up to 100,000 patients and a
million studies): no request or task writes this way; they use the ORM.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

from core.bulk import copy_rows
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from outbox.models import Event
from patients.models import (
    ClinicalEvent,
    ClinicVisit,
    NacCourse,
    Pathology,
    Patient,
    Radiotherapy,
    Surgery,
    TumourProfile,
)

from . import rows
from .plans import PatientPlan
from .rows import Target
from .writer import WriteStats

ORDER = (Patient, TumourProfile, NacCourse, Radiotherapy, Surgery, Pathology, ClinicVisit,
         ClinicalEvent, ImagingStudy, CalcificationFinding, EnhancementFinding)

WITH_IDS = (Patient, Surgery, ImagingStudy)


class Defaults:
    """Turns {attname: value} into a tuple in the order of `fields`, a missing field given
    what the ORM would store: `now` for auto_now(_add) fields, a new value of a callable
    default (uuid4) per row, the field's default otherwise."""

    def __init__(self, fields: Sequence[models.Field], now: datetime | None = None):
        now = now or timezone.now()
        self.fields = list(fields)
        self._plan: list[tuple[str, int, Any]] = []  # (attname, kind, value): kind 0 constant, 1 callable
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self._plan.append((f.attname, 0, now))
            elif f.has_default() and callable(f.default):
                self._plan.append((f.attname, 1, f.default))
            else:
                self._plan.append((f.attname, 0, f.get_default()))

    def row(self, values: dict) -> tuple:
        return tuple(values[name] if name in values else (default() if kind else default)
                     for name, kind, default in self._plan)


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """Reserve `n` primary keys for `model` (inside the seeding's transaction), so children
    can point at parents written in the same COPY pass."""
    if n == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, n])
            return [r[0] for r in cursor.fetchall()]
        # SQLite: the transaction holds the write lock, so nobody else takes these ids;
        # past the AUTOINCREMENT counter too, so ids of deleted rows are never reused.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        start = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(start, row[0] if row else 0) + 1
        return list(range(start, start + n))


class _Rows:
    """Rows of one table in its concrete-field order, defaults filled in from the fields."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        # Reserved ids for the parents children point at; the database numbers the rest.
        with_id = model in WITH_IDS
        self.defaults = Defaults([f for f in model._meta.concrete_fields if with_id or not f.primary_key])
        self.rows: list[tuple] = []

    def add(self, values: dict) -> None:
        self.rows.append(self.defaults.row(values))

    def flush(self) -> None:
        copy_rows(self.model, self.defaults.fields, self.rows)
        self.rows = []


def write_plans_fast(items: Iterable[tuple[PatientPlan, Target]], *, chunk_size: int = 1000,
                     on_patients: Callable[[int], None] | None = None) -> WriteStats:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("write_plans_fast must run inside transaction.atomic")
    stats = WriteStats()
    chunk: list[tuple[PatientPlan, Target]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= chunk_size:
            _chunk(chunk, stats)
            if on_patients:
                on_patients(len(chunk))
            chunk = []
    if chunk:
        _chunk(chunk, stats)
        if on_patients:
            on_patients(len(chunk))
    return stats


def _chunk(chunk: list[tuple[PatientPlan, Target]], stats: WriteStats) -> None:
    t = {m: _Rows(m) for m in ORDER}
    patient_ids = reserve_ids(Patient, len(chunk))
    surgery_ids = iter(reserve_ids(Surgery, sum(1 for p, _ in chunk if p.surgery)))
    study_ids = iter(reserve_ids(ImagingStudy, sum(len(p.studies) for p, _ in chunk)))
    for pid, (p, tg) in zip(patient_ids, chunk, strict=True):
        t[Patient].add(dict(rows.patient(p, tg), id=pid))
        t[TumourProfile].add(dict(rows.tumour(p), patient_id=pid))
        for n in p.nac:
            t[NacCourse].add(dict(n, patient_id=pid))
        for r in p.radiotherapy:
            t[Radiotherapy].add(dict(r, patient_id=pid))
        if p.surgery:
            sid = next(surgery_ids)
            t[Surgery].add(dict(p.surgery, id=sid, patient_id=pid))
            if p.pathology:
                t[Pathology].add(dict(rows.pathology(p), surgery_id=sid))
        for v in rows.visits(p, tg):
            t[ClinicVisit].add(dict(v, patient_id=pid))
        for e in rows.events(p):
            t[ClinicalEvent].add(dict(e, patient_id=pid))
        _studies(t, pid, p, tg, study_ids, stats)
    for model in ORDER:
        t[model].flush()
    stats.patients += len(chunk)


def _studies(t: dict, pid: int, p: PatientPlan, tg: Target, study_ids, stats: WriteStats) -> None:
    for s in p.studies:
        sid = next(study_ids)
        t[ImagingStudy].add(dict(rows.study(s, tg), id=sid, patient_id=pid))
        calcs, enhs = rows.calcifications(s), rows.enhancements(s)
        for c in calcs:
            t[CalcificationFinding].add(dict(c, study_id=sid))
        for e in enhs:
            t[EnhancementFinding].add(dict(e, study_id=sid))
        stats.studies += 1
        stats.final_studies += bool(s.final)
        stats.findings += len(calcs) + len(enhs)


def delete_patients(qs: models.QuerySet) -> int:
    """Delete patients and everything that cascades from them, one statement per table.

    The ORM's collector loads every study to cascade; here each dependent table is
    emptied with a subquery, following the models' own on_delete (CASCADE deletes,
    SET_NULL clears; PROTECT and the rest are left to the database to refuse). Their
    outbox events (which name patients by id, not by foreign key) go too.
    """
    Event.objects.filter(patient_id__in=qs.values("id")).delete()
    return delete_cascading(qs)


def delete_cascading(qs: models.QuerySet) -> int:
    """Delete the rows of any model the way `delete_patients` deletes patients."""
    count = qs.count()
    _cascade(qs, depth=0)
    return count


def _foreign_keys_to(model: type[models.Model]) -> list[models.ForeignKey]:
    # Every concrete FK/one-to-one pointing at `model`, hidden ones (related_name="+") too.
    return [f for m in apps.get_models() for f in m._meta.concrete_fields
            if f.is_relation and f.remote_field and f.remote_field.model is model]


def _cascade(qs: models.QuerySet, depth: int) -> None:
    if depth > 8:
        raise RuntimeError("cascade too deep")
    for fk in _foreign_keys_to(qs.model):
        related = fk.model._base_manager.filter(**{f"{fk.name}__in": qs.values("pk")})
        if fk.remote_field.on_delete is models.CASCADE:
            _cascade(related, depth + 1)
        elif fk.remote_field.on_delete is models.SET_NULL:
            related.update(**{fk.name: None})
    qs._raw_delete(qs.db)
