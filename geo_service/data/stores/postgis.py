"""A store in PostgreSQL/PostGIS, shared by every worker and machine that serves the
district: bbox and property filters in SQL with bound parameters only, GiST-indexed, keyset
paging, counts and extents from the ``layers`` table, writes in one transaction.

Serving connections come from a pool and run with ``max_parallel_workers_per_gather = 0``:
parallel scans made a point query ~12x slower on a busy 2-core server.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import geopandas as gpd
import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from geo_service.data.catalog import Catalog, LayerSpec
from geo_service.data.layer_rows import LayerRows, whole_frame
from geo_service.data.stores import postgis_versions as versions
from geo_service.data.stores.base import BBox, FeaturePage, FeatureQuery
from geo_service.data.stores.kept_texts import KeptTexts
from geo_service.data.stores.keyset import Cursor, after_clause, query_key
from geo_service.data.stores.postgis_rows import (
    feature_text_sql,
    id_frame,
    plain_value,
    rows_frame,
)
from geo_service.data.stores.postgis_schema import (
    PostGISLocation,
    check_identifier,
    parse_url,
    schema_exists,
    write_layer_table,
    write_note,
)
from geo_service.data.stores.postgis_tiles import read_tile
from geo_service.data.validation import Problem, count_problems, validate_layer
from geo_service.data.vector_tiles import TileAddress
from geo_service.data.versions import LayerVersion, new_version
from geo_service.errors import (
    Conflict,
    DataValidationError,
    FeatureNotFound,
    InvalidQuery,
    LayerNotFound,
    ProfileError,
    StoreFull,
    StoreUnavailable,
    VersionNotFound,
)

log = logging.getLogger(__name__)

#: Session settings of every connection.
SESSION_OPTIONS = "-c max_parallel_workers_per_gather=0 -c application_name=geo_service"


class PostGISStore:
    """The layers of ``catalog`` in the PostGIS database at ``url``
    (``postgresql://user@host:port/db?schema=NAME``).

    Raises :class:`ProfileError` if the schema has not been made (``geo-service db init``)
    or a source layer of the catalog has not been loaded (``geo-service db load``).
    """

    def __init__(
        self, catalog: Catalog, url: str, *, pool_size: int = 8, keep_versions: int | None = None
    ):
        self.catalog = catalog
        self.keep_versions = keep_versions
        self.location: PostGISLocation = parse_url(url)
        self.schema = self.location.schema
        for spec in catalog:
            check_identifier(spec.id, "layer id")
        self.pool = ConnectionPool(
            self.location.conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "options": self.location.session_options(SESSION_OPTIONS)},
            open=False,
            name="geo_service",
        )
        self._kept = KeptTexts()
        self._orders: dict[str, tuple[str, list[int], list[tuple]]] = {}  # layer: (version, ...)
        try:
            self.pool.open(wait=True, timeout=10)
        except PoolTimeout as exc:
            raise StoreUnavailable(f"cannot connect to {self.location.shown()}: {exc}") from None
        with self._connection() as conn:
            if not schema_exists(conn, self.schema):
                self.close()
                raise ProfileError(
                    f"{self.location.shown()} has no geo_service tables: run "
                    "`geo-service db init` and `geo-service db load`"
                )
        missing = [s.id for s in catalog if not s.derived and not self.has(s.id)]
        if missing:
            self.close()
            raise ProfileError(
                f"{self.location.shown()} lacks layer(s) {', '.join(missing)}: run "
                "`geo-service db load`"
            )

    def close(self) -> None:
        """Close the pool's connections."""
        self.pool.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        try:
            with self.pool.connection(timeout=30) as conn:
                yield conn
        except psycopg.errors.DiskFull as exc:  # the transaction was rolled back
            raise StoreFull(
                f"the database is out of disk space; nothing was written: {exc}"
            ) from None
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreUnavailable(f"the PostGIS store is unavailable: {exc}") from None

    def _layer_statement(self) -> sql.Composable:
        return sql.SQL("SELECT version, features, extent FROM {}.layers WHERE id = %s").format(
            sql.Identifier(self.schema)
        )

    def _layer_row(self, layer_id: str) -> tuple[str, int, list | None]:
        self.catalog.get(layer_id)  # LayerNotFound for unknown ids
        with self._connection() as conn:
            row = conn.execute(self._layer_statement(), (layer_id,)).fetchone()
        if row is None:
            raise LayerNotFound(f"layer {layer_id!r} is not loaded")
        return row

    def has(self, layer_id: str) -> bool:
        """Whether the layer has been written to the database."""
        try:
            self._layer_row(layer_id)
        except LayerNotFound:
            return False
        return True

    def count(self, layer_id: str) -> int:
        """Number of features in the layer (from the ``layers`` table: no scan)."""
        return int(self._layer_row(layer_id)[1])

    def extent(self, layer_id: str) -> BBox | None:
        """The layer's bounding box (lon/lat), kept when it was written; None if empty."""
        extent = self._layer_row(layer_id)[2]
        return None if extent is None else tuple(float(v) for v in extent)

    def version(self, layer_id: str) -> str:
        """The token of the layer's current version (new with every write)."""
        return self._layer_row(layer_id)[0]

    # --- reading -----------------------------------------------------------------------

    def _where(
        self, spec: LayerSpec, bbox: BBox | None, filters: Mapping[str, object]
    ) -> tuple[sql.Composable, list]:
        clauses: list[sql.Composable] = [sql.SQL("TRUE")]
        params: list = []
        if bbox is not None:
            clauses.append(
                sql.SQL(
                    "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
                    "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
                )
            )
            params += [*bbox, *bbox]
        for name, value in filters.items():
            if name not in spec.property_names:
                raise InvalidQuery(f"layer {spec.id!r} has no property {name!r}")
            clauses.append(sql.SQL("{} = %s").format(sql.Identifier(name)))
            params.append(value)
        return sql.SQL(" AND ").join(clauses), params

    def _order(self, spec: LayerSpec, sortby) -> list[sql.Composable]:
        terms = []
        for name, ascending in sortby:
            if name not in spec.property_names:
                raise InvalidQuery(f"layer {spec.id!r} has no property {name!r} to sort by")
            collate = (
                sql.SQL(' COLLATE "C"') if spec.get_property(name).type == "string" else sql.SQL("")
            )
            direction = sql.SQL("ASC" if ascending else "DESC")
            terms.append(
                sql.SQL("{}{} {} NULLS LAST").format(sql.Identifier(name), collate, direction)
            )
        return [*terms, sql.SQL("_seq ASC")]

    def _select(self, spec: LayerSpec, table: str | None = None) -> sql.Composable:
        """``_seq``, the properties and the WKB geometry (of the layer's ``table``)."""
        columns = [sql.Identifier(name) for name in spec.property_names]
        return sql.SQL("SELECT _seq, {}, ST_AsBinary(geom) FROM {}.{}").format(
            sql.SQL(", ").join(columns),
            sql.Identifier(self.schema),
            sql.Identifier(table or spec.id),
        )

    def _select_keys(self, spec: LayerSpec, sort_names: list[str]) -> sql.Composable:
        """``_seq``, the id and the sort keys: what an items page needs besides its texts."""
        keys = [sql.Identifier(n) for n in [spec.id_property, *sort_names]]
        return sql.SQL("SELECT _seq, {} FROM {}.{}").format(
            sql.SQL(", ").join(keys), sql.Identifier(self.schema), sql.Identifier(spec.id)
        )

    def query(
        self,
        layer_id: str,
        *,
        bbox: BBox | None = None,
        where: Mapping[str, object] | None = None,
    ) -> gpd.GeoDataFrame:
        """Features intersecting ``bbox`` (lon/lat) and matching ``where``, stored order."""
        return self.page(layer_id, FeatureQuery(bbox=bbox, filters=where or {})).frame

    def page(self, layer_id: str, query: FeatureQuery) -> FeaturePage:
        """The page ``query`` asks for, in SQL: the layer's row, the page and (on the first
        page of a filtered query) one ``count(*)`` in one round trip; ``matched`` from the
        ``layers`` table when nothing is filtered, else carried by the cursor to the next
        page. A page after a ``cursor`` starts past its last key (keyset paging). With
        ``with_texts`` the page is its keys, and the texts come from those kept for the
        layer's version (the missing ones built in SQL, one more round trip)."""
        spec = self.catalog.get(layer_id)
        where, params = self._where(spec, query.bbox, query.filters)
        order = self._order(spec, query.sortby)
        key = query_key(query)
        cursor = None
        if query.cursor is not None:
            cursor = Cursor.decode(query.cursor)
            if cursor.query != key:
                raise InvalidQuery("cursor belongs to another query (bbox, filters, sortby)")
            keys = [
                (name, asc, spec.get_property(name).type == "string") for name, asc in query.sortby
            ]
            after, after_params = after_clause(keys, cursor.values, cursor.seq)
            where = sql.SQL("({}) AND ({})").format(where, after)
            params = [*params, *after_params]
        filtered = query.bbox is not None or bool(query.filters)
        sort_names = [name for name, _ in query.sortby]
        select = self._select_keys(spec, sort_names) if query.with_texts else self._select(spec)
        statement = sql.SQL("{} WHERE {} ORDER BY {}").format(
            select, where, sql.SQL(", ").join(order)
        )
        page_params = list(params)
        if query.limit is not None:
            statement = sql.SQL("{} LIMIT %s").format(statement)
            page_params.append(query.limit)
        if query.offset and cursor is None:
            statement = sql.SQL("{} OFFSET %s").format(statement)
            page_params.append(query.offset)
        plain = query.with_texts and not filtered and not query.sortby and query.limit
        with self._connection() as conn:
            rows = self._kept_order_page(conn, spec, query, cursor) if plain else None
            if rows is not None:  # a slice of the layer's kept order: no page query
                version, features, rows = rows
            else:
                with conn.pipeline():
                    layer = conn.execute(self._layer_statement(), (layer_id,))
                    page = conn.execute(statement, page_params)
                    if cursor is None and filtered:
                        count = conn.execute(
                            sql.SQL("SELECT count(*) FROM {}.{} WHERE {}").format(
                                sql.Identifier(self.schema), sql.Identifier(spec.id), where
                            ),
                            params,
                        )
                version, features = self._checked_layer_row(layer.fetchone(), layer_id, cursor)
                rows = page.fetchall()
            if cursor is not None:
                matched = cursor.matched
            else:
                matched = int(count.fetchone()[0]) if filtered else int(features)
            texts = self._texts(conn, spec, version, rows) if query.with_texts else None
        if query.with_texts:
            frame = id_frame(spec, [row[1] for row in rows])
            last_values = rows[-1][2 : 2 + len(sort_names)] if rows else ()
        else:
            frame = rows_frame(spec, rows)
            last_values = [frame.iloc[-1][name] for name in sort_names] if rows else ()
        next_cursor = None
        if query.limit is not None and len(rows) == query.limit and rows:
            values = [plain_value(v) for v in last_values]
            next_cursor = Cursor(version, key, matched, values, rows[-1][0]).encode()
        return FeaturePage(frame, matched, next_cursor, texts, version)

    @staticmethod
    def _checked_layer_row(row, layer_id: str, cursor: Cursor | None) -> tuple[str, int]:
        if row is None:
            raise LayerNotFound(f"layer {layer_id!r} is not loaded")
        version, features, _ = row
        if cursor is not None and cursor.version != version:
            raise Conflict(f"layer {layer_id!r} changed since this page: start again")
        return version, features

    def _kept_order_page(
        self, conn: psycopg.Connection, spec: LayerSpec, query: FeatureQuery, cursor
    ) -> tuple[str, int, list[tuple]] | None:
        """A page in stored order as a slice of the layer's keys (``_seq``, id) kept for
        its version (read whole once per version; only for layers of at most
        ``MAX_KEPT_TEXTS`` features): (version, features, rows), or None to query it."""
        row = conn.execute(self._layer_statement(), (spec.id,)).fetchone()
        version, features = self._checked_layer_row(row, spec.id, cursor)
        if features > self._kept.limit:
            return None
        kept = self._orders.get(spec.id)
        if kept is None or kept[0] != version:
            keys = conn.execute(
                sql.SQL(
                    "SELECT _seq, {}, (SELECT version FROM {}.layers WHERE id = %s) "
                    "FROM {}.{} ORDER BY _seq"
                ).format(
                    sql.Identifier(spec.id_property),
                    sql.Identifier(self.schema),
                    sql.Identifier(self.schema),
                    sql.Identifier(spec.id),
                ),
                (spec.id,),
            ).fetchall()
            if len(keys) != features or any(k[2] != version for k in keys):
                return None  # written meanwhile: this page is queried
            kept = (version, [k[0] for k in keys], [k[:2] for k in keys])
            self._orders[spec.id] = kept
        _, seqs, rows = kept
        start = bisect.bisect_right(seqs, cursor.seq) if cursor is not None else query.offset
        return version, features, rows[start : start + query.limit]

    def _texts(
        self, conn: psycopg.Connection, spec: LayerSpec, version: str, rows: list[tuple]
    ) -> list[bytes]:
        """The texts of the page's rows (``_seq`` first), those not kept for ``version``
        built in SQL and kept; :class:`Conflict` if the layer changed meanwhile."""
        seqs = [row[0] for row in rows]
        kept = self._kept.of(spec.id, version)
        missing = [seq for seq in seqs if seq not in kept]
        if missing:
            built = conn.execute(
                sql.SQL(
                    "SELECT _seq, convert_to({}, 'UTF8'), (SELECT version FROM {}.layers "
                    "WHERE id = %s) FROM {}.{} WHERE _seq = ANY(%s)"
                ).format(
                    feature_text_sql(spec),
                    sql.Identifier(self.schema),
                    sql.Identifier(self.schema),
                    sql.Identifier(spec.id),
                ),
                (spec.id, missing),
            ).fetchall()
            if len(built) != len(missing) or any(row[2] != version for row in built):
                raise Conflict(f"layer {spec.id!r} changed while the page was read: ask again")
            kept.update((seq, bytes(text)) for seq, text, _ in built)
        return [kept[seq] for seq in seqs]

    def is_instant(self, layer_id: str, query: FeatureQuery) -> bool:
        """Never: every page is a round trip to the database."""
        return False

    def vector_tile(
        self,
        layer_id: str,
        tile: TileAddress,
        properties: Sequence[str],
        where: Mapping[str, object] | None = None,
    ) -> bytes:
        """The tile made and encoded in SQL (``ST_AsMVT``)."""
        spec = self.catalog.get(layer_id)
        self._layer_row(layer_id)  # LayerNotFound if the layer is not loaded
        with self._connection() as conn:
            return read_tile(conn, self.schema, spec, tile, properties, where or {})

    def feature(self, layer_id: str, feature_id: str) -> gpd.GeoDataFrame:
        """The one-row frame of feature ``feature_id``."""
        spec = self.catalog.get(layer_id)
        id_type = spec.get_property(spec.id_property).type
        try:
            value = int(feature_id) if id_type == "integer" else feature_id
        except ValueError:
            raise FeatureNotFound(f"layer {layer_id!r} has no feature {feature_id!r}") from None
        statement = sql.SQL("{} WHERE {} = %s").format(
            self._select(spec), sql.Identifier(spec.id_property)
        )
        with self._connection() as conn:
            rows = conn.execute(statement, (value,)).fetchall()
        if not rows:
            raise FeatureNotFound(f"layer {layer_id!r} has no feature {feature_id!r}")
        return rows_frame(spec, rows)

    # --- writing -----------------------------------------------------------------------

    def write(
        self,
        layer_id: str,
        frame: LayerRows,
        *,
        description: str,
        author: str | None = None,
        source: str = "write",
        expected_version: str | None = None,
        whole_layer: bool = True,
    ) -> str:
        """Replace the layer in one transaction (checked against the catalog first; a
        failure leaves the previous version in place, which a source layer's write keeps
        readable as a version), holding the layer's row: concurrent writers wait, and with
        ``expected_version`` a write based on an older version is refused
        (:class:`PreconditionFailed`). A derived layer's chunks are checked and copied as
        they come, never joined; a source layer's are joined (its version record compares
        the whole layer with the one before). Returns the new version."""
        spec = self.catalog.get(layer_id)
        unchanged = f"layer {layer_id!r} is left unchanged"
        if isinstance(frame, gpd.GeoDataFrame) or not spec.derived:
            frame = whole_frame(frame)
            _refuse(layer_id, validate_layer(spec, frame, whole_layer=whole_layer))
            rows = frame
        else:
            rows = _checked_chunks(spec, frame)
        try:
            with self._connection() as conn, conn.transaction():
                number, before = 0, None
                if not spec.derived:
                    number, aside = versions.keep_current(
                        conn, self.schema, layer_id, expected_version
                    )
                    if aside is not None:  # what this write replaces, for its counts
                        statement = sql.SQL("{} ORDER BY _seq").format(self._select(spec, aside))
                        before = rows_frame(spec, conn.execute(statement).fetchall())
                # the chunks may be drawn for minutes: no timeout of the URL's applies here
                conn.execute("SET LOCAL statement_timeout = 0")
                conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
                try:
                    written = write_layer_table(
                        conn, self.schema, spec, rows, description=description
                    )
                except psycopg.errors.UniqueViolation as exc:  # an id in two chunks
                    raise DataValidationError(f"{unchanged}: {exc}") from None
                if rows is not frame and whole_layer:
                    _refuse(layer_id, count_problems(spec, written.features))
                if not spec.derived:
                    record = new_version(
                        spec,
                        before,
                        frame,
                        number=number + 1,
                        version=written.version,
                        author=author,
                        source=source,
                        description=description,
                    )
                    versions.record(conn, self.schema, layer_id, record)
        except psycopg.DataError as exc:
            raise DataValidationError(f"{unchanged}: {exc}") from None
        except psycopg.Error as exc:  # rolled back: the previous version stays
            raise StoreUnavailable(f"{unchanged}: the database refused the write: {exc}") from None
        log.info("%s: wrote %d features (version %s)", layer_id, written.features, written.version)
        if self.keep_versions and not spec.derived:
            self.prune(layer_id, self.keep_versions)
        return written.version

    def history(self, layer_id: str) -> list[LayerVersion]:
        """The layer's versions, oldest first, the current table last."""
        self.catalog.get(layer_id)
        with self._connection() as conn:
            return versions.records(conn, self.schema, layer_id)

    def read_version(self, layer_id: str, number: int) -> gpd.GeoDataFrame:
        """Version ``number``'s features, from its table kept aside or the current one."""
        spec = self.catalog.get(layer_id)
        with self._connection() as conn:
            history = {r.number: r for r in versions.records(conn, self.schema, layer_id)}
            current = history and max(history) == number
            table = (
                layer_id if current else versions.kept_table(conn, self.schema, layer_id, number)
            )
            if number not in history or table is None:
                raise VersionNotFound(f"layer {layer_id!r} has no version {number} to read")
            statement = sql.SQL("{} ORDER BY _seq").format(self._select(spec, table))
            return rows_frame(spec, conn.execute(statement).fetchall())

    def prune(self, layer_id: str, keep: int) -> list[int]:
        """Drop the tables of all but the ``keep`` latest versions (never the current)."""
        self.catalog.get(layer_id)
        with self._connection() as conn, conn.transaction():
            return versions.prune(conn, self.schema, layer_id, keep)

    def read_note(self, name: str) -> dict | None:
        """The note ``name``, or None."""
        with self._connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT document FROM {}.notes WHERE name = %s").format(
                    sql.Identifier(self.schema)
                ),
                (name,),
            ).fetchone()
        return None if row is None else row[0]

    def write_note(self, name: str, document: dict) -> None:
        """Keep ``document`` as the note ``name``."""
        with self._connection() as conn:
            write_note(conn, self.schema, name, document)


def _refuse(layer_id: str, problems: list[Problem]) -> None:
    """:class:`DataValidationError` naming the first problems, if there are any."""
    if problems:
        raise DataValidationError(
            f"layer {layer_id!r} is left unchanged: "
            + "; ".join(f"{p.field}: {p.message}" for p in problems[:10])
        )


def _checked_chunks(spec: LayerSpec, chunks: Iterable[gpd.GeoDataFrame]):
    """``chunks``, each checked against ``spec`` as it comes (the count is checked once
    all are written)."""
    for chunk in chunks:
        _refuse(spec.id, validate_layer(spec, chunk, whole_layer=False))
        yield chunk
        del chunk  # released before the next one is made
