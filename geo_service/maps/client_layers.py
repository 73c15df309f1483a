"""What the browser needs to draw a catalog layer: a plain JSON-able dict built from the
catalog entry and the map definition (style, classes, popup fields with zh/en labels and
units, where to load the features from). ``static/geo_service/layers.js`` reads it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from geo_service.analysis.facility_sets import life_circle_requirements
from geo_service.data.analysis_config import AnalysisConfig
from geo_service.data.catalog import LayerSpec
from geo_service.maps.definition import MapLayer

#: Labels: code -> {"zh": ..., "en": ...}; value labels: property -> labels.
Labels = dict[str, dict[str, str]]


def value_labels(config: AnalysisConfig) -> dict[str, Labels]:
    """Labels of coded values shown in popups, by property name, from the district's
    analysis configuration (services, facility levels, what a community lacks)."""

    def label(title) -> dict[str, str]:
        return {"zh": title.pick("zh"), "en": title.pick("en")}

    services = {t.key: label(t.title) for t in config.services}
    return {
        "services": services,
        "lacks": {
            r.key: {"zh": r.facilities.title_zh, "en": r.facilities.title_en}
            for r in life_circle_requirements(config)
        },
        "level": {t.key: label(t.title) for t in config.levels},
    }


def popup_fields(spec: LayerSpec, names: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """Popup rows: property name, label (its catalog title, else its description), unit,
    list separator. ``names=None`` takes the catalog's titled properties."""
    if names is None:
        names = tuple(p.name for p in spec.properties if p.title is not None)
    fields = []
    for name in names:
        prop = spec.get_property(name)
        label = prop.title or prop.description
        fields.append(
            {
                "name": name,
                "label": {"zh": label.zh, "en": label.en},
                "unit": prop.unit,
                "type": prop.type,
                "separator": prop.list_separator,
                "format": prop.format,
            }
        )
    return fields


def source_url(spec: LayerSpec, entry: MapLayer, base: str, fields: list[str]) -> str:
    """The API address of the layer's features as GeoJSON in WGS 84, only the properties
    the map uses, filtered as the definition says (``base``: the service root as the page
    sees it)."""
    query = {"f": "json", "limit": "10000", **{k: str(v) for k, v in entry.filter.items()}}
    if fields:
        query["properties"] = ",".join(fields)
    return f"{base}collections/{spec.id}/items?{urlencode(query, safe=',')}"


def tiles_url(spec: LayerSpec, entry: MapLayer, base: str, fields: list[str]) -> str:
    """The URL template (``{z}/{y}/{x}``) of the layer's vector tiles with the properties
    the map uses, filtered as the definition says."""
    query = {k: str(v) for k, v in entry.filter.items()}
    if fields:
        query["properties"] = ",".join(fields)
    suffix = f"?{urlencode(query, safe=',')}" if query else ""
    return f"{base}collections/{spec.id}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}{suffix}"


def client_layer(
    spec: LayerSpec,
    entry: MapLayer,
    *,
    url: str | None = None,
    tiles: str | None = None,
    tiles_min_zoom: int = 0,
    data: dict | None = None,
    labels: dict[str, Labels] | None = None,
) -> dict[str, Any]:
    """The browser's description of one map layer (give ``url`` to load the features
    lazily from the API, ``tiles`` to draw them from vector tiles from zoom
    ``tiles_min_zoom`` on, or ``data`` to inline a GeoJSON FeatureCollection; ``labels``:
    see :func:`value_labels`)."""
    labels = labels or {}
    classes = entry.classes.model_dump(exclude_none=True) if entry.classes else None
    popup = popup_fields(spec, entry.popup) if entry.interactive else []
    return {
        "id": spec.id,
        "title": {"zh": spec.title.zh, "en": spec.title.en},
        "group": entry.group,
        "geometry": spec.geometry_type,
        "visible": entry.visible,
        "interactive": entry.interactive,
        "fill": entry.fill,
        "cluster": entry.cluster,
        "symbol": entry.symbol,
        "style": {
            "color": spec.style.color,
            "fillColor": spec.style.fill_color or spec.style.color,
            "fillOpacity": spec.style.fill_opacity,
            "weight": spec.style.line_width,
            "radius": spec.style.radius or 5,
        },
        "classes": classes,
        "popup": popup,
        "tooltip": entry.tooltip if entry.tooltip in spec.property_names else None,
        "valueLabels": {f["name"]: labels[f["name"]] for f in popup if f["name"] in labels},
        "synthetic": spec.provenance.synthetic,
        "url": url,
        "tiles": tiles,
        "tilesMinZoom": tiles_min_zoom,
        "data": data,
    }


def used_properties(spec: LayerSpec, entry: MapLayer) -> list[str]:
    """The properties the map reads from the layer (popup, tooltip, classes, id)."""
    names = [spec.id_property]
    if entry.interactive:
        names += [f["name"] for f in popup_fields(spec, entry.popup)]
    if entry.tooltip in spec.property_names:
        names.append(entry.tooltip)
    if entry.classes is not None:
        names.append(entry.classes.property)
    return list(dict.fromkeys(names))
