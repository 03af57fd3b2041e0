"""Write many rows of a tenant table fast, in the workspace in context and nowhere else.

The shared bulk writer of every domain (contacts imports, event ingestion, segment memberships,
email sends, campaign steps). Django's bulk_create and bulk_update compile SQL per value and
cost most of an import's time; these functions adapt each value once and send a batch in one
statement on PostgreSQL (unnest of one array per column) or an executemany on SQLite.

The workspace guard matches the tenant managers': insert refuses a row whose workspace_id is
not the workspace in context, update filters on it (a wrong id can only miss) and refuses to
change it. Rows go to the region database of the workspace in context. id_in is the read side:
a condition on thousands of ids sent as one parameter.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Expression, F, Q
from django.db.models.constants import OnConflict

from tidings import fastjson
from tidings.tenancy.context import require_workspace
from tidings.tenancy.models import TenantModel

BATCH_SIZE = 1000


def _db_alias() -> str:
    return require_workspace().db_alias


def _require_tenant_model(model) -> None:
    if not (isinstance(model, type) and issubclass(model, TenantModel)):
        raise TypeError(f"{model!r} is not a tenant model: the bulk writer writes tenant tables only")


def _refuse_other_workspaces(model, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Raise PermissionError unless every row carries the workspace in context's id.

    workspace_id must be one of the columns: a tenant row without one would be invisible to
    every workspace (or, on PostgreSQL, refused by row-level security after the fact).
    """
    _require_tenant_model(model)
    try:
        position = list(columns).index("workspace_id")
    except ValueError:
        raise PermissionError("a tenant row needs its workspace_id column") from None
    workspace_id = require_workspace().id
    if any(row[position] != workspace_id for row in rows):
        raise PermissionError("refusing to write a row of another workspace")


def allocate_ids(model: type[TenantModel], count: int) -> list[int]:
    """Reserve count new ids of model before inserting (a contact's id is part of its ciphertexts' AAD).

    PostgreSQL draws them from the identity sequence. SQLite takes max(id, sqlite_sequence)+1...;
    that is safe because region transactions are IMMEDIATE, holding the write lock until commit.
    """
    connection = connections[_db_alias()]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (a model's table name)
            highest = cursor.fetchone()[0] or 0
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            start = max(highest, row[0] if row else 0) + 1
            return list(range(start, start + count))
    raise NotImplementedError(f"id allocation is not implemented for {connection.vendor}")


def adapted(connection, fields, rows: Sequence[Sequence]) -> Sequence[Sequence]:
    """Return rows with the values of fields (the rows' leading columns) adapted for the database.

    Django's bulk_create and bulk_update spend most of their time compiling SQL per value; this
    converts each value once with the backend's own adapters instead, and a value object shared
    by many rows (the batch's timestamp, an event's data) only once.
    """
    converters = []
    for position, f in enumerate(fields):
        internal = f.get_internal_type()
        if internal == "JSONField":
            converters.append((position, json_adapter(connection, f.encoder)))
        elif internal == "DateTimeField":
            converters.append((position, datetime_adapter(connection)))
    if not converters:
        return rows
    # Keyed by id(), as every value stays referenced by rows until the executemany is done;
    # empty dicts and lists (each contact's own `custom`) share one key per type.
    adapted: dict[Any, Any] = {}
    converted = []
    for row in rows:
        row = list(row)
        for position, convert in converters:
            value = row[position]
            if value is not None:
                key = id(value) if value or type(value) not in (dict, list) else type(value)
                if key not in adapted:
                    adapted[key] = convert(value)
                row[position] = adapted[key]
        converted.append(row)
    return converted


def json_adapter(connection, encoder):
    """Return the connection's adaptation of a JSONField's value; orjson's (tidings.fastjson) without an encoder.

    Django's is json.dumps(value, cls=encoder), ~2.7 us an event's data against ~0.3 us (decision 0044).
    """
    if encoder is not None:
        return functools.partial(connection.ops.adapt_json_value, encoder=encoder)
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb  # psycopg is an optional dependency: imported only on PostgreSQL

        return lambda value: Jsonb(value, dumps=fastjson.dumps)
    return fastjson.dumps


def datetime_adapter(connection):
    """Return the connection's adaptation of a datetime value, with a fast path for UTC on SQLite.

    Django's SQLite adaptation converts every aware value to the connection's time zone (~10 us a
    value, the largest part of a tracking batch's adaptation); an aware UTC value on a UTC
    connection is already there, and its naive text is what Django would store.
    """
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor != "sqlite" or connection.timezone_name != "UTC":
        return adapt

    def adapt_utc(value):
        if value is not None and value.tzinfo is datetime.UTC:
            return str(value.replace(tzinfo=None))
        return adapt(value)

    return adapt_utc


def _model_fields(model, columns: Sequence[str]) -> list:
    return [next(f for f in model._meta.concrete_fields if f.attname == name) for name in columns]


def insert(
    model: type[TenantModel], columns: Sequence[str], rows: Sequence[Sequence], *, ignore_conflicts: bool = False
) -> None:
    """Insert rows (tuples in columns' order) in batches, skipping the ORM's per-value compilation.

    PostgreSQL gets one statement per batch (see _pg_arrays); SQLite an executemany, which costs
    no round trip there. With ignore_conflicts a row hitting a unique index is skipped silently:
    callers that must know read the ids back.
    """
    if not rows:
        return
    _refuse_other_workspaces(model, columns, rows)
    connection = connections[_db_alias()]
    ops = connection.ops
    fields = _model_fields(model, columns)
    rows = adapted(connection, fields, rows)
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    if connection.vendor == "postgresql":
        values = "SELECT * FROM unnest({})".format(", ".join(_pg_array_params(connection, fields)))  # noqa: S608 (types)
    else:
        values = "VALUES ({})".format(", ".join(["%s"] * len(fields)))
    sql = "{} {} ({}) {} {}".format(
        ops.insert_statement(on_conflict=on_conflict),
        ops.quote_name(model._meta.db_table),
        ", ".join(ops.quote_name(f.column) for f in fields),
        values,
        ops.on_conflict_suffix_sql(fields, on_conflict, None, None) or "",
    )
    if connection.vendor == "postgresql":
        with _pg_binding_cursor(connection) as cursor:
            for start in range(0, len(rows), BATCH_SIZE):
                cursor.execute(sql, _pg_arrays(rows[start : start + BATCH_SIZE], len(fields)))
        return
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, rows[start : start + BATCH_SIZE])


