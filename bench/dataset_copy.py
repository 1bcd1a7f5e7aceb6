"""COPY helpers for the search benchmark's dataset (``bench/dataset.py``): rows streamed into
a model's table with COPY, the columns the generator leaves out taking the model's defaults,
and the table's id sequence moved past the ids it wrote."""

import time
from datetime import UTC, datetime

from psycopg.types.json import Jsonb

from bench.common import log


def _defaults(model, given: list[str]) -> tuple[list[str], list]:
    """Columns the generator does not set, with the model's default for each."""
    columns, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in given or f.primary_key:
            continue
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = datetime.now(UTC)
        else:
            value = f.get_default()
        if isinstance(value, dict | list):
            value = Jsonb(value)
        columns.append(f.column)
        values.append(value)
    return columns, values


def copy_rows(model, columns: list[str], rows, *, label: str, total: int) -> None:
    """COPY ``rows`` (tuples in ``columns`` order) into the model's table; other columns
    take the model defaults."""
    from django.db import connection

    extra_columns, extra_values = _defaults(model, columns)
    extra = tuple(extra_values)
    table = model._meta.db_table
    names = ", ".join(f'"{c}"' for c in [*columns, *extra_columns])
    started = time.monotonic()
    step = max(total // 10, 1)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for n, row in enumerate(rows, 1):
                copy.write_row(row + extra)
                if n % step == 0:
                    log(f"  {label}: {n:,}/{total:,} ({time.monotonic() - started:.0f} s)")
    log(f"  {label}: {total:,} rows in {time.monotonic() - started:.1f} s")


def reset_sequence(model) -> None:
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 1))"  # noqa: E501, S608 - a model's own table
        cursor.execute(sql)
