"""COPY and UPDATE … FROM (VALUES …): the two bulk writes the ORM has no fast form of.

Kept for writes of hundreds of thousands of rows, where `bulk_create`'s and
`bulk_update`'s per-object work in Python dominated (docs/performance.md): the demo and
benchmark seeding, the sweep's plan writes, whose first run over a cohort creates
~30 scheduled exams per patient and re-dates them (`bulk_update`'s `CASE WHEN id = …`
per field made the first sweep of 10,000 patients take 1,953 s instead of 83 s), and the
registry import's rows (studies, findings, treatment: `bulk_create` held it at about half
its target, registry/write.py), and audit events written together (`audit_record_many`).
Everything else, requests and alert writes included, uses the ORM's
`bulk_create`/`bulk_update`.

- `copy_objects(objs)`: unsaved model instances (their defaults from the model's own
  constructor, `auto_now` fields set by the fields' `pre_save`), with COPY on PostgreSQL
  and `bulk_create` elsewhere; the database numbers them (no ids come back).
- `copy_rows(model, fields, rows)`: rows given as tuples in the order of `fields`, values
  already what the ORM would store (the seeding). PostgreSQL receives them with COPY in
  its text format (psycopg's `write_row`), other databases with `executemany`.
- `update_rows(model, fields, rows)`: one `UPDATE … FROM (VALUES …)` per batch, instead
  of `bulk_update`'s `CASE WHEN id = …` per field.

None of them sends model signals (nor do `bulk_create` and `bulk_update`).
"""

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import cast

from django.db import connection, models

# Rows per UPDATE on PostgreSQL (a statement of a few hundred kB).
PG_UPDATE_BATCH = 2000


# --- COPY --------------------------------------------------------------------------------------

def copy_rows(model: type[models.Model], fields: Sequence[models.Field], rows: Sequence[tuple]) -> int:
    """Insert `rows` (tuples in the order of `fields`): COPY on PostgreSQL, executemany
    elsewhere. Values must already be what the ORM would store (defaults filled in,
    auto_now fields set). Returns the number of rows."""
    if not rows:
        return 0
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    cols = ", ".join(qn(_column(f)) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The driver's cursor, wrapped as Django wraps its own: a refused row raises
            # Django's IntegrityError, as bulk_create would.
            # `write_row` formats each value in psycopg's C extension: 6,000 calcification
            # findings (90,000 values) took ~13 ms of CPU formatted here value by value in
            # Python (the text format's escapes, `str()`), ~6 ms with `write_row`.
            copy_sql = f"COPY {table} ({cols}) FROM STDIN"
            with connection.wrap_database_errors, cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            prepped = [tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True))
                       for row in rows]
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", prepped)
    return len(rows)


def copy_objects(objs: Sequence[models.Model]) -> int:
    """Insert unsaved instances of one model (see the module docstring). Returns the count."""
    if not objs:
        return 0
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=1000)
        return len(objs)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    return copy_rows(model, fields, _saved_values(objs, fields))


def _saved_values(objs: Sequence[models.Model], fields: list[models.Field]) -> list:
    """What `bulk_create` would store of each object: its fields' `pre_save` values.

    `Field.pre_save` is the attribute itself unless the field computes it (auto_now …):
    the others are read with one `attrgetter`, ~4 times faster than a `pre_save` call per
    value (6,000 calcification findings: ~18 → ~4 ms). JSON values are handed to the
    driver as the field prepares them (psycopg's `Jsonb`); COPY's text format takes every
    other value as it is.
    """
    read = _reader([f.attname for f in fields])
    computed = [(i, f) for i, f in enumerate(fields) if _computed_on_save(f)]
    json = [(i, f) for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    if not computed and not json:
        return [read(obj) for obj in objs]
    rows = []
    for obj in objs:
        row = list(read(obj))
        for i, f in computed:
            row[i] = f.pre_save(obj, True)
        for i, f in json:
            row[i] = f.get_db_prep_save(row[i], connection)
        rows.append(row)
    return rows


def _reader(names: list[str]) -> Callable[[models.Model], tuple]:
    if len(names) == 1:  # an attrgetter of one name gives the value, not a tuple
        name = names[0]
        return lambda obj: (getattr(obj, name),)
    return attrgetter(*names)


def _computed_on_save(field: models.Field) -> bool:
    """Whether the field's `pre_save` gives something else than the attribute.

    A date field's does only with auto_now(_add): the others (a study's date, signing and
    voiding times) are read with the rest, ~20,000 `pre_save` calls less for 3,000 studies
    with their treatment (~7 ms of CPU, bench database).
    """
    if isinstance(field, models.DateField):  # DateTimeField too
        return field.auto_now or field.auto_now_add
    return type(field).pre_save is not models.Field.pre_save


# --- UPDATE … FROM (VALUES …) ---------------------------------------------------------------------

def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]) -> int:
    """Set `fields` of the rows whose primary key is each tuple's first value.

    `rows` are (pk, value of fields[0], value of fields[1], …). Returns rows updated.
    PostgreSQL and SQLite (≥ 3.33) both speak `UPDATE … FROM`.
    """
    if not rows:
        return 0
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    columns = [pk, *(cast(models.Field, meta.get_field(name)) for name in fields)]
    qn = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    # PostgreSQL types a VALUES column from its values (NULLs alone would be text), so each
    # value is cast to its column's type; strings to text, since an explicit cast to
    # varchar(n) would silently cut a value the column's own check refuses.
    marks = ", ".join(f"CAST(%s AS {_cast_type(f)})" if postgres else "%s" for f in columns)
    assignments = ", ".join(f"{qn(_column(f))} = v.column{n}" for n, f in enumerate(columns[1:], start=2))
    table = qn(meta.db_table)
    if postgres:
        batch = PG_UPDATE_BATCH
    else:
        batch = max(1, (connection.features.max_query_params or 999) // len(columns))
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            values = ", ".join([f"({marks})"] * len(chunk))
            params = [f.get_db_prep_save(v, connection) for row in chunk
                      for f, v in zip(columns, row, strict=True)]
            cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v"
                           f" WHERE {table}.{qn(_column(pk))} = v.column1", params)
            updated += cursor.rowcount
    return updated


def _column(field: models.Field) -> str:
    assert field.column is not None  # a concrete field
    return field.column


def _cast_type(field: models.Field) -> str:
    db_type = field.cast_db_type(connection)
    assert db_type is not None  # a concrete field
    return "text" if db_type.startswith("varchar") else db_type
