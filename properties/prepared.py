"""ORM queries compiled once per shape, then bound to each call's values.

Search builds the same queryset over and over with other values: building it (two
correlated subqueries, a distance expression, a dozen lookups) and compiling it to SQL
cost a search request more CPU than everything else in it together (docs/benchmarks.md).
Queries whose values differ but whose filters, ordering and slice are the same compile
to the same SQL with other parameters, so here the SQL of a *shape* is compiled once per
process and kept; a call only binds its values to the parameters.

The query is still written with the ORM, by one builder function for both uses. The
builder gets its values through :class:`Terms`: it may ask which values are present (the
shape) and take each one as an expression, but never read it. Given real values, the
expressions are ``Value`` objects and the result is an ordinary queryset; given names,
they are :class:`Param` objects, which compile exactly as ``Value`` does (same SQL) but
leave a :class:`Slot` among the parameters where the value goes. A compiled shape is
only kept if it is verified: the queryset built with the real values of the call that
compiled it must give the same SQL and, once bound, the same parameters. A shape that
does not verify is never cached; its calls use the ordinary queryset.
"""

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Field, QuerySet, Value
from django.db.models.expressions import Col
from django.db.models.sql import Query

logger = logging.getLogger(__name__)


class Slot:
    """Where a named value goes among a compiled query's parameters."""

    __slots__ = ("field", "name")

    def __init__(self, name: str, field: Field):
        self.name = name
        self.field = field

    def bind(self, values: dict[str, Any], connection) -> Any:
        # what Value.as_sql does with a value
        return self.field.get_db_prep_value(values[self.name], connection=connection)

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class Param(Value):
    """A value by name: compiles as ``Value`` would (the same SQL, SQLite's ``CAST`` of
    decimals included), with a :class:`Slot` for its parameter."""

    def __init__(self, name: str, output_field: Field):
        super().__init__(None, output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        connection.ops.check_expression_support(self)
        return "%s", [Slot(self.name, self.output_field)]


class Terms:
    """The values of one call, as a query builder sees them: ``name in terms`` tells the
    shape, ``terms(name)`` gives the value as an expression (a ``Value``, or with
    ``named`` a :class:`Param`)."""

    def __init__(self, values: dict[str, Any], fields: Callable[[str], Field], named: bool):
        self._values = values
        self._field = fields
        self._named = named

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def __call__(self, name: str) -> Value:
        if name not in self._values:
            raise KeyError(name)
        field = self._field(name)
        return Param(name, field) if self._named else Value(self._values[name], output_field=field)


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: tuple  # constants, and Slots for the values
    query: Query  # an empty query of the model, for a compiler that converts values
    select: tuple  # the selected columns' types, as expressions (see _column_type)
    names: tuple[str, ...]  # the rows' keys, as QuerySet.values() names them

    def bind(self, values: dict[str, Any], connection) -> list:
        return [p.bind(values, connection) if isinstance(p, Slot) else p for p in self.params]

    def rows(self, values: dict[str, Any], using: str) -> list[dict]:
        """Run with ``values``; the rows as ``QuerySet.values()`` would give them."""
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.bind(values, connection))
            rows = cursor.fetchall()
        compiler = self.query.get_compiler(connection=connection)
        converters = compiler.get_converters(self.select)
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [dict(zip(self.names, row, strict=True)) for row in rows]


def compile_shape(
    build: Callable[[Terms], QuerySet],
    values: dict[str, Any],
    fields: Callable[[str], Field],
    using: str,
) -> CompiledQuery | None:
    """Compile ``build``'s query with :class:`Param` values and verify it against the
    same query built with ``values`` (see the module docstring); ``None`` if it differs."""
    connection = connections[using]
    named = build(Terms(values, fields, named=True))
    if named.query.extra_select or named._fields is None:
        raise ValueError("compile_shape() needs a .values() queryset without extra()")
    compiler = named.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    query = named.query
    names = (
        list(query.selected)
        if query.selected
        else [
            *query.values_select,
            *query.annotation_select,
        ]
    )
    compiled = CompiledQuery(
        sql=sql,
        params=tuple(params),
        query=Query(query.model),
        select=tuple(_column_type(s[0]) for s in compiler.select[: compiler.col_count]),
        names=tuple(names),
    )
    plain_sql, plain_params = build(Terms(values, fields, named=False)).query.sql_with_params()
    bound = compiled.bind(values, connection)
    same = plain_sql == sql and len(bound) == len(plain_params)
    same = same and all(
        type(a) is type(b) and a == b for a, b in zip(bound, plain_params, strict=False)
    )
    if not same:
        logger.warning("query shape not cached, its compiled SQL did not verify: %.300s", sql)
        return None
    return compiled


def _column_type(expression):
    """What converting a selected value needs of its expression: a column as it is, any
    other expression (a subquery holds a whole query) as a ``Value`` of its type, which
    converts values alike. A compiled shape then keeps a few kilobytes, not the ~75 KB
    of its built query."""
    if isinstance(expression, Col):
        return expression
    return Value(None, output_field=expression.output_field)


class ShapeCache:
    """Compiled queries by shape, least recently used dropped beyond ``max_size``. Shared
    by a process's request threads: two first calls of a shape may both compile it."""

    def __init__(self, max_size: int = 256):
        self.max_size = max_size
        self._items: OrderedDict[Hashable, CompiledQuery | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compile: Callable[[], CompiledQuery | None]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        compiled = compile()
        with self._lock:
            self._items[key] = compiled
            while len(self._items) > self.max_size:
                self._items.popitem(last=False)
        return compiled

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