def insert_new(model: type[TenantModel], columns: Sequence[str], rows: Sequence[Sequence], *, returning: str) -> list:
    """Insert rows, skipping those that hit a unique index; return the returning column of the rows inserted.

    One INSERT ... ON CONFLICT DO NOTHING RETURNING per batch: the set-based way to learn which rows were
    new (receipts of client event ids), safe against another writer inserting the same keys meanwhile.
    """
    if not rows:
        return []
    _refuse_other_workspaces(model, columns, rows)
    connection = connections[_db_alias()]
    ops = connection.ops
    fields = _model_fields(model, columns)
    rows = adapted(connection, fields, rows)
    returned = ops.quote_name(_model_fields(model, [returning])[0].column)
    head = "{} {} ({})".format(
        ops.insert_statement(on_conflict=OnConflict.IGNORE),
        ops.quote_name(model._meta.db_table),
        ", ".join(ops.quote_name(f.column) for f in fields),
    )
    tail = "{} RETURNING {}".format(ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None) or "", returned)
    new: list = []
    if connection.vendor == "postgresql":
        sql = "{} SELECT * FROM unnest({}) {}".format(head, ", ".join(_pg_array_params(connection, fields)), tail)  # noqa: S608 (types)
        with _pg_binding_cursor(connection) as cursor:
            for start in range(0, len(rows), BATCH_SIZE):
                cursor.execute(sql, _pg_arrays(rows[start : start + BATCH_SIZE], len(fields)))
                new += [row[0] for row in cursor.fetchall()]
        return new
    # SQLite: a multi-row VALUES (executemany cannot return rows), under its 32,766 variables a statement.
    per_statement = max(1, 32_000 // len(fields))
    row_sql = "({})".format(", ".join(["%s"] * len(fields)))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"{head} VALUES {', '.join([row_sql] * len(chunk))} {tail}", [v for row in chunk for v in row]
            )
            new += [row[0] for row in cursor.fetchall()]
    return new


