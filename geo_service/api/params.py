"""Parse and check query parameters; errors are :class:`InvalidQuery` (HTTP 400)."""

from __future__ import annotations

import math

from geo_service.data.stores.base import BBox
from geo_service.errors import InvalidQuery


def parse_bbox(text: str) -> BBox:
    """``minlon,minlat,maxlon,maxlat`` in WGS 84 degrees."""
    parts = text.split(",")
    if len(parts) != 4:
        raise InvalidQuery(f"bbox needs 4 comma-separated numbers, got {len(parts)}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InvalidQuery(f"bbox values must be numbers: {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise InvalidQuery("bbox values must be finite numbers")
    minx, miny, maxx, maxy = values
    if not (
        -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90
    ):
        raise InvalidQuery("bbox is outside longitude -180..180 / latitude -90..90")
    if miny > maxy:
        raise InvalidQuery("bbox minimum latitude is greater than its maximum")
    if minx > maxx:
        raise InvalidQuery("bbox minimum longitude is greater than its maximum")
    return minx, miny, maxx, maxy
