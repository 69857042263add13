"""Related rows as JSON arrays in one query: one query instead of a prefetch per table.

The timeline reads one patient with nine kinds of related rows; a prefetch per kind cost
a query each and Django's per-instance prefetch work (issue 9). `JsonRows(Model, ...)`
describes one kind of row:

- `.expression(queryset)` is a subquery to annotate on the parent, e.g.
  `STUDIES.expression(ImagingStudy.objects.filter(patient=OuterRef("pk")))`: the rows of
  `queryset` as one JSON array of objects (every concrete field by attname but `defer`,
  plus the fields of the `related` one-to-one/foreign-key objects, nested), as text;
- `.instances(text)` turns that text back into model instances with the values Django's
  own converters give (dates, datetimes, decimals, UUIDs, booleans), `related` objects
  cached on them as `select_related` would, ordered by `order_by`.

`RowSet(Parent, {name: (rows, Q(...OuterRef("pk")...))})` adds several kinds to a query of
the parents, each compiled once per database (`CompiledAnnotations`, also used for other
constant subquery columns): Django's compilation of these wide expressions cost more than
running them.

PostgreSQL orders inside the aggregate (`json_agg(... ORDER BY ...)`, the database's
collation). SQLite before 3.44 cannot, so its rows are sorted here: SQLite's default
BINARY collation is code-point order, which is Python's, so the order is the one an
`ORDER BY` would give. `order_by` fields are never NULL.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from operator import attrgetter
from types import SimpleNamespace
from typing import Any, cast
from uuid import UUID

from django.db import connections
from django.db.models import (
    Aggregate,
    DecimalField,
    F,
    Field,
    ForeignKey,
    Func,
    Model,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.expressions import OrderByList, RawSQL


class JSONArray(Aggregate):
    """The aggregated values as a JSON array (text); NULL over no rows."""

    output_field = TextField()

    def __init__(self, expression, *, order_by: tuple[str, ...] = ()):
        # Django takes field names ("-date") here; the stubs only know expressions.
        self.order_by = OrderByList(*order_by) if order_by else None  # type: ignore[arg-type]
        super().__init__(expression)

    def get_source_expressions(self):
        return [*super().get_source_expressions(), self.order_by]

    def set_source_expressions(self, exprs):
        *exprs, self.order_by = exprs
        super().set_source_expressions(exprs)

    def as_sql(self, compiler, connection, function=None, template=None, arg_joiner=None, **extra):
        raise NotImplementedError(f"JSONArray is not written for {connection.vendor}")

    def _compile(self, compiler, template: str, ordered: bool) -> tuple[str, tuple]:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        order_sql = ""
        if ordered and self.order_by is not None:
            order_sql, order_params = compiler.compile(self.order_by)
            params = (*params, *order_params)
        return template % {"expression": sql, "ordering": f" {order_sql}" if order_sql else ""}, tuple(params)

    def as_postgresql(self, compiler, connection, **extra):
        return self._compile(compiler, "json_agg(%(expression)s%(ordering)s)::text", ordered=True)

    def as_sqlite(self, compiler, connection, **extra):
        return self._compile(compiler, "json_group_array(%(expression)s)", ordered=False)


class RowObject(Func):
    """A JSON object of named values: `json_build_object` on PostgreSQL (plain json, cheaper
    to build than the jsonb of Django's JSONObject), `json_object` on SQLite. The keys are
    written into the SQL (attnames), not sent as parameters."""

    output_field = TextField()

    def __init__(self, **fields):
        if not all(key.isidentifier() for key in fields) or len(fields) > 50:  # PostgreSQL: 100 arguments
            raise ValueError(f"RowObject keys must be at most 50 identifiers: {list(fields)}")
        self.keys = list(fields)
        super().__init__(*fields.values())

    def _object(self, compiler, function: str) -> tuple[str, list]:
        parts, params = [], []
        for key, expression in zip(self.keys, self.get_source_expressions(), strict=True):
            sql, expression_params = compiler.compile(expression)
            parts.append(f"'{key}', {sql}")
            params.extend(expression_params)
        return f"{function}({', '.join(parts)})", params

    def as_sql(self, compiler, connection, function=None, template=None, arg_joiner=None, **extra):
        raise NotImplementedError(f"RowObject is not written for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        return self._object(compiler, "json_build_object")

    def as_sqlite(self, compiler, connection, **extra):
        return self._object(compiler, "json_object")


def _parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    # SQLite stores UTC without an offset (Django's SQLite converter makes it aware the same way).
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _converter(field: Field) -> Callable[[Any], Any] | None:
    """JSON value -> the Python value Django's converters give for this field (None: as is)."""
    if field.is_relation:
        field = cast(ForeignKey, field).target_field  # a foreign key holds its target's value
    kind = field.get_internal_type()
    if kind == "DateField":
        return date.fromisoformat
    if kind == "DateTimeField":
        return _parse_datetime
    if kind == "UUIDField":
        return UUID
    if kind == "BooleanField":
        return bool  # SQLite's JSON has 0/1
    if kind == "FloatField":
        return float  # decoded as Decimal (for the decimal fields' exact digits)
    if kind == "DecimalField":
        # The column's scale, as PostgreSQL's numeric(p, s) and Django's SQLite converter give it.
        exponent = Decimal(1).scaleb(-cast(DecimalField, field).decimal_places)
        return lambda value: Decimal(str(value)).quantize(exponent)
    if kind == "JSONField":
        raise ValueError(f"{field} holds JSON: leave it out of JsonRows (its text would be ambiguous)")
    return None


@cache
def _columns(model: type[Model], defer: tuple[str, ...] = ()) -> tuple[tuple[str, ...], tuple]:
    """(attnames, converters) of the model's concrete fields but `defer`."""
    fields = [f for f in model._meta.concrete_fields if f.name not in defer]
    return tuple(f.attname for f in fields), tuple(_converter(f) for f in fields)


def _values(model: type[Model], data: dict, defer: tuple[str, ...] = ()) -> tuple[tuple[str, ...], list]:
    names, converters = _columns(model, defer)
    values = []
    for name, convert in zip(names, converters, strict=True):
        value = data[name]
        values.append(convert(value) if convert is not None and value is not None else value)
    return names, values


def _build(model: type[Model], db: str | None, data: dict,
           defer: tuple[str, ...] = ()) -> Model | SimpleNamespace:
    """A model instance, or (db None) a plain object with the same attributes and values."""
    names, values = _values(model, data, defer)
    if db is None:
        return SimpleNamespace(**dict(zip(names, values, strict=True)))
    return model.from_db(db, names, values)


@dataclass(frozen=True)
class JsonRows:
    """One kind of related row read as JSON (see the module docstring)."""

    model: type[Model]
    order_by: tuple[str, ...]  # field names, "-name" for descending
    related: tuple[str, ...] = ()  # forward or reverse one-to-one / foreign keys, like select_related
    defer: tuple[str, ...] = ()  # fields left out (loaded on first access, as QuerySet.defer)

    def _object(self) -> RowObject:
        names, _ = _columns(self.model, self.defer)
        nested = {}
        for rel in self.related:
            rel_names, _ = _columns(self.model._meta.get_field(rel).related_model)
            nested[rel] = RowObject(**{n: F(f"{rel}__{n}") for n in rel_names})
        return RowObject(**{n: F(n) for n in names}, **nested)

    def expression(self, queryset: QuerySet) -> Subquery:
        """`queryset` (filtered on an OuterRef) as one JSON array: a subquery for `annotate`."""
        if queryset.model is not self.model:
            raise TypeError(f"{queryset.model.__name__} rows given to JsonRows({self.model.__name__})")
        # A constant grouping key: one aggregate row over all of the queryset's rows.
        rows = (queryset.order_by().annotate(_one=Value(1)).values("_one")
                .annotate(_rows=JSONArray(self._object(), order_by=self.order_by)).values("_rows"))
        return Subquery(rows, output_field=TextField())

    def instances(self, text: str | None, using: str = "default", *, plain: bool = False) -> list:
        """The annotated JSON text back as model instances, in `order_by` order.

        `plain`: `SimpleNamespace`s with the same attributes and values (related objects
        too) instead: no Model.__init__ or post_init signals, for reads that need values only.
        """
        db = None if plain else using
        objects = []
        targets: dict[tuple[str, Any], Any] = {}  # one object per related row (e.g. a visit's author)
        for data in json.loads(text, parse_float=Decimal) if text else ():
            obj = _build(self.model, db, data, self.defer)
            for rel in self.related:
                field = self.model._meta.get_field(rel)
                nested, rel_model = data[rel], field.related_model
                assert rel_model is not None and not isinstance(rel_model, str)  # a relation
                pk = nested[rel_model._meta.pk.attname]
                if pk is not None and (rel, pk) not in targets:
                    targets[rel, pk] = _build(rel_model, db, nested)
                target = targets[rel, pk] if pk is not None else None
                if plain:
                    setattr(obj, rel, target)
                else:
                    cast(ForeignKey, field).set_cached_value(cast(Model, obj), target)
            objects.append(obj)
        if connections[using].vendor != "postgresql":
            for name in reversed(self.order_by):  # stable sorts, last key first
                objects.sort(key=attrgetter(name.lstrip("-")), reverse=name.startswith("-"))
        return objects


class CompiledAnnotations:
    """Annotations of a `parent` queryset compiled to SQL once per database, added as `RawSQL`.

    `CompiledAnnotations(Parent, lambda: {name: expression})`: the expressions (subqueries
    on `OuterRef("pk")`, typically) are built and compiled on first use for a database;
    `annotate(queryset)` then adds their SQL, each with its own output field (so values
    convert as before, and filters and ordering on them work). Django's resolving and
    compiling of subquery expressions cost more than the database took to run them.

    The compiled SQL refers to the parent's table by its name, which is how Django names a
    query's base table: `queryset` must be a plain queryset of `Parent` (filters,
    select_related, annotations, values), not one whose `Parent` table is joined in.
    """

    def __init__(self, parent: type[Model], expressions: Callable[[], dict[str, Any]]):
        self.parent = parent
        self.expressions = expressions
        self._columns: dict[str, dict[str, RawSQL]] = {}

    def columns(self, using: str) -> dict[str, RawSQL]:
        if using not in self._columns:
            expressions = self.expressions()
            query = self.parent._default_manager.using(using).values(**expressions).query
            compiler = query.get_compiler(using)
            columns = {}
            for name in expressions:
                annotation = query.annotations[name]
                sql, params = compiler.compile(annotation)
                columns[name] = RawSQL(sql, tuple(params), output_field=annotation.output_field)
            self._columns[using] = columns
        return self._columns[using]

    def annotate(self, queryset: QuerySet) -> QuerySet:
        if queryset.model is not self.parent:
            raise TypeError(f"annotations of {self.parent.__name__} given a "
                            f"{queryset.model.__name__} queryset")
        return queryset.annotate(**self.columns(queryset.db))


class RowSet:
    """Several kinds of related rows, read with the parent row in its own query.

    `RowSet(Parent, {name: (rows, Q(... OuterRef("pk") ...))})`. `annotate(queryset)` adds
    one JSON column per kind to a queryset of `Parent` (compiled once per database,
    `CompiledAnnotations`); `read(obj)` turns an object of that queryset's columns into
    {name: [instances]}.
    """

    def __init__(self, parent: type[Model], kinds: dict[str, tuple[JsonRows, Q]]):
        self.parent = parent
        self.kinds = kinds
        self.annotations = CompiledAnnotations(parent, lambda: {
            f"{name}_json": rows.expression(rows.model._default_manager.filter(where))
            for name, (rows, where) in kinds.items()})

    def annotate(self, queryset: QuerySet) -> QuerySet:
        """`queryset` with every kind's rows as JSON columns (see `read`)."""
        if queryset.model is not self.parent:
            raise TypeError(f"a RowSet of {self.parent.__name__} annotates no {queryset.model.__name__}")
        return self.annotations.annotate(queryset)

    def read(self, obj: Model, *, plain: bool = False) -> dict[str, list]:
        """The rows of an object fetched through `annotate`, as model instances (`plain`:
        as attribute objects, see `JsonRows.instances`)."""
        db = obj._state.db or "default"  # fetched objects always have one
        return {name: rows.instances(getattr(obj, f"{name}_json"), db, plain=plain)
                for name, (rows, _) in self.kinds.items()}
