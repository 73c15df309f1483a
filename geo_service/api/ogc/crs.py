"""The CRSs the API offers (OGC API – Features Part 2), their URIs and axis orders.

Data are stored in CRS84 (lon, lat). Which other CRSs are offered is the district
profile's (``output_crs`` plus its metric CRS). A response in another CRS uses that CRS's
own axis order: EPSG:4326 and EPSG:4490 are (lat, lon), EPSG:4549 is (northing, easting),
UTM and EPSG:3857 are (easting, northing).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

from geo_service.errors import InvalidQuery

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


@dataclass(frozen=True)
class OutputCRS:
    """A CRS the API can answer in."""

    uri: str
    crs: CRS
    north_first: bool  # the first axis points north (lat or northing)
    geographic: bool

    @property
    def precision(self) -> int:
        """Decimals to write: 7 for degrees (about 1 cm), 2 for metres."""
        return 7 if self.geographic else 2


#: Offered when no profile says otherwise (the app passes the profile's ``offered_crs``).
DEFAULT_OFFERED = ("EPSG:4326", "EPSG:3857")


@cache
def output_crs(uri: str) -> OutputCRS:
    """The :class:`OutputCRS` for a CRS84 or EPSG URI."""
    code = "OGC:CRS84" if uri == CRS84 else "EPSG:" + uri.rsplit("/", 1)[1]
    crs = CRS.from_user_input(code)
    north = crs.axis_info[0].direction == "north"
    return OutputCRS(uri, crs, north, crs.is_geographic)


def crs_uri(code: str) -> str:
    """The URI of ``EPSG:n`` (or ``OGC:CRS84``)."""
    if code.upper() == "OGC:CRS84":
        return CRS84
    return _EPSG + code.split(":", 1)[1]


@cache
def supported(codes: tuple[str, ...] = DEFAULT_OFFERED) -> dict[str, OutputCRS]:
    """URI → :class:`OutputCRS` for CRS84 and each of ``codes`` (``EPSG:n``), CRS84 first."""
    uris = dict.fromkeys([CRS84, *(crs_uri(code) for code in codes)])
    return {uri: output_crs(uri) for uri in uris}


def parse_crs(
    value: str, parameter: str = "crs", offered: tuple[str, ...] = DEFAULT_OFFERED
) -> OutputCRS:
    """The offered CRS named by a URI (or ``EPSG:n`` / ``OGC:CRS84`` shorthand)."""
    text = value.strip().strip("[]<>")
    if text.upper() == "OGC:CRS84":
        text = CRS84
    elif text.upper().startswith("EPSG:"):
        text = _EPSG + text.split(":", 1)[1]
    text = text.replace("https://", "http://")
    choices = supported(offered)
    if text not in choices:
        raise InvalidQuery(
            f"{parameter} {value!r} is not offered; use one of: {', '.join(choices)}"
        )
    return choices[text]


@cache
def _from_crs84(uri: str) -> Transformer:
    return Transformer.from_crs("OGC:CRS84", output_crs(uri).crs, always_xy=True)


@cache
def _to_crs84(uri: str) -> Transformer:
    return Transformer.from_crs(output_crs(uri).crs, "OGC:CRS84", always_xy=True)


def to_output(geometries: np.ndarray, target: OutputCRS) -> np.ndarray:
    """CRS84 geometries in ``target``, in its axis order."""
    if target.uri == CRS84:
        return geometries
    transformer = _from_crs84(target.uri)

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([y, x] if target.north_first else [x, y])

    return shapely.transform(geometries, project)


def input_to_crs84(source: OutputCRS) -> Callable[[np.ndarray], np.ndarray] | None:
    """The function taking coordinates given in ``source`` (its axis order) to CRS84 lon/lat,
    for ``shapely.transform``; None for CRS84 itself."""
    if source.uri == CRS84:
        return None
    transformer = _to_crs84(source.uri)

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = (xy[:, 1], xy[:, 0]) if source.north_first else (xy[:, 0], xy[:, 1])
        return np.column_stack(transformer.transform(x, y))

    return project


def bbox_to_crs84(values: tuple[float, ...], source: OutputCRS) -> tuple[float, ...]:
    """A bbox given in ``source`` (its axis order) as (minlon, minlat, maxlon, maxlat).

    Raises :class:`InvalidQuery` if it lies outside the CRS's area of use.
    """
    a0, a1, b0, b1 = values
    if source.north_first:
        minx, miny, maxx, maxy = a1, a0, b1, b0
    else:
        minx, miny, maxx, maxy = a0, a1, b0, b1
    if minx > maxx or miny > maxy:
        raise InvalidQuery("bbox minimum is greater than its maximum")
    if source.uri == CRS84 or source.geographic:
        if not (minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90):
            raise InvalidQuery("bbox is outside longitude -180..180 / latitude -90..90")
        return minx, miny, maxx, maxy
    west, south, east, north = source.crs.area_of_use.bounds
    lon0, lat0, lon1, lat1 = _to_crs84(source.uri).transform_bounds(
        minx, miny, maxx, maxy, densify_pts=21
    )
    if not all(map(math.isfinite, (lon0, lat0, lon1, lat1))) or (
        lon1 < west or lon0 > east or lat1 < south or lat0 > north
    ):
        raise InvalidQuery(f"bbox is outside the area where {source.uri} is defined")
    return lon0, lat0, lon1, lat1
