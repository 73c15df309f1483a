"""The public locator's answers: the nearest service centres on foot from a point, with
distance, minutes, services, address and phone (where the data has them), opening hours,
open now, the week's hours, the walking route and phone-map links.

Everything that depends only on the data is prepared once, in a :class:`LocatorIndex`
(the district in metres, the centres snapped onto the walking network, their services and
parsed opening hours, the parts of their GeoJSON that never change, the CRS transformers);
:meth:`LocatorIndex.nearest` answers one point. A centre's week of hours depends on the
day only, and is kept per (centre, first day) in a bounded cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

import geopandas as gpd
import numpy as np
import opening_hours
import shapely
from pyproj import CRS, Transformer

from geo_service.analysis.holiday_hours import HolidayCalendar
from geo_service.analysis.map_links import HERE, Spot, spot, walking_links
from geo_service.analysis.network import WalkGraph
from geo_service.analysis.opening import open_at, opening, parse_hours, week_hours
from geo_service.analysis.routing import NearestWalks, Walk
from geo_service.coverage_params import CoverageParams
from geo_service.crs import STORAGE_CRS, to_metric
from geo_service.errors import OutsideArea

#: A point farther than this from the district gets an explanation, not a far centre.
OUTSIDE_M = 1000.0
#: With "open now" and too few open: how many closed centres (nearest first) are looked
#: at for the one opening first, and how many of those are named.
NEXT_OPEN_LOOKED_AT, NEXT_OPEN_NAMED = 10, 3
#: How many (centre, first day) weeks of opening hours an index keeps (86 centres: a
#: fortnight of days asked about).
WEEKS_KEPT = 2048


def _text(row, column: str) -> str | None:
    """A text property, or None where the layer lacks it or it is empty."""
    value = row.get(column)
    return value if isinstance(value, str) and value else None


def _weeks(
    hours: tuple[opening_hours.OpeningHours | None, ...],
) -> Callable[[int, date], list[dict] | None]:
    """(centre, first day) -> :func:`week_hours` of that centre's ``hours`` from that day,
    kept in a bounded cache (the answers that name a week share it: read only)."""

    @lru_cache(maxsize=WEEKS_KEPT)
    def week(k: int, first_day: date) -> list[dict] | None:
        return week_hours(hours[k], first_day)

    return week


@dataclass(frozen=True)
class _Centre:
    """The parts of one centre's GeoJSON feature that do not depend on the request."""

    id: str
    coordinates: tuple[float, float]
    head: dict  # id, names, level, services, opening hours, address, phone: in output order
    spot: Spot  # where and what the map apps are told


