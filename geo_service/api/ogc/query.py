"""Parse and check the query of ``/collections/{id}/items`` (and downloads).

Every problem is an :class:`InvalidQuery` (HTTP 400) saying what is wrong; parameters the
API does not know are refused, not ignored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from starlette.datastructures import QueryParams

from geo_service.api.ogc.crs import (
    CRS84,
    DEFAULT_OFFERED,
    OutputCRS,
    bbox_to_crs84,
    parse_crs,
    supported,
)
from geo_service.data.catalog import LayerSpec, PropertySpec
from geo_service.errors import InvalidQuery

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000

#: Parameters every items request may carry, besides the layer's queryable properties.
ITEMS_PARAMETERS = frozenset(
    {
        "f",
        "limit",
        "offset",
        "bbox",
        "bbox-crs",
        "crs",
        "datetime",
        "properties",
        "sortby",
        "skipGeometry",
        "cursor",
    }
)


@dataclass(frozen=True)
class ItemsQuery:
    """A checked items query. ``bbox`` is in CRS84 whatever ``bbox-crs`` was."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    crs: OutputCRS = field(default_factory=lambda: supported()[CRS84])
    datetime: str | None = None
    properties: tuple[str, ...] | None = None
    sortby: tuple[tuple[str, bool], ...] = ()  # (name, ascending)
    filters: dict[str, object] = field(default_factory=dict)
    skip_geometry: bool = False
    cursor: str | None = None  # a keyset store's next page; offset is then its position

    def link_params(self, **changes) -> dict[str, str]:
        """The query as URL parameters (for next / prev links), with ``changes`` (a change
        to None leaves the parameter out)."""
        params: dict[str, str] = {"limit": str(self.limit), "offset": str(self.offset)}
        if self.cursor is not None:
            params["cursor"] = self.cursor
        if self.bbox is not None:
            params["bbox"] = ",".join(repr(v) for v in self.bbox)
        if self.crs.uri != CRS84:
            params["crs"] = self.crs.uri
        if self.datetime:
            params["datetime"] = self.datetime
        if self.properties is not None:
            params["properties"] = ",".join(self.properties)
        if self.sortby:
            params["sortby"] = ",".join(("" if asc else "-") + n for n, asc in self.sortby)
        if self.skip_geometry:
            params["skipGeometry"] = "true"
        params |= {name: _format(value) for name, value in self.filters.items()}
        for name, value in changes.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = str(value)
        return params


def _format(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _single(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise InvalidQuery(f"parameter {name!r} is given {len(values)} times")
    return values[0] if values else None


def _integer(text: str, name: str, minimum: int) -> int:
    if not re.fullmatch(r"[+]?\d{1,18}", text.strip()):
        raise InvalidQuery(f"{name} must be a whole number ≥ {minimum}, got {text!r}")
    value = int(text)
    if value < minimum:
        raise InvalidQuery(f"{name} must be ≥ {minimum}, got {value}")
    return value


def parse_bbox_values(text: str) -> tuple[float, ...]:
    """4 (or 6, with heights) finite numbers."""
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InvalidQuery(f"bbox needs 4 (or 6) comma-separated numbers, got {len(parts)}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InvalidQuery(f"bbox values must be numbers: {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise InvalidQuery("bbox values must be finite numbers")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    return tuple(values)


def parse_value(prop: PropertySpec, text: str) -> object:
    """A filter value as the property's type."""
    try:
        if prop.type == "integer":
            return int(text)
        if prop.type == "number":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
    except ValueError:
        raise InvalidQuery(f"{prop.name} is a {prop.type}; {text!r} is not") from None
    if prop.type == "boolean":
        if text.lower() not in ("true", "false"):
            raise InvalidQuery(f"{prop.name} is true or false, not {text!r}")
        return text.lower() == "true"
    return text


_INSTANT = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?"


def parse_datetime(text: str) -> str:
    """An RFC 3339 instant or interval (``a/b``, ``../b``, ``a/..``)."""
    parts = text.split("/")
    if len(parts) > 2 or parts == ["..", ".."]:
        raise InvalidQuery(f"datetime {text!r} is not an RFC 3339 instant or interval")
    for part in parts:
        if part in ("..", "") and len(parts) == 2:
            continue
        if not re.fullmatch(_INSTANT, part):
            raise InvalidQuery(f"datetime {text!r} is not an RFC 3339 instant or interval")
        try:
            datetime.fromisoformat(part.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidQuery(f"datetime {part!r} is not a valid date or time") from None
    return text


def parse_items_query(
    params: QueryParams,
    spec: LayerSpec,
    *,
    max_items: int = MAX_LIMIT,
    offered: tuple[str, ...] = DEFAULT_OFFERED,
) -> ItemsQuery:
    """Check ``params`` against the API and the layer's schema; ``limit`` is clamped to
    ``max_items``; ``crs`` and ``bbox-crs`` must be CRS84 or one of ``offered``."""
    names = {p.name: p for p in spec.properties}
    unknown = sorted(set(params.keys()) - ITEMS_PARAMETERS - set(names))
    if unknown:
        raise InvalidQuery(
            f"unknown parameter(s): {', '.join(unknown)}; the queryable "
            f"properties of {spec.id!r} are {', '.join(names)}"
        )
    limit_text, offset_text = _single(params, "limit"), _single(params, "offset")
    limit = DEFAULT_LIMIT if limit_text is None else _integer(limit_text, "limit", 1)
    offset = 0 if offset_text is None else _integer(offset_text, "offset", 0)
    crs = parse_crs(_single(params, "crs") or CRS84, offered=offered)
    bbox = None
    if (bbox_text := _single(params, "bbox")) is not None:
        bbox_crs = parse_crs(_single(params, "bbox-crs") or CRS84, "bbox-crs", offered)
        bbox = bbox_to_crs84(parse_bbox_values(bbox_text), bbox_crs)
    elif _single(params, "bbox-crs") is not None:
        raise InvalidQuery("bbox-crs is given without bbox")
    datetime_text = _single(params, "datetime")
    properties = None
    if (text := _single(params, "properties")) is not None:
        properties = tuple(p for p in text.split(",") if p)
        missing = [p for p in properties if p not in names]
        if missing:
            raise InvalidQuery(f"unknown properties: {', '.join(missing)}")
    sortby = []
    for item in filter(None, (_single(params, "sortby") or "").split(",")):
        name, ascending = item.lstrip("+-"), not item.startswith("-")
        if name not in names:
            raise InvalidQuery(f"cannot sort by {name!r}: not a property of {spec.id!r}")
        sortby.append((name, ascending))
    skip = (_single(params, "skipGeometry") or "false").lower()
    if skip not in ("true", "false"):
        raise InvalidQuery("skipGeometry is true or false")
    filters = {
        name: parse_value(names[name], _single(params, name))
        for name in params
        if name in names and name not in ITEMS_PARAMETERS
    }
    return ItemsQuery(
        limit=min(limit, max_items),
        offset=offset,
        bbox=bbox,
        crs=crs,
        datetime=parse_datetime(datetime_text) if datetime_text else None,
        properties=properties,
        sortby=tuple(sortby),
        filters=filters,
        skip_geometry=skip == "true",
        cursor=_single(params, "cursor"),
    )
