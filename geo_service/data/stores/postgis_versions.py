"""The PostGIS store's versions: a ``versions`` table in the store's schema (one row per
version of a layer) and, for each version a write replaced, its table renamed aside
(``_v_…``, named in the row) instead of dropped. Everything happens inside the writing
transaction, so a failed write leaves the records and tables as they were."""

from __future__ import annotations

import secrets

import psycopg
from psycopg import sql

from geo_service.data.versions import LayerVersion
from geo_service.errors import PreconditionFailed

_COLUMNS = "number, version, time, author, source, description, features, added, changed, removed"


def ensure_versions_table(conn: psycopg.Connection, schema: str) -> None:
    """Make the ``versions`` table if the schema lacks it (schemas made before it)."""
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.versions ("
            " layer text NOT NULL, number integer NOT NULL, version text NOT NULL,"
            " time timestamptz NOT NULL, author text NOT NULL, source text NOT NULL,"
            " description text NOT NULL DEFAULT '', features bigint NOT NULL,"
            " added integer, changed integer, removed integer, kept_table text,"
            " pruned boolean NOT NULL DEFAULT false, PRIMARY KEY (layer, number))"
        ).format(sql.Identifier(schema))
    )


def _has_versions_table(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.versions",)).fetchone()
    return bool(row[0])


def recorded(conn: psycopg.Connection, schema: str, layer_id: str) -> list[tuple]:
    """(record, kept table) of every recorded version, oldest first."""
    if not _has_versions_table(conn, schema):
        return []
    rows = conn.execute(
        sql.SQL(
            f"SELECT {_COLUMNS}, kept_table, pruned FROM {{}}.versions WHERE layer = %s "
            "ORDER BY number"
        ).format(sql.Identifier(schema)),
        (layer_id,),
    ).fetchall()
    return [(_record(row[:10], kept=not row[11]), row[10]) for row in rows]


def _record(row: tuple, *, kept: bool = True) -> LayerVersion:
    number, version, time, author, source, description, features, added, changed, removed = row
    return LayerVersion(
        number=number,
        version=version,
        time=time.replace(microsecond=0).isoformat(),
        author=author,
        source=source,
        description=description,
        features=int(features),
        added=added,
        changed=changed,
        removed=removed,
        kept=kept,
    )


def records(conn: psycopg.Connection, schema: str, layer_id: str) -> list[LayerVersion]:
    """Every version, the current table last: the recorded ones, and the current table
    as one more if they do not name it (loaded before versions were kept)."""
    kept = [record for record, _ in recorded(conn, schema, layer_id)]
    current = conn.execute(
        sql.SQL(
            "SELECT version, features, written_at, description FROM {}.layers WHERE id = %s"
        ).format(sql.Identifier(schema)),
        (layer_id,),
    ).fetchone()
    if current is None or (kept and kept[-1].version == current[0]):
        return kept
    version, features, written_at, description = current
    number = kept[-1].number + 1 if kept else 1
    source = "changed outside geo-service" if kept else "data as first found"
    row = (number, version, written_at, "unknown", source, description, features)
    counts = (None, None, None) if kept else (int(features), 0, 0)
    return [*kept, _record((*row, *counts))]


def keep_current(
    conn: psycopg.Connection, schema: str, layer_id: str, expected_version: str | None = None
) -> tuple[int, str | None]:
    """Before a write, in its transaction, holding the layer's row (other writers wait):
    refuse it if the layer is no longer ``expected_version`` (:class:`PreconditionFailed`),
    record the current version if it is not yet, and rename its table aside so it stays
    readable. Returns its number and the table it now has (0, None: no layer yet)."""
    ensure_versions_table(conn, schema)
    row = conn.execute(
        sql.SQL("SELECT version FROM {}.layers WHERE id = %s FOR UPDATE").format(
            sql.Identifier(schema)
        ),
        (layer_id,),
    ).fetchone()
    current_version = None if row is None else row[0]
    if expected_version is not None and expected_version != current_version:
        raise PreconditionFailed(
            f"layer {layer_id!r} is at version {current_version}, not {expected_version}: "
            "read it again and redo the change"
        )
    history = records(conn, schema, layer_id)
    if not history:
        return 0, None
    current = history[-1]
    stored = {record.number for record, _ in recorded(conn, schema, layer_id)}
    if current.number not in stored:
        record(conn, schema, layer_id, current)
    aside = f"_v_{secrets.token_hex(8)}"
    conn.execute(
        sql.SQL("ALTER TABLE {}.{} RENAME TO {}").format(
            sql.Identifier(schema), sql.Identifier(layer_id), sql.Identifier(aside)
        )
    )
    conn.execute(
        sql.SQL("UPDATE {}.versions SET kept_table = %s WHERE layer = %s AND number = %s").format(
            sql.Identifier(schema)
        ),
        (aside, layer_id, current.number),
    )
    return current.number, aside


def record(conn: psycopg.Connection, schema: str, layer_id: str, version: LayerVersion) -> None:
    """Insert ``version``'s row."""
    conn.execute(
        sql.SQL(
            f"INSERT INTO {{}}.versions (layer, {_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ).format(sql.Identifier(schema)),
        (
            layer_id,
            version.number,
            version.version,
            version.time,
            version.author,
            version.source,
            version.description,
            version.features,
            version.added,
            version.changed,
            version.removed,
        ),
    )


def kept_table(conn: psycopg.Connection, schema: str, layer_id: str, number: int) -> str | None:
    """The table holding version ``number`` if it was replaced and not pruned."""
    for version, table in recorded(conn, schema, layer_id):
        if version.number == number and version.kept:
            return table
    return None


def prune(conn: psycopg.Connection, schema: str, layer_id: str, keep: int) -> list[int]:
    """Drop the tables of all but the ``keep`` latest versions (≥ 1); mark them pruned."""
    history = recorded(conn, schema, layer_id)
    cut = len(records(conn, schema, layer_id)) - max(keep, 1)
    pruned = []
    for version, table in history[: max(cut, 0)]:
        if not version.kept or table is None:
            continue
        conn.execute(
            sql.SQL("DROP TABLE IF EXISTS {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        )
        conn.execute(
            sql.SQL(
                "UPDATE {}.versions SET kept_table = NULL, pruned = true "
                "WHERE layer = %s AND number = %s"
            ).format(sql.Identifier(schema)),
            (layer_id, version.number),
        )
        pruned.append(version.number)
    return pruned