@dataclass(frozen=True, eq=False)
class LocatorIndex:
    """What the locator needs, prepared once from the data (see :meth:`build`)."""

    graph: WalkGraph
    params: CoverageParams
    district: shapely.Geometry  # in the graph's CRS, prepared
    walks: NearestWalks  # the centres, snapped onto the graph
    services: dict[str, np.ndarray]  # service -> which centres offer it
    hours: tuple[opening_hours.OpeningHours | None, ...]
    centres: tuple[_Centre, ...]
    to_metric: Transformer  # lon/lat -> graph CRS
    to_storage: Transformer  # graph CRS -> lon/lat
    week: Callable[[int, date], list[dict] | None] = field(repr=False)  # see _weeks
    apps: tuple[str, ...] = ()
    in_china: bool = True
    language: str = "zh"

    @classmethod
    def build(
        cls,
        district: gpd.GeoDataFrame,
        centres: gpd.GeoDataFrame,
        graph: WalkGraph,
        params: CoverageParams,
        *,
        apps: tuple[str, ...] = ("amap", "baidu"),
        in_china: bool = True,
        language: str = "zh",
        holidays: str | HolidayCalendar | None = None,
    ) -> LocatorIndex:
        """The index of the ``district`` and ``service_centres`` layers (any CRS; the
        centres' own coordinates are the ones answered) on the walking ``graph``, with
        walking-navigation links to the phone map ``apps`` (see
        :func:`~geo_service.analysis.map_links.walking_links`; ``in_china``: the district
        is in mainland China; ``language``: of the names the links give; ``holidays``: the
        calendar, or the country, whose public holidays ``PH`` in the opening hours
        means)."""
        area = to_metric(district, graph.crs).union_all()
        shapely.prepare(area)
        metric = to_metric(centres, graph.crs).geometry.to_numpy()
        offered = [
            text.split(";") if isinstance(text, str) and text else []
            for text in centres.get("services", [None] * len(centres))
        ]
        names = {name for services in offered for name in services}
        rows = []
        for k in range(len(centres)):
            row = centres.iloc[k]
            point = row.geometry
            rows.append(
                _Centre(
                    id=row["id"],
                    coordinates=(round(point.x, 7), round(point.y, 7)),
                    head={
                        "id": row["id"],
                        "name_zh": _text(row, "name_zh"),
                        "name_en": _text(row, "name_en"),
                        **({"name": _text(row, "name")} if "name" in centres else {}),
                        "level": _text(row, "level"),
                        "services": offered[k],
                        "opening_hours": _text(row, "opening_hours"),
                        "address": _text(row, "address"),
                        "phone": _text(row, "phone"),
                    },
                    spot=spot(
                        round(point.x, 7),
                        round(point.y, 7),
                        _text(row, "name_zh") or _text(row, "name") or str(row["id"]),
                    ),
                )
            )
        metric_crs = CRS.from_user_input(graph.crs)
        hours = tuple(
            parse_hours(text, holidays)
            for text in centres.get("opening_hours", [None] * len(centres))
        )
        return cls(
            graph=graph,
            params=params,
            district=area,
            walks=NearestWalks(graph, metric, max_snap_m=params.max_snap_m),
            services={
                name: np.array([name in services for services in offered], dtype=bool)
                for name in names
            },
            hours=hours,
            centres=tuple(rows),
            to_metric=Transformer.from_crs(STORAGE_CRS, metric_crs, always_xy=True),
            to_storage=Transformer.from_crs(metric_crs, STORAGE_CRS, always_xy=True),
            apps=tuple(apps),
            in_china=in_china,
            language=language,
            week=_weeks(hours),
        )

    def nearest(
        self,
        lon: float,
        lat: float,
        *,
        n: int,
        service: str | None = None,
        open_now: bool = False,
        moment: datetime,
    ) -> dict:
        """The GeoJSON FeatureCollection of the ``n`` centres nearest (lon, lat) on foot,
        nearest first; only those offering ``service`` and, with ``open_now``, open at
        local time ``moment``; each with its hours for the 7 days from ``moment``'s date
        (``week``). :class:`InvalidQuery` for a point more than :data:`OUTSIDE_M` outside
        the district or too far from any road."""
        x, y = self.to_metric.transform(lon, lat)
        origin = shapely.Point(x, y)
        if not shapely.contains_xy(self.district, x, y):
            away = self.district.distance(origin)
            if away > OUTSIDE_M:
                raise OutsideArea(
                    f"the point is {away / 1000:.1f} km outside the district; the "
                    "locator covers the district's service centres only"
                )
        keep = np.ones(len(self.centres), dtype=bool)
        if service is not None:
            keep &= self.services.get(service, np.zeros(len(self.centres), dtype=bool))
        offered = keep.copy()
        if open_now:
            keep &= self._open(moment, among=offered)
        walks = self.walks.walks(origin, count=n, subset=np.flatnonzero(keep))
        routes = self._routes(walks)
        here = spot(lon, lat, HERE.get(self.language, HERE["en"]))
        today = moment.date()
        features = []
        for walk, route in zip(walks, routes, strict=True):
            centre = self.centres[walk.facility]
            minutes = self.params.minutes(walk.distance_m)
            hours = opening(self.hours[walk.facility], moment, minutes)
            features.append(
                {
                    "type": "Feature",
                    "id": centre.id,
                    "geometry": {"type": "Point", "coordinates": list(centre.coordinates)},
                    "properties": {
                        **centre.head,
                        "services": list(centre.head["services"]),
                        **hours.to_dict(),
                        "week": self.week(walk.facility, today),
                        "distance_m": round(walk.distance_m, 1),
                        "minutes": round(minutes, 1),
                        "route": route,
                        "links": walking_links(
                            here, centre.spot, self.apps, in_china=self.in_china
                        ),
                    },
                }
            )
        answer = {
            "type": "FeatureCollection",
            "features": features,
            "origin": {"type": "Point", "coordinates": [lon, lat]},
            "at": moment.isoformat(timespec="minutes"),
            "numberReturned": len(features),
        }
        if open_now and len(features) < n:
            answer["opening_next"] = self._opening_next(origin, offered & ~keep, moment)
        return answer

    def _opening_next(self, origin: shapely.Point, closed: np.ndarray, moment: datetime) -> list:
        """Of the ``closed`` centres nearest on foot, those that open first: id, names,
        when they open (local time), distance and minutes; earliest first, then nearest."""
        walks = self.walks.walks(origin, count=NEXT_OPEN_LOOKED_AT, subset=np.flatnonzero(closed))
        found = []
        for walk in walks:
            minutes = self.params.minutes(walk.distance_m)
            hours = opening(self.hours[walk.facility], moment, minutes)
            if hours.opens_at is not None:
                head = self.centres[walk.facility].head
                found.append(
                    {
                        "id": head["id"],
                        "name_zh": head["name_zh"],
                        "name_en": head["name_en"],
                        "opens_at": hours.to_dict()["opens_at"],
                        "distance_m": round(walk.distance_m, 1),
                        "minutes": round(minutes, 1),
                    }
                )
        found.sort(key=lambda centre: (centre["opens_at"], centre["distance_m"]))
        return found[:NEXT_OPEN_NAMED]

    def _open(self, moment: datetime, *, among: np.ndarray) -> np.ndarray:
        """Which centres are open at local time ``moment``, asked only of those ``among``
        (a mask; the others are False)."""
        is_open = np.zeros(len(self.hours), dtype=bool)
        for k in np.flatnonzero(among):
            is_open[k] = open_at(self.hours[k], moment) is True
        return is_open

    def _routes(self, walks: list[Walk]) -> list[dict]:
        """The walks' routes (graph CRS) as GeoJSON LineStrings in lon/lat, to 1e-7 degrees
        (GEOS's precision reduction, which also drops vertices that become repeated).

        The coordinates are the doubles GEOS holds: what its GeoJSON writer prints (the
        shortest text that reads back as the same double) would read back as them.
        """
        if not walks:
            return []
        xy = np.concatenate([walk.path for walk in walks])
        lon, lat = self.to_storage.transform(xy[:, 0], xy[:, 1])
        which = np.repeat(np.arange(len(walks)), [len(walk.path) for walk in walks])
        lines = shapely.linestrings(np.column_stack([lon, lat]), indices=which)
        coords, which = shapely.get_coordinates(
            shapely.set_precision(lines, 1e-7), return_index=True
        )
        parts = np.split(coords, np.searchsorted(which, np.arange(1, len(walks))))
        return [{"type": "LineString", "coordinates": part.tolist()} for part in parts]
