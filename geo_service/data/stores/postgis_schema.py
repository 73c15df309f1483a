"""The PostGIS store's database side: its URL, its schema (``geo-service db init``) and the
transaction that writes a new version of a layer.

One table per layer, named by the layer id, in the store's schema: ``_seq`` (the stored
order), the catalog's properties as typed columns, and ``geom`` (EPSG:4326), with a GiST
index on ``geom`` and b-tree indexes on ``_seq`` and every text or integer property. Beside
them, ``layers`` (each layer's version, feature count and extent, so counts and extents
never scan a layer) and ``notes`` (small JSON documents such as the coverage manifest).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from geo_service.data.catalog import LayerSpec
from geo_service.data.geojson_io import round_coordinates
from geo_service.data.layer_rows import LayerRows, chunks_of
from geo_service.data.stores.postgis_versions import ensure_versions_table
from geo_service.errors import ProfileError

#: The schema used when the URL names none (``?schema=...``).
DEFAULT_SCHEMA = "geo_service"

#: Catalog property types as PostgreSQL column types.
COLUMN_TYPES = {
    "string": "text",
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
}

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class PostGISLocation:
    """Where a PostGIS store lives: libpq connection info and a schema."""

    conninfo: str
    schema: str

    def session_options(self, ours: str) -> str:
        """libpq ``options`` of every connection: ``ours``, then the URL's own (``?options=
        -c statement_timeout=5s``), which win where they set the same thing."""
        given = dict(parse_qsl(urlsplit(self.conninfo).query)).get("options", "")
        return f"{ours} {given}".strip()

    def shown(self) -> str:
        """The location for messages: host, port, database and schema; never a password."""
        url = urlsplit(self.conninfo)
        port = f":{url.port}" if url.port else ""
        return f"postgresql://{url.hostname or ''}{port}{url.path} (schema {self.schema})"


def parse_url(url: str) -> PostGISLocation:
    """``postgresql://user@host:port/db?schema=NAME`` (also ``postgres://``): the libpq URL
    without our ``schema`` parameter, and the schema (default ``geo_service``)."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in params if k == "schema"), DEFAULT_SCHEMA)
    if not _IDENTIFIER.match(schema):
        raise ProfileError(f"store schema {schema!r}: use lower-case letters, digits and _")
    rest = urlencode([(k, v) for k, v in params if k != "schema"])
    return PostGISLocation(urlunsplit(("postgresql", *parts[1:3], rest, "")), schema)


def check_identifier(name: str, what: str) -> str:
    """``name`` if it is a plain lower-case SQL identifier (layer and property ids are)."""
    if not _IDENTIFIER.match(name) or name in ("_seq", "geom"):
        raise ProfileError(f"{what} {name!r} cannot be a PostGIS column or table name")
    return name


def init_schema(conn: psycopg.Connection, schema: str) -> None:
    """Create the PostGIS extension, the schema and its ``layers`` and ``notes`` tables if
    they are not there (idempotent)."""
    ident = sql.Identifier(schema)
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.layers ("
            " id text PRIMARY KEY,"
            " version text NOT NULL,"
            " features bigint NOT NULL,"
            " extent double precision[],"
            " description text NOT NULL DEFAULT '',"
            " written_at timestamptz NOT NULL DEFAULT now())"
        ).format(ident)
    )
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.notes ("
            " name text PRIMARY KEY,"
            " document jsonb NOT NULL,"
            " written_at timestamptz NOT NULL DEFAULT now())"
        ).format(ident)
    )
    ensure_versions_table(conn, schema)


def schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    """Whether ``geo-service db init`` has made the store's tables in ``schema``."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.layers",)).fetchone()
    return bool(row[0])


def _python_values(spec: LayerSpec, frame: gpd.GeoDataFrame) -> list[list]:
    """The property columns of ``frame`` as plain Python values (None for missing)."""
    columns = []
    for prop in spec.properties:
        values = frame[prop.name] if prop.name in frame.columns else [None] * len(frame)
        converted = []
        for value in values:
            if value is None or pd.isna(value):
                converted.append(None)
            elif prop.type == "integer":
                converted.append(int(value))
            elif prop.type == "number":
                converted.append(float(value))
            elif prop.type == "boolean":
                converted.append(bool(value))
            else:
                converted.append(str(value))
        columns.append(converted)
    return columns


#: Rows copied at a time: the hex WKB of a chunk is made, sent and dropped before the next.
COPY_CHUNK_ROWS = 5_000


@dataclass
class WrittenTable:
    """What :func:`write_layer_table` wrote: the new version, the feature count and the
    extent (lon/lat; None when empty)."""

    version: str
    features: int
    extent: list[float] | None


def write_layer_table(
    conn: psycopg.Connection,
    schema: str,
    spec: LayerSpec,
    rows: LayerRows,
    *,
    description: str,
) -> WrittenTable:
    """Replace ``spec``'s table by ``rows`` (EPSG:4326; a frame or chunks of one, see
    :mod:`~geo_service.data.layer_rows`) inside the caller's transaction: a new table filled
    by COPY a chunk at a time and indexed, swapped for the old one, and the ``layers`` row
    updated. Coordinates are kept to 7 decimals (~1 cm), as in the file store. An error
    raised while the chunks are made rolls the whole write back with the transaction; ids
    repeated across chunks fail the id's unique index (:class:`psycopg.IntegrityError`)."""
    table = check_identifier(spec.id, "layer id")
    staged = f"{table}__staged"[:63]
    names = [check_identifier(p.name, f"property of {spec.id}") for p in spec.properties]
    ident = sql.Identifier
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(ident(schema), ident(staged)))
    conn.execute(
        sql.SQL(
            "CREATE TABLE {}.{} (_seq integer NOT NULL, {}, geom geometry(Geometry, 4326))"
        ).format(
            ident(schema),
            ident(staged),
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(ident(p.name), sql.SQL(COLUMN_TYPES[p.type]))
                for p in spec.properties
            ),
        )
    )
    copy_sql = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
        ident(schema),
        ident(staged),
        sql.SQL(", ").join(map(ident, ["_seq", *names, "geom"])),
    )
    seq, bounds = 0, []
    with conn.cursor().copy(copy_sql) as copy:
        for chunk in chunks_of(rows, COPY_CHUNK_ROWS):
            geometries = shapely.set_srid(round_coordinates(chunk.geometry.to_numpy()), 4326)
            wkb = shapely.to_wkb(geometries, hex=True, include_srid=True)
            for row in zip(*_python_values(spec, chunk), wkb, strict=True):
                copy.write_row((seq, *row))
                seq += 1
            if len(chunk):
                bounds.append(chunk.total_bounds)
            del chunk, geometries, wkb  # released before the next chunk is made
    conn.execute(
        sql.SQL("CREATE INDEX ON {}.{} USING gist (geom)").format(ident(schema), ident(staged))
    )
    conn.execute(
        sql.SQL("CREATE UNIQUE INDEX ON {}.{} (_seq)").format(ident(schema), ident(staged))
    )
    for prop in spec.properties:
        if prop.type in ("string", "integer"):
            unique = sql.SQL("UNIQUE ") if prop.name == spec.id_property else sql.SQL("")
            collate = sql.SQL(' COLLATE "C"') if prop.type == "string" else sql.SQL("")
            conn.execute(
                sql.SQL("CREATE {}INDEX ON {}.{} ({}{})").format(
                    unique, ident(schema), ident(staged), ident(prop.name), collate
                )
            )
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(ident(schema), ident(table)))
    conn.execute(
        sql.SQL("ALTER TABLE {}.{} RENAME TO {}").format(ident(schema), ident(staged), ident(table))
    )
    conn.execute(sql.SQL("ANALYZE {}.{}").format(ident(schema), ident(table)))
    version = secrets.token_hex(12)
    extent = _joined_bounds(bounds)
    conn.execute(
        sql.SQL(
            "INSERT INTO {}.layers (id, version, features, extent, description, written_at)"
            " VALUES (%s, %s, %s, %s, %s, now())"
            " ON CONFLICT (id) DO UPDATE SET version = excluded.version,"
            " features = excluded.features, extent = excluded.extent,"
            " description = excluded.description, written_at = excluded.written_at"
        ).format(ident(schema)),
        (spec.id, version, seq, extent, description),
    )
    return WrittenTable(version, seq, extent)


def _joined_bounds(bounds: list) -> list[float] | None:
    """The box around the chunks' boxes (west, south, east, north); None for none."""
    boxes = np.asarray(bounds, dtype=float).reshape(-1, 4)
    boxes = boxes[~np.isnan(boxes).any(axis=1)]  # a chunk of empty geometries has no box
    if not len(boxes):
        return None
    return [float(v) for v in (*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0))]


def write_note(conn: psycopg.Connection, schema: str, name: str, document: dict) -> None:
    """Keep ``document`` (plain JSON) as the note ``name``."""
    conn.execute(
        sql.SQL(
            "INSERT INTO {}.notes (name, document, written_at) VALUES (%s, %s, now())"
            " ON CONFLICT (name) DO UPDATE SET document = excluded.document,"
            " written_at = excluded.written_at"
        ).format(sql.Identifier(schema)),
        (name, json.dumps(document, ensure_ascii=False)),
    )
