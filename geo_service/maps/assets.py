"""The browser assets of our pages: Leaflet and its plugins vendored from npm (see
``static/vendor/manifest.json``) and our own scripts, all served by the service itself.

folium keeps CDN addresses in the ``default_js`` / ``default_css`` class attributes of its
elements; :func:`use_local_assets` points every one of them at our copies before a map is
rendered, and fails on any asset it has no copy of, so no page depends on the internet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from branca.element import Element

from geo_service.errors import GeoServiceError

#: folium's asset names → our files, relative to the static folder.
LOCAL_ASSETS: dict[str, str] = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "Control.Fullscreen.js": "vendor/leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "vendor/leaflet.fullscreen/Control.FullScreen.css",
    "leaflet_polylinemeasure_js": "vendor/leaflet.polylinemeasure/Leaflet.PolylineMeasure.js",
    "leaflet_polylinemeasure_css": "vendor/leaflet.polylinemeasure/Leaflet.PolylineMeasure.css",
    "markerclusterjs": "vendor/leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "vendor/leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "vendor/leaflet.markercluster/MarkerCluster.Default.css",
    "leaflet.groupedlayercontrol.min.js": (
        "vendor/leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.js"
    ),
    "leaflet.groupedlayercontrol.min.css": (
        "vendor/leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.css"
    ),
    "leaflet_vectorgrid_js": "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
    "geo_service_tiled_js": "geo_service/tiled.js",
    "Leaflet.Search.js": "vendor/leaflet-search/dist/leaflet-search.min.js",
    "Leaflet.Search.css": "vendor/leaflet-search/dist/leaflet-search.min.css",
    "geo_service_core_js": "geo_service/core.js",
    "geo_service_layers_js": "geo_service/layers.js",
    "geo_service_controls_js": "geo_service/controls.js",
    "geo_service_workspace_js": "geo_service/workspace.js",
    "geo_service_whatif_js": "geo_service/whatif.js",
    "geo_service_planning_js": "geo_service/planning.js",
    "geo_service_handouts_js": "geo_service/handouts.js",
    "geo_service_map_css": "geo_service/map.css",
}

#: What every map page loads (folium's Map also asks for jQuery, Bootstrap and Font
#: Awesome, which our pages do not use).
MAP_JS = [
    ("leaflet", ""),
    ("geo_service_core_js", ""),
    ("geo_service_layers_js", ""),
    ("geo_service_controls_js", ""),
]
MAP_CSS = [("leaflet_css", ""), ("geo_service_map_css", "")]


class AssetError(GeoServiceError):
    """A page asks for a browser asset we have no local copy of."""


def walk(root: Element) -> Iterator[Element]:
    """``root`` and every element under it."""
    yield root
    for child in list(root._children.values()):
        yield from walk(child)


def use_local_assets(root: Element, base: str) -> None:
    """Point the JS and CSS of ``root`` and every element under it at our copies.

    Parameters
    ----------
    root
        A folium map or figure, before it is rendered.
    base
        URL prefix of the static folder as the page sees it (``"/static/maps/"`` when
        served, ``"static/"`` next to a standalone file).
    """
    for element in walk(root):
        for attribute in ("default_js", "default_css"):
            assets = getattr(element, attribute, None)
            if not assets:
                continue
            local = []
            for name, url in assets:
                if name not in LOCAL_ASSETS:
                    raise AssetError(f"no local copy of the asset {name!r} ({url or 'no URL'})")
                local.append((name, base + LOCAL_ASSETS[name]))
            setattr(element, attribute, local)


_ASSET_URL = re.compile(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)=["']?(https?:)?//""", re.I)


def external_asset_count(html: str) -> int:
    """How many ``<script>``, ``<link>`` or ``<img>`` tags of ``html`` load from another
    host (``http://``, ``https://`` or ``//``)."""
    return len(_ASSET_URL.findall(html))
