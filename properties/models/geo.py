"""The grid of cells radius search filters on (``geo_cell``) and its lookup."""

from django.db import models
from django.db.models import F
from django.db.models.functions import Cast, Floor
from django.db.models.lookups import Lookup

GEO_CELLS_PER_DEGREE = 40  # a 0.025 degree grid: cells about 2.8 km high
GEO_CELL_ROW = 16_000  # more than the 14,400 cells of one row of longitude


class GeoCellField(models.BigIntegerField):
    """The type of :func:`geo_cell`: a ``bigint`` with an ``any_of`` lookup."""


class GeoCellsField(models.Field):
    """A list of cells as one query parameter (not a model field): an array literal
    (``{1,2,3}``, cast to ``bigint[]`` in the SQL) on PostgreSQL, a JSON array elsewhere.
    Text either way: psycopg quotes a string five times faster than it writes a list
    of a few hundred integers as an array."""

    def get_db_prep_value(self, value, connection, prepared=False):
        cells = ",".join(str(int(cell)) for cell in value)
        return f"{{{cells}}}" if connection.vendor == "postgresql" else f"[{cells}]"


@GeoCellField.register_lookup
class AnyOf(Lookup):
    """``cell = ANY(%s::bigint[])`` on PostgreSQL: one array parameter instead of an
    ``IN`` list of hundreds (their quoting cost a search about 2 ms of Python); the
    planner estimates both alike. Elsewhere ``IN`` the elements of a JSON array, so the
    SQL does not depend on how many cells there are either."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        if hasattr(self.rhs, "resolve_expression"):
            return self.rhs
        return models.Value(list(self.rhs), output_field=GeoCellsField())

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        params = (*lhs_params, *rhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY({rhs}::bigint[])", params
        # lhs and rhs are compiled SQL with placeholders; the cells are parameters
        return f"{lhs} IN (SELECT value FROM json_each({rhs}))", params  # noqa: S608


def geo_cell() -> models.Expression:
    """The grid cell of a listing's coordinates as one integer:
    ``floor(latitude * 40) * 16000 + floor(longitude * 40)``.

    Indexed (``prop_geo_cell``), so that PostgreSQL keeps statistics of how listings
    cluster: it estimates the two ranges of a bounding box as if latitude and longitude
    were independent, and in a city's box it expected 288 listings where there were
    8,570, then picked the wrong plan (docs/benchmarks.md). Radius search filters on
    the cells the circle touches instead.
    """

    def cell(field: str) -> models.Expression:
        return Cast(Floor(F(field) * GEO_CELLS_PER_DEGREE), models.BigIntegerField())

    return models.ExpressionWrapper(
        cell("latitude") * GEO_CELL_ROW + cell("longitude"), output_field=GeoCellField()
    )
