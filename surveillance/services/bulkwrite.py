"""Set-based writes of many rows: the sweep writes hundreds of thousands of items at once.

Django's `bulk_update` writes one `CASE WHEN id = … THEN …` per field, which the
database evaluates for every row of the batch (rows × batch comparisons), and builds an
expression object per value in Python; `bulk_create` builds a model instance per row.
Here:

- `update_rows` is one `UPDATE … FROM (VALUES …)` per batch: the rows are joined on
  their id, each value written as is. PostgreSQL and SQLite (≥ 3.33) both speak it.
- `insert_rows` takes plain dicts (attname → value; missing fields get their model
  defaults, as the ORM would store them): PostgreSQL receives them with COPY, other
  databases through `bulk_create`.

Neither sends model signals (nor do `bulk_update` and `bulk_create`).
"""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import connection, models
from django.utils import timezone

# Rows per UPDATE on PostgreSQL (a statement of a few hundred kB).
PG_UPDATE_BATCH = 2000


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]) -> int:
    """Set `fields` of the rows whose primary key is each tuple's first value.

    `rows` are (pk, value of fields[0], value of fields[1], …). Returns rows updated.
    """
    if not rows:
        return 0
    meta = model._meta
    pk = meta.pk
    columns = [pk, *(meta.get_field(name) for name in fields)]
    qn = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    # PostgreSQL types a VALUES column from its values (NULLs alone would be text), so each
    # value is cast to its column's type; strings to text, since an explicit cast to
    # varchar(n) would silently cut a value the column's own check refuses.
    marks = ", ".join(f"CAST(%s AS {_cast_type(f)})" if postgres else "%s" for f in columns)
    assignments = ", ".join(f"{qn(f.column)} = v.column{n}" for n, f in enumerate(columns[1:], start=2))
    table = qn(meta.db_table)
    if postgres:
        batch = PG_UPDATE_BATCH
    else:
        batch = max(1, connection.features.max_query_params // len(columns))
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            values = ", ".join([f"({marks})"] * len(chunk))
            params = [f.get_db_prep_save(v, connection) for row in chunk
                      for f, v in zip(columns, row, strict=True)]
            cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v"
                           f" WHERE {table}.{qn(pk.column)} = v.column1", params)
            updated += cursor.rowcount
    return updated


def _cast_type(field: models.Field) -> str:
    db_type = field.cast_db_type(connection)
    return "text" if db_type.startswith("varchar") else db_type


def insert_rows(model: type[models.Model], rows: Sequence[dict], *, batch_size: int = 1000) -> int:
    """Insert rows given as {attname: value}; the primary key comes from the database.

    On PostgreSQL the rows go through COPY in its text format, written here: psycopg's
    `write_row` adapts value by value, which was most of a first sweep's Python time.
    Values must be None, bool, str, int, Decimal, date, datetime or UUID (what
    `str()` writes as PostgreSQL reads it).
    """
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=batch_size)
        return len(rows)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    # What the ORM would store for a field a row leaves out, already as COPY text: a
    # callable default (uuid4) gives a new value per row, anything else is the same for
    # every row (written once here, not once per row).
    constant, per_row = {}, {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            constant[f.attname] = _copy_text(now)
        elif f.has_default() and callable(f.default):
            per_row[f.attname] = f.default
        else:
            constant[f.attname] = _copy_text(f.get_default())
    qn = connection.ops.quote_name
    cols = ", ".join(qn(f.column) for f in fields)
    names = [f.attname for f in fields]
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {qn(model._meta.db_table)} ({cols}) FROM STDIN") as copy:
            for start in range(0, len(rows), batch_size):
                lines = []
                for row in rows[start:start + batch_size]:
                    lines.append("\t".join([
                        _copy_text(row[n]) if n in row else constant[n] if n in constant
                        else _copy_text(per_row[n]()) for n in names]))
                lines.append("")
                copy.write("\n".join(lines))
    return len(rows)


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    kind = type(value)
    if kind in _AS_STR:
        return str(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is str:
        return value.translate(_ESCAPES)
    # Subclasses, e.g. the models' TextChoices members: str() gives their value.
    if isinstance(value, str):
        return str(value).translate(_ESCAPES)
    if isinstance(value, (int, Decimal, date, UUID)):
        return str(value)
    raise TypeError(f"insert_rows cannot write {kind.__name__} values")


# Written by str() as PostgreSQL reads them (a datetime with its offset).
_AS_STR = {int, date, datetime, Decimal, UUID}
