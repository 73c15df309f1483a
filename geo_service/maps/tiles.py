"""Optional tile basemaps. None is needed: by default the maps draw the district, water and
roads from our own layers and work with no internet. OpenStreetMap and Tianditu tiles are
in WGS 84 terms (Tianditu's CGCS2000 differs from WGS 84 by centimetres); Amap tiles are in
GCJ-02, so a map with Amap shifts every one of our layers to GCJ-02 in the browser."""

from __future__ import annotations

from collections.abc import Iterable

import folium
from branca.element import MacroElement
from folium.template import Template

TILE_SOURCES: dict[str, dict[str, str | int]] = {
    "osm": {
        "name": "OpenStreetMap",
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
        " contributors",
        "hosts": "https://tile.openstreetmap.org",
        "max_zoom": 19,
    },
    "tianditu": {
        "name": "天地图 / Tianditu",
        "url": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "attr": '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>',
        "hosts": "https://*.tianditu.gov.cn",
        "max_zoom": 18,
        "subdomains": "01234567",
    },
    "amap": {
        "name": "高德地图 / Amap (GCJ-02)",
        "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
        "&style=8&x={x}&y={y}&z={z}",
        "attr": '&copy; <a href="https://www.amap.com/">高德地图 Amap</a>',
        "hosts": "https://*.is.autonavi.com",
        "max_zoom": 18,
        "subdomains": "1234",
    },
}


def tile_hosts(basemaps: Iterable[str]) -> list[str]:
    """Hosts the pages may load tile images from (for the Content-Security-Policy)."""
    return [str(TILE_SOURCES[name]["hosts"]) for name in basemaps]


def tile_layers(basemaps: Iterable[str], tianditu_key: str | None) -> list[folium.TileLayer]:
    """folium tile layers for the chosen basemaps, the first one shown."""
    layers = []
    for i, name in enumerate(basemaps):
        source = TILE_SOURCES[name]
        url = str(source["url"]).replace("{key}", tianditu_key or "")
        layers.append(
            folium.TileLayer(
                tiles=url,
                attr=str(source["attr"]),
                name=str(source["name"]),
                max_zoom=int(source["max_zoom"]),
                subdomains=str(source.get("subdomains", "abc")),
                overlay=False,
                show=i == 0,
            )
        )
    return layers


class Datum(MacroElement):
    """Tells ``core.js`` the datum of the tiles, so our WGS 84 layers line up with them."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            GeoService.datum = {{ this.datum|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, datum: str):
        super().__init__()
        self._name = "Datum"
        self.datum = datum


def datum_of(basemaps: Iterable[str]) -> str:
    """``"gcj02"`` for Amap tiles, else ``"wgs84"``."""
    return "gcj02" if "amap" in basemaps else "wgs84"
