"""The planner map: every layer of a map definition that the caller may see, grouped and
toggleable, with legend, popups, scale, search, measure and full screen — as one HTML
page built with folium. Assets come from our own service; features load from the API as
each layer is first shown, or are inlined for a standalone file."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import folium
from branca.element import Figure
from folium import plugins

from geo_service.data.catalog import Access, Catalog, LayerSpec, Text
from geo_service.maps.assets import MAP_CSS, MAP_JS
from geo_service.maps.client_layers import (
    Labels,
    client_layer,
    source_url,
    tiles_url,
    used_properties,
)
from geo_service.maps.definition import MapDefinition, MapLayer
from geo_service.maps.elements import CatalogLayer, MapFurniture, MeasureTool, Workspace
from geo_service.maps.page import PageBase, both, page_html
from geo_service.maps.tiles import Datum, datum_of, tile_layers

#: Inlined features of a layer for a standalone page: (layer, map entry) → FeatureCollection.
FeatureSource = Callable[[LayerSpec, MapLayer], dict]

SYNTHETIC_NOTICE = Text(
    zh="示例数据：小区、人口、服务中心位置与服务均为合成数据，仅供演示。",
    en="Synthetic demo data: compounds, residents and centre locations are made up.",
)


def planner_page(
    definition: MapDefinition,
    catalog: Catalog,
    bounds: tuple[float, float, float, float],
    *,
    base: PageBase,
    access: Access = "public",
    basemaps: list[str] | tuple[str, ...] = (),
    tianditu_key: str | None = None,
    features: FeatureSource | None = None,
    search_index: dict | None = None,
    labels: dict[str, Labels] | None = None,
    workspace: dict | None = None,
    tiled: Mapping[str, int] | None = None,
) -> str:
    """The planner map as an HTML page.

    Parameters
    ----------
    definition
        The map definition (``maps/planner.yaml``); checked against ``catalog``.
    bounds
        minlon, minlat, maxlon, maxlat (WGS 84) the map opens on.
    base
        URL prefixes of the static folder and the API.
    access
        The caller's clearance: layers above it are left out.
    basemaps
        Optional tile basemaps (``osm``, ``tianditu``, ``amap``); none needs no internet.
    features
        Inline each layer's features from here (a standalone file) instead of loading
        them from the API.
    search_index
        The gazetteer as a FeatureCollection, inlined for a standalone file's search
        (else the search asks the API).
    labels
        Labels of coded values in popups (:func:`~geo_service.maps.client_layers.value_labels`).
    workspace
        Options of the summary panel (layer ids, area key); shown when the page calls the
        API and the caller may see the coverage layers it reads.
    tiled
        The layers drawn from the API's vector tiles, each with the zoom level it draws
        from (:func:`~geo_service.maps.pages.tiled_layers`); not over GCJ-02 basemaps,
        which shift our layers feature by feature in the browser.
    """
    definition.check_against(catalog)
    visible = {spec.id for spec in catalog.visible(access)}
    entries = [entry for entry in definition.layers if entry.layer in visible]
    figure = Figure(title=both(definition.title))
    fmap = folium.Map(
        tiles=None,
        min_zoom=definition.min_zoom,
        max_zoom=definition.max_zoom,
        control_scale=False,
        zoom_control=True,
        prefer_canvas=True,
    )
    fmap.default_js, fmap.default_css = MAP_JS, MAP_CSS
    fmap.options.update(max_zoom=definition.max_zoom, min_zoom=definition.min_zoom, zoom_snap=0.25)
    figure.add_child(fmap)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    Datum(datum_of(basemaps)).add_to(fmap)
    tiles = tile_layers(basemaps, tianditu_key)
    for tile in tiles:
        tile.add_to(fmap)

    layers: dict[str, list[CatalogLayer]] = {group.id: [] for group in definition.groups}
    for entry in entries:
        spec = catalog.get(entry.layer)
        if features is not None:
            described = client_layer(spec, entry, data=features(spec, entry), labels=labels)
        elif tiled and spec.id in tiled and datum_of(basemaps) == "wgs84":
            url = tiles_url(spec, entry, base.api or "", used_properties(spec, entry))
            described = client_layer(
                spec, entry, tiles=url, tiles_min_zoom=tiled[spec.id], labels=labels
            )
        else:
            url = source_url(spec, entry, base.api or "", used_properties(spec, entry))
            described = client_layer(spec, entry, url=url, labels=labels)
        layer = CatalogLayer(described, name=both(spec.title), show=entry.visible)
        layer.add_to(fmap)
        layers[entry.group].append(layer)

    groups = {
        both(group.title): layers[group.id] for group in definition.groups if layers[group.id]
    }
    control = plugins.GroupedLayerControl(groups, exclusive_groups=False, collapsed=True)
    hidden = control.layers_untoggle  # a set: list it in layer order for stable output
    names = [layer.get_name() for group in layers.values() for layer in group]
    control.layers_untoggle = [name for name in names if name in hidden]
    control.add_to(fmap)
    if len(tiles) > 1:
        folium.LayerControl(position="topright", collapsed=True).add_to(fmap)
    plugins.Fullscreen(
        position="topleft", title="全屏 / Full screen", title_cancel="退出全屏 / Exit full screen"
    ).add_to(fmap)
    MeasureTool().add_to(fmap)
    synthetic = any(catalog.get(entry.layer).provenance.synthetic for entry in entries)
    sources = sorted({s for e in entries for s in catalog.get(e.layer).provenance.sources})
    MapFurniture(
        info_html=info_html(definition.title, synthetic, sources),
        layer_names=names,
        places_url=f"{base.api}locator/places" if base.api is not None else None,
        index=search_index,
    ).add_to(fmap)
    panel = {workspace["communities"], workspace["gaps"]} if workspace else None
    if panel and base.api is not None and panel <= visible:
        Workspace({**workspace, "api": base.api}).add_to(fmap)
    return page_html(figure, base.static)


def info_html(title: Text, synthetic: bool, sources: list[str] = ()) -> str:
    """The page's heading, the synthetic-data notice and the loading status line; for
    print, the sources and the date printed (filled in when printing)."""
    parts = [f'<div class="gs-title"><h1>{html.escape(both(title))}</h1></div>']
    if synthetic:
        parts.append(
            f'<p class="gs-notice" role="note">{html.escape(SYNTHETIC_NOTICE.zh)}<br>'
            f"{html.escape(SYNTHETIC_NOTICE.en)}</p>"
        )
    parts.append('<p id="gs-status" class="gs-status" role="status" aria-live="polite"></p>')
    if sources:
        parts.append(
            '<p class="gs-print-only gs-sources">来源 Sources: '
            f"{html.escape('; '.join(sources))}</p>"
        )
    parts.append('<p class="gs-print-only gs-printed"></p>')
    return "".join(parts)
