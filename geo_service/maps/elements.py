"""folium elements of our map pages: a catalog layer drawn by ``layers.js`` and the page's
furniture (title, synthetic-data notice, loading status, legend, place search)."""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from geo_service.maps.assets import MAP_CSS, MAP_JS

_MARKER_CLUSTER_JS = [("markerclusterjs", "")]
_MARKER_CLUSTER_CSS = [("markerclustercss", ""), ("markerclusterdefaultcss", "")]
_VECTOR_TILES_JS = [("leaflet_vectorgrid_js", ""), ("geo_service_tiled_js", "")]


class CatalogLayer(JSCSSMixin, Layer):
    """One catalog layer, described for the browser by
    :func:`~geo_service.maps.client_layers.client_layer`; features load when it is first
    shown (from the API, or inlined in a standalone file)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = GeoService.layer({{ this.definition|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, definition: dict[str, Any], *, name: str, show: bool):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "CatalogLayer"
        self.definition = definition
        self.default_js = (
            MAP_JS
            + (_MARKER_CLUSTER_JS if definition["cluster"] else [])
            + (_VECTOR_TILES_JS if definition.get("tiles") else [])
        )
        self.default_css = MAP_CSS + (_MARKER_CLUSTER_CSS if definition["cluster"] else [])


class MapFurniture(JSCSSMixin, MacroElement):
    """Title, synthetic-data notice, loading status, legend and search of a map page."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            GeoService.furnish({{ this._parent.get_name() }}, {
                info: {{ this.info_html|tojson }},
                layers: [{%- for name in this.layer_names %}{{ name }},{% endfor -%}],
                search: {{ this.search|tojson }},
                placesUrl: {{ this.places_url|tojson }},
                index: {{ this.index|tojson }},
            });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        info_html: str,
        layer_names: list[str],
        places_url: str | None,
        index: dict | None = None,
        search: bool = True,
    ):
        super().__init__()
        self._name = "MapFurniture"
        self.default_js = [*MAP_JS, ("Leaflet.Search.js", "")]
        self.default_css = [*MAP_CSS, ("Leaflet.Search.css", "")]
        self.info_html = info_html
        self.layer_names = layer_names
        self.places_url = places_url
        self.index = index
        self.search = search


class MeasureTool(JSCSSMixin, MacroElement):
    """Measure distances along a polyline (Leaflet.PolylineMeasure, metres and km)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (control) {
                /* Its controls are bare anchors: make them keyboard buttons. */
                [control._measureControl, control._clearMeasureControl].forEach(function (a) {
                    if (!a) { return; }
                    a.setAttribute("role", "button");
                    a.setAttribute("tabindex", "0");
                    a.setAttribute("aria-label", a.title);
                    a.addEventListener("keydown", function (event) {
                        if (event.key === "Enter" || event.key === " ") {
                            event.preventDefault();
                            a.click();
                        }
                    });
                });
            })(L.control.polylineMeasure({{ this.options|tojson }}).addTo(
                {{ this._parent.get_name() }}));
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "MeasureTool"
        self.default_js = [("leaflet_polylinemeasure_js", "")]
        self.default_css = [("leaflet_polylinemeasure_css", "")]
        self.options = {
            "position": "topleft",
            "unit": "metres",
            "measureControlClasses": ["gs-measure"],
            "clearControlClasses": ["gs-measure-clear"],
            "showClearControl": True,
            "clearMeasurementsOnStop": False,
            "measureControlTitleOn": "测量距离 / Measure distance",
            "measureControlTitleOff": "结束测量 / Stop measuring",
            "clearControlTitle": "清除测量 / Clear measurements",
            "tooltipTextFinish": "单击结束 / Click to <b>finish line</b><br>",
            "tooltipTextDelete": "Shift+单击删除点 / Shift-click to <b>delete point</b>",
            "tooltipTextMove": "拖动移动点 / Drag to <b>move point</b><br>",
            "tooltipTextResume": "<br>Ctrl+单击继续 / Ctrl-click to <b>resume line</b>",
            "tooltipTextAdd": "Ctrl+单击加点 / Ctrl-click to <b>add point</b>",
        }


class Workspace(JSCSSMixin, MacroElement):
    """The planner's summary panel (``workspace.js``): headline and criterion, areas as
    bars, the community table linked to the map, the community card, the gap list; its
    parts ``whatif.js`` (what-if, saved scenarios), ``planning.js`` (where to build,
    capacity) and ``handouts.js`` (print, reports). Read from the API."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            GeoService.workspace({{ this._parent.get_name() }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, options: dict[str, Any]):
        super().__init__()
        self._name = "Workspace"
        self.default_js = [
            *MAP_JS,
            ("geo_service_workspace_js", ""),
            ("geo_service_whatif_js", ""),
            ("geo_service_planning_js", ""),
            ("geo_service_handouts_js", ""),
        ]
        self.default_css = MAP_CSS
        self.options = options
