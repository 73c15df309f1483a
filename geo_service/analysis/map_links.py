"""Links that hand a walk over to the phone's map app: walking navigation from where the
resident is to a service centre, in the coordinates and axis order each app expects.

Formats, from each provider's published URI documentation:

* ``amap`` — https://lbs.amap.com/api/uri-api/guide/travel/route: ``uri.amap.com/navigation``,
  ``from``/``to`` as ``lon,lat,name`` in GCJ-02, ``mode=walk``, ``callnative=1`` (open the
  app where it is installed).
* ``baidu`` — lbsyun.baidu.com URI API (web ``direction``): ``latlng:lat,lon|name:NAME``,
  ``mode=walking``, ``coord_type=bd09ll`` (we convert to BD-09 ourselves), ``output=html``,
  ``src``.
* ``tencent`` — https://lbs.qq.com/webApi/uriV1/uriGuide/uriWebRoute: ``routeplan``,
  ``type=walk``, ``fromcoord``/``tocoord`` as ``lat,lon`` in GCJ-02, ``referer`` (required).
* ``apple`` — Apple's Map Links: ``maps.apple.com/?saddr=lat,lon&daddr=lat,lon&dirflg=w``;
  in mainland China Apple Maps draws GCJ-02, so the points are sent in GCJ-02 there.
* ``google`` — https://developers.google.com/maps/documentation/urls/get-started:
  ``maps/dir/?api=1``, ``travelmode=walking``, WGS 84 ``lat,lon`` (outside China).
* ``osm`` — openstreetmap.org directions with the FOSSGIS OSRM foot engine, WGS 84.
* ``geo`` — an RFC 5870 ``geo:`` URI of the centre (WGS 84): no route, but every phone
  hands it to whichever map app it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from geo_service.datums import gcj02_to_bd09, wgs84_to_gcj02

#: What the origin is called in the apps that show a name for it.
HERE = {"zh": "我的位置", "en": "My location"}


@dataclass(frozen=True)
class Spot:
    """A point in each datum the apps take — WGS 84, GCJ-02, BD-09, all ``(lon, lat)`` —
    and its name, quoted for a URL (made once per centre, once per request's origin)."""

    wgs: tuple[float, float]
    gcj: tuple[float, float]
    bd: tuple[float, float]
    name: str


def spot(lon: float, lat: float, name: str) -> Spot:
    """The :class:`Spot` of WGS 84 ``(lon, lat)`` called ``name``."""
    gcj = tuple(float(v) for v in wgs84_to_gcj02(lon, lat))
    bd = tuple(float(v) for v in gcj02_to_bd09(*gcj))  # = wgs84_to_bd09(lon, lat)
    return Spot((float(lon), float(lat)), gcj, bd, quote(name, safe=""))


def _lonlat(point: tuple[float, float]) -> str:
    return f"{point[0]:.6f},{point[1]:.6f}"


def _latlon(point: tuple[float, float]) -> str:
    return f"{point[1]:.6f},{point[0]:.6f}"


def walking_links(
    origin: Spot,
    destination: Spot,
    apps: tuple[str, ...],
    *,
    in_china: bool,
    app_name: str = "geo_service",
) -> dict[str, str]:
    """``{app: URL}`` starting walking navigation in each of ``apps`` from ``origin`` to
    ``destination``; ``in_china``: the points are in mainland China (Apple Maps then takes
    GCJ-02); ``app_name``: what the providers that ask are told the links come from."""
    here, there, source = origin.name, destination.name, quote(app_name, safe="")
    links: dict[str, str] = {}
    for app in apps:
        if app == "amap":
            links[app] = (
                f"https://uri.amap.com/navigation?from={_lonlat(origin.gcj)},{here}"
                f"&to={_lonlat(destination.gcj)},{there}&mode=walk&coordinate=gaode"
                f"&callnative=1&src={source}"
            )
        elif app == "baidu":
            links[app] = (
                f"https://api.map.baidu.com/direction?origin=latlng:{_latlon(origin.bd)}"
                f"|name:{here}&destination=latlng:{_latlon(destination.bd)}|name:{there}"
                f"&mode=walking&coord_type=bd09ll&output=html&src=webapp.{source}.locator"
            )
        elif app == "tencent":
            links[app] = (
                f"https://apis.map.qq.com/uri/v1/routeplan?type=walk&from={here}"
                f"&fromcoord={_latlon(origin.gcj)}&to={there}"
                f"&tocoord={_latlon(destination.gcj)}&referer={source}"
            )
        elif app == "apple":
            start, end = (
                (origin.gcj, destination.gcj) if in_china else (origin.wgs, destination.wgs)
            )
            links[app] = (
                f"https://maps.apple.com/?saddr={_latlon(start)}&daddr={_latlon(end)}&dirflg=w"
            )
        elif app == "google":
            links[app] = (
                f"https://www.google.com/maps/dir/?api=1&origin={_latlon(origin.wgs)}"
                f"&destination={_latlon(destination.wgs)}&travelmode=walking"
            )
        elif app == "osm":
            links[app] = (
                "https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot&route="
                f"{_latlon(origin.wgs)}%3B{_latlon(destination.wgs)}"
            )
        elif app == "geo":
            at = _latlon(destination.wgs)
            links[app] = f"geo:{at}?q={at}({there})"
    return links
