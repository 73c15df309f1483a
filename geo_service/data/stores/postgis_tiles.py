"""Vector tiles from PostGIS, in one statement: each feature cut to the tile's box in lon/lat
(a city-wide polygon is projected only where it meets the tile), simplified as the file
store does (``SIMPLIFY_UNITS``), then ``ST_AsMVTGeom`` clips and quantises it to the tile
and ``ST_AsMVT`` encodes them — the database's C, no rows to Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import psycopg
from psycopg import sql

from geo_service.data.catalog import LayerSpec
from geo_service.data.vector_tiles import SIMPLIFY_UNITS, TILE_BUFFER, TILE_EXTENT, TileAddress
from geo_service.errors import InvalidQuery


def tile_statement(
    schema: str, spec: LayerSpec, properties: Sequence[str], where: Mapping[str, object]
) -> tuple[sql.Composable, list]:
    """The statement and its parameters (after the tile's zoom, column, row, and the
    margin of the box to read, each given twice: see :func:`read_tile`)."""
    unknown = [name for name in [*properties, *where] if name not in spec.property_names]
    if unknown:
        raise InvalidQuery(f"layer {spec.id!r} has no property {unknown[0]!r}")
    filters = [sql.SQL("{} = %s").format(sql.Identifier(name)) for name in where]
    statement = sql.SQL(
        """
        WITH bounds AS (
            SELECT ST_TileEnvelope(%s, %s, %s) AS tile,
                   ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => %s), 4326) AS wanted
        )
        SELECT ST_AsMVT(features, %s, {extent}, 'geom') FROM (
            SELECT {columns},
                   ST_AsMVTGeom(
                       ST_SimplifyPreserveTopology(
                           ST_Transform(ST_ClipByBox2D(t.geom, bounds.wanted), 3857),
                           (ST_XMax(bounds.tile) - ST_XMin(bounds.tile)) * {simplify}
                       ),
                       bounds.tile, {extent}, {buffer}, true
                   ) AS geom
            FROM {table} AS t, bounds
            WHERE t.geom && bounds.wanted{filters}
            ORDER BY t._seq
        ) AS features
        WHERE geom IS NOT NULL
        """
    ).format(
        extent=sql.Literal(TILE_EXTENT),
        simplify=sql.Literal(SIMPLIFY_UNITS / TILE_EXTENT),
        buffer=sql.Literal(TILE_BUFFER),
        columns=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in properties),
        table=sql.Identifier(schema, spec.id),
        filters=sql.SQL("").join(sql.SQL(" AND t.") + clause for clause in filters),
    )
    return statement, [spec.id, *where.values()]


def read_tile(
    conn: psycopg.Connection,
    schema: str,
    spec: LayerSpec,
    tile: TileAddress,
    properties: Sequence[str],
    where: Mapping[str, object],
) -> bytes:
    """The tile as MVT bytes (``b""`` when no feature reaches it)."""
    statement, params = tile_statement(schema, spec, properties, where)
    address = [tile.zoom, tile.col, tile.row]
    margin = TILE_BUFFER / TILE_EXTENT
    row = conn.execute(statement, [*address, *address, margin, *params]).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
