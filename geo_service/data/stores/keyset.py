"""Keyset paging: the cursor a page hands to the next, and the SQL condition "after that
row" for any sort order (ascending or descending, missing values last, then stored order).

A cursor carries the layer's version (a page of another version is refused), a key of the
query (bbox, filters, sortby: a cursor cannot be reused for another query), how many
features matched (counted once, on the first page), and the last row's sort values and
stored position.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from psycopg import sql

from geo_service.data.stores.base import FeatureQuery
from geo_service.errors import InvalidQuery


def query_key(query: FeatureQuery) -> str:
    """A short digest of what selects and orders the features (not limit or offset)."""
    text = json.dumps(
        [query.bbox, sorted(query.filters.items()), query.sortby], default=str, sort_keys=True
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts."""

    version: str
    query: str
    matched: int
    values: list
    seq: int

    def encode(self) -> str:
        """The cursor as an opaque URL-safe token."""
        text = json.dumps([self.version, self.query, self.matched, self.values, self.seq])
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The cursor of ``token``; :class:`InvalidQuery` if it is not one of ours."""
        try:
            padded = token + "=" * (-len(token) % 4)
            version, query, matched, values, seq = json.loads(base64.urlsafe_b64decode(padded))
            if not (
                isinstance(version, str)
                and isinstance(query, str)
                and isinstance(matched, int)
                and isinstance(values, list)
                and isinstance(seq, int)
            ):
                raise ValueError("wrong types")
        except (ValueError, TypeError) as exc:
            raise InvalidQuery(f"cursor is not valid ({exc}); follow the 'next' link") from None
        return cls(version, query, matched, values, seq)


def after_clause(
    sortby: list[tuple[str, bool, bool]], values: list, seq: int
) -> tuple[sql.Composable, list]:
    """The condition for rows after the row whose sort values are ``values`` and stored
    position ``seq``, in the order ``sortby`` (``(name, ascending, is_text)``, missing
    values last, then ``_seq``): "k1 after v1, or k1 = v1 and k2 after v2, ..., or all
    equal and a later ``_seq``"."""
    if len(values) != len(sortby):
        raise InvalidQuery("cursor belongs to another query (sortby)")
    alternatives: list[sql.Composable] = []
    params: list = []
    equal: list[sql.Composable] = []
    equal_params: list = []
    for (name, ascending, is_text), value in zip(sortby, values, strict=True):
        column = sql.Identifier(name)
        if is_text:
            column = sql.SQL('{} COLLATE "C"').format(column)
        if value is not None:  # after a value: beyond it, or missing (missing sort last)
            beyond = sql.SQL(">" if ascending else "<")
            alternatives.append(
                sql.SQL("({}({} {} %s OR {} IS NULL))").format(
                    _prefix(equal), column, beyond, sql.Identifier(name)
                )
            )
            params += [*equal_params, value]
            equal.append(sql.SQL("{} = %s").format(column))
            equal_params.append(value)
        else:  # nothing sorts after a missing value but the next key's
            equal.append(sql.SQL("{} IS NULL").format(sql.Identifier(name)))
    alternatives.append(sql.SQL("({}_seq > %s)").format(_prefix(equal)))
    params += [*equal_params, seq]
    return sql.SQL(" OR ").join(alternatives), params


def _prefix(equal: list[sql.Composable]) -> sql.Composable:
    """``a = %s AND b = %s AND `` (empty when there is nothing before)."""
    if not equal:
        return sql.SQL("")
    return sql.SQL("{} AND ").format(sql.SQL(" AND ").join(equal))
