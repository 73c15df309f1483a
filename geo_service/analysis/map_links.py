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

from urllib.parse import quote, urlencode

from geo_service.datums import wgs84_to_bd09, wgs84_to_gcj02

#: Apps whose links take GCJ-02 / BD-09 coordinates: only meaningful inside China.
CHINA_ONLY = frozenset({"amap", "baidu", "tencent"})
#: Apps out of reach inside mainland China.
NOT_IN_CHINA = frozenset({"google"})
#: What the origin is called in the apps that show a name for it.
HERE = {"zh": "我的位置", "en": "My location"}


def _pair(lon: float, lat: float, *, lat_first: bool) -> str:
    return f"{lat:.6f},{lon:.6f}" if lat_first else f"{lon:.6f},{lat:.6f}"


def walking_links(
    origin: tuple[float, float],
    destination: tuple[float, float],
    name: str,
    apps: tuple[str, ...],
    *,
    in_china: bool,
    app_name: str = "geo_service",
    language: str = "zh",
) -> dict[str, str]:
    """``{app: URL}`` starting walking navigation in each of ``apps`` from ``origin`` to
    ``destination`` (both WGS 84 ``(lon, lat)``) called ``name``; ``in_china``: the points
    are in mainland China (Apple Maps then takes GCJ-02); ``app_name``: what the providers
    that ask are told the links come from."""
    here = HERE.get(language, HERE["en"])
    gcj = [wgs84_to_gcj02(*point) for point in (origin, destination)]
    bd = [wgs84_to_bd09(*point) for point in (origin, destination)]
    links: dict[str, str] = {}
    for app in apps:
        if app == "amap":
            query = {
                "from": f"{_pair(*gcj[0], lat_first=False)},{here}",
                "to": f"{_pair(*gcj[1], lat_first=False)},{name}",
                "mode": "walk",
                "coordinate": "gaode",
                "callnative": "1",
                "src": app_name,
            }
            links[app] = "https://uri.amap.com/navigation?" + urlencode(query, safe=",")
        elif app == "baidu":
            query = {
                "origin": f"latlng:{_pair(*bd[0], lat_first=True)}|name:{here}",
                "destination": f"latlng:{_pair(*bd[1], lat_first=True)}|name:{name}",
                "mode": "walking",
                "coord_type": "bd09ll",
                "output": "html",
                "src": f"webapp.{app_name}.locator",
            }
            links[app] = "https://api.map.baidu.com/direction?" + urlencode(query, safe=",:|")
        elif app == "tencent":
            query = {
                "type": "walk",
                "from": here,
                "fromcoord": _pair(*gcj[0], lat_first=True),
                "to": name,
                "tocoord": _pair(*gcj[1], lat_first=True),
                "referer": app_name,
            }
            links[app] = "https://apis.map.qq.com/uri/v1/routeplan?" + urlencode(query, safe=",")
        elif app == "apple":
            start, end = gcj if in_china else (origin, destination)
            query = {
                "saddr": _pair(*start, lat_first=True),
                "daddr": _pair(*end, lat_first=True),
                "dirflg": "w",
            }
            links[app] = "https://maps.apple.com/?" + urlencode(query, safe=",")
        elif app == "google":
            query = {
                "api": "1",
                "origin": _pair(*origin, lat_first=True),
                "destination": _pair(*destination, lat_first=True),
                "travelmode": "walking",
            }
            links[app] = "https://www.google.com/maps/dir/?" + urlencode(query, safe=",")
        elif app == "osm":
            route = f"{_pair(*origin, lat_first=True)};{_pair(*destination, lat_first=True)}"
            links[app] = (
                "https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot&route="
                + quote(route, safe="")
            )
        elif app == "geo":
            lon, lat = destination
            links[app] = f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({quote(name)})"
    return links