def insert_select(
    model: type[TenantModel],
    constants: dict[str, Any],
    columns: Sequence[str],
    source,
    *,
    ignore_conflicts: bool = False,
) -> int:
    """INSERT INTO model's table the rows of a SELECT: constants in every row, columns from source; return the count.

    source is a values_list queryset of a tenant model (scoped to the workspace in context) whose
    columns fill columns, in order. The rows never pass through Python: a segment's million new
    members are one statement. constants must hold the workspace in context's workspace_id.
    """
    _require_tenant_model(model)
    if constants.get("workspace_id") != require_workspace().id:
        raise PermissionError("refusing to write a row of another workspace")
    if not (isinstance(source.model, type) and issubclass(source.model, TenantModel)):
        raise TypeError("the rows of an INSERT ... SELECT come from a tenant table")
    connection = connections[_db_alias()]
    ops = connection.ops
    constant_fields = _model_fields(model, list(constants))
    fields = [*constant_fields, *_model_fields(model, columns)]
    constant_values = adapted(connection, constant_fields, [list(constants.values())])[0]
    try:
        select_sql, select_params = source.query.get_compiler(connection=connection).as_sql()
    except EmptyResultSet:  # Django proved the SELECT finds nothing (e.g. id IN ()): nothing to insert
        return 0
    names = [f"c{position}" for position in range(len(columns))]
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    placeholders = [_constant_placeholder(connection, f) for f in constant_fields]
    sql = "{} {} ({}) SELECT {} FROM ({}) AS source({}) {}".format(  # noqa: S608 (a model's table and columns)
        ops.insert_statement(on_conflict=on_conflict),
        ops.quote_name(model._meta.db_table),
        ", ".join(ops.quote_name(f.column) for f in fields),
        ", ".join([*placeholders, *(f"source.{name}" for name in names)]),
        select_sql,
        ", ".join(names),
        ops.on_conflict_suffix_sql(fields, on_conflict, None, None) or "",
    )
    if connection.vendor == "sqlite":
        # SQLite names a subquery's columns only through a CTE; "AS source(c0, ...)" is PostgreSQL's.
        sql = "WITH source({}) AS ({}) {} {} ({}) SELECT {} FROM source {}".format(  # noqa: S608 (as above)
            ", ".join(names),
            select_sql,
            ops.insert_statement(on_conflict=on_conflict),
            ops.quote_name(model._meta.db_table),
            ", ".join(ops.quote_name(f.column) for f in fields),
            ", ".join([*placeholders, *(f"source.{name}" for name in names)]),
            # SQLite's parser needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
            "WHERE true " + (ops.on_conflict_suffix_sql(fields, on_conflict, None, None) or ""),
        )
        params = [*select_params, *constant_values]
    else:
        params = [*constant_values, *select_params]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Python's sqlite3 counts rows only for statements that start with INSERT: a WITH ...
            # INSERT leaves rowcount at -1, so count the connection's changes instead.
            before = connection.connection.total_changes
            cursor.execute(sql, params)
            return connection.connection.total_changes - before
        cursor.execute(sql, params)
        return cursor.rowcount


def _constant_placeholder(connection, field) -> str:
    if connection.vendor == "postgresql" and field.get_internal_type() == "JSONField":
        return "%s::jsonb"
    return "%s"


def update(model: type[TenantModel], columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Update rows of the current workspace in batches; each row is its columns' values, then its id.

    Django's bulk_update builds one CASE WHEN per column and row: re-importing a known list ran
    at a few hundred contacts a second. The workspace is in the WHERE clause, so a wrong id can
    only miss, never touch another workspace's row. Ids must be unique within rows: PostgreSQL
    applies one statement per batch, where a repeated id would update the row only once.
    """
    if not rows:
        return
    _require_tenant_model(model)
    if "workspace_id" in columns:
        raise PermissionError("a row never moves to another workspace")
    connection = connections[_db_alias()]
    ops = connection.ops
    fields = _model_fields(model, columns)
    workspace_id = require_workspace().id
    table = ops.quote_name(model._meta.db_table)
    if connection.vendor == "postgresql":
        id_field = model._meta.pk
        # The unnested columns are named by position, so no model column name can clash with them.
        names = [f"v{position}" for position in range(len(fields) + 1)]
        sql = "UPDATE {} AS t SET {} FROM unnest({}) AS v({}) WHERE t.{} = v.{} AND t.{} = %s".format(  # noqa: S608 (a model's table and columns)
            table,
            ", ".join(f"{ops.quote_name(f.column)} = v.{name}" for f, name in zip(fields, names, strict=False)),
            ", ".join(_pg_array_params(connection, [*fields, id_field])),
            ", ".join(names),
            ops.quote_name(id_field.column),
            names[-1],
            ops.quote_name("workspace_id"),
        )
        rows = adapted(connection, fields, rows)
        with _pg_binding_cursor(connection) as cursor:
            for start in range(0, len(rows), BATCH_SIZE):
                cursor.execute(sql, [*_pg_arrays(rows[start : start + BATCH_SIZE], len(fields) + 1), workspace_id])
        return
    rows = [[*row, workspace_id] for row in adapted(connection, fields, rows)]
    sql = "UPDATE {} SET {} WHERE {} = %s AND {} = %s".format(  # noqa: S608 (a model's table and columns)
        table,
        ", ".join(f"{ops.quote_name(f.column)} = %s" for f in fields),
        ops.quote_name("id"),
        ops.quote_name("workspace_id"),
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, rows[start : start + BATCH_SIZE])


# A type modifier: varchar(254) -> varchar. Casting an array to varchar(n)[] would truncate
# too long values silently; without it, the assignment to the column refuses them as an insert would.
_TYPE_MODIFIER = re.compile(r"\([^)]*\)")


def _pg_array_params(connection, fields) -> list[str]:
    """Return one "%b::type[]" placeholder per field (an array bound in binary), for unnest() on PostgreSQL."""
    return [f"%b::{_TYPE_MODIFIER.sub('', f.db_type(connection))}[]" for f in fields]


def _pg_binding_cursor(connection) -> Any:
    """Return a Django cursor on connection that binds parameters on the server (psycopg 3).

    Django's default cursor inlines parameters client-side: escaping a batch's arrays as text
    literals cost ~40 ms per 1,000 contacts, binary arrays ~8 ms. The cursor shares the
    connection, so it writes in the caller's transaction, and Django still logs its queries.
    """
    # psycopg is an optional dependency: imported only on PostgreSQL.
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = ServerBindingCursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def _pg_arrays(rows: Sequence[Sequence], width: int) -> list[list]:
    """Return rows transposed into one list per column, which psycopg binds as arrays.

    executemany costs a round trip per row on PostgreSQL (a fifth of a plain INSERT's rate);
    COPY is refused on tables with row-level security; a multi-row VALUES is slower through
    Django's client-side binding. unnest() of one array per column sends a batch in one statement.
    """
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


class _IdIn(Expression):
    """column IN ids, with the ids as one array parameter on PostgreSQL (= ANY), a plain IN elsewhere."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str | Any, ids: Sequence[int]) -> None:
        super().__init__()
        self.column = F(column) if isinstance(column, str) else column
        self.ids = [int(pk) for pk in ids]

    def get_source_expressions(self) -> list:
        return [self.column]

    def set_source_expressions(self, exprs) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        if not self.ids:
            return "1 = 0", []  # not EmptyResultSet: the statement must still be built (INSERT ... SELECT)
        return f"{sql} IN ({', '.join(['%s'] * len(self.ids))})", [*params, *self.ids]

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        return f"{sql} = ANY(%s::bigint[])", [*params, self.ids]


def id_in(column: str, ids: Sequence[int]) -> Q:
    """Return the condition "column is one of ids", for a few thousand ids (an incremental refresh's contacts).

    Django and the driver expand column__in=ids value by value (~10 µs an id, twice): on
    PostgreSQL the ids go instead as one array parameter (column = ANY(array)), which is still an
    index condition. Other engines get a plain IN (SQLite allows 32,766 parameters a statement).
    """
    return Q(_IdIn(column, ids))
