"""The map pages of a running service or a standalone build: map definitions loaded once,
pages built on first request and kept per access level."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import shapely

from geo_service.analysis.facility_sets import life_circle_requirements
from geo_service.data.catalog import Access, Catalog
from geo_service.data.profile import DistrictProfile
from geo_service.data.stores.base import LayerStore
from geo_service.data.vector_tiles import first_zoom_within
from geo_service.errors import CatalogError
from geo_service.maps.client_layers import value_labels
from geo_service.maps.definition import MapDefinition, load_map_definition
from geo_service.maps.locator_page import locator_page
from geo_service.maps.page import PageBase
from geo_service.maps.planner import FeatureSource, planner_page
from geo_service.settings import Settings

#: The layer whose extent a map opens on.
EXTENT_LAYER = "district"

#: Where the service mounts the static folder.
STATIC_ROUTE = "/static/maps"
STATIC_DIR = Path(__file__).parent / "static"
#: URL prefixes the served pages use (absolute paths on the service).
SERVED = PageBase(static=STATIC_ROUTE + "/", api="/")


def load_map_definitions(folder: Path, catalog: Catalog) -> dict[str, MapDefinition]:
    """Every ``*.yaml`` map definition in ``folder``, checked against ``catalog``."""
    definitions = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        definition = load_map_definition(path)
        if definition.id != path.stem:
            raise CatalogError(f"{path}: id {definition.id!r} must match the file name")
        definition.check_against(catalog)
        definitions[definition.id] = definition
    if "planner" not in definitions:
        raise CatalogError(f"{folder}: no planner.yaml map definition")
    return definitions


def extent(store: LayerStore) -> tuple[float, float, float, float]:
    """minlon, minlat, maxlon, maxlat (WGS 84) of the district (else of every layer)."""
    ids = [EXTENT_LAYER] if EXTENT_LAYER in store.catalog else [s.id for s in store.catalog]
    boxes = [store.query(layer_id).total_bounds for layer_id in ids]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def tiled_layers(definition: MapDefinition, store: LayerStore) -> dict[str, int]:
    """The layers of ``definition`` that ``store`` holds too big to load whole: more than
    its ``tiles_above`` features or ``vertices_above`` vertices (after the map's filter),
    each with the lowest zoom level at which no tile holds more than its
    ``features_per_tile`` (:func:`first_zoom_within`)."""
    if definition.tiles_above is None:
        return {}
    tiled = {}
    for entry in definition.layers:
        if not store.has(entry.layer):
            continue
        if definition.vertices_above is None and store.count(entry.layer) <= definition.tiles_above:
            continue
        frame = store.query(entry.layer, where=entry.filter or None)
        vertices = int(shapely.get_num_coordinates(frame.geometry.to_numpy()).sum())
        if len(frame) > definition.tiles_above or vertices > (
            definition.vertices_above if definition.vertices_above is not None else np.inf
        ):
            tiled[entry.layer] = first_zoom_within(frame, definition.features_per_tile)
    return tiled


def with_stand_ins(definition: MapDefinition, store: LayerStore) -> MapDefinition:
    """``definition`` with each layer that stands in for an empty one (``shown_when_empty``)
    shown at start, and the empty one hidden."""
    empty = {
        entry.shown_when_empty
        for entry in definition.layers
        if entry.shown_when_empty
        and store.has(entry.shown_when_empty)
        and store.count(entry.shown_when_empty) == 0
    }
    if not empty:
        return definition
    layers = tuple(
        entry.model_copy(update={"visible": True})
        if entry.shown_when_empty in empty
        else entry.model_copy(update={"visible": False})
        if entry.layer in empty
        else entry
        for entry in definition.layers
    )
    return definition.model_copy(update={"layers": layers})


def _term(term) -> dict:
    return {"key": term.key, "zh": term.title.pick("zh"), "en": term.title.pick("en")}


class MapPages:
    """Builds the planner and locator pages for ``store`` on first use and keeps them."""

    def __init__(
        self,
        settings: Settings,
        store: LayerStore,
        profile: DistrictProfile,
        *,
        base: PageBase = SERVED,
    ):
        self.settings = settings
        self.store = store
        self.profile = profile
        self.labels = value_labels(profile.analysis)
        self.base = base
        self.definitions = load_map_definitions(settings.maps_dir, store.catalog)
        self._pages: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def planner(
        self,
        access: Access = "public",
        features: FeatureSource | None = None,
        index: dict | None = None,
    ) -> str:
        """The planner map showing the layers a caller cleared for ``access`` may see
        (``features`` and ``index``: inline the layers and the search index)."""
        return self._page(
            ("planner", access),
            lambda: planner_page(
                with_stand_ins(self.definitions["planner"], self.store),
                self.store.catalog,
                extent(self.store),
                base=self.base,
                access=access,
                basemaps=self.settings.basemaps,
                tianditu_key=self._tianditu_key(),
                features=features,
                search_index=index,
                labels=self.labels,
                workspace=self._workspace(),
                tiled=None if features is not None else self._tiled(),
            ),
        )

    def _tiled(self) -> dict[str, int]:
        """The planner's layers drawn from vector tiles, with the zoom each draws from."""
        return tiled_layers(self.definitions["planner"], self.store)

    def locator(self) -> str:
        """The public service-centre locator (public layers only, whoever asks)."""
        return self._page(
            ("locator", "public"),
            lambda: locator_page(
                self.store.catalog,
                extent(self.store),
                base=self.base,
                basemaps=self.settings.basemaps,
                tianditu_key=self._tianditu_key(),
                labels=self.labels,
                languages=self.profile.languages,
                centre_term={
                    "zh": self.profile.centre_term.pick("zh"),
                    "en": self.profile.centre_term.pick("en"),
                },
                pinyin=self.profile.in_china,
            ),
        )

    def _workspace(self) -> dict:
        """Where the summary panel reads: the coverage layers, the coarsest areas and the
        finest (the communities' key, for the what-if's per-community changes)."""
        areas = self.profile.analysis.areas
        coarse = next((a for a in reversed(areas) if a.layer in self.store.catalog), None)
        return {
            "communities": "community_coverage",
            "gaps": "coverage_gaps",
            "compounds": "compound_coverage",
            "headline": self.profile.analysis.headline_set,
            "centres": self.profile.analysis.centre_layer,
            "areas": coarse.layer if coarse is not None else None,
            "areaKey": coarse.key if coarse is not None and len(areas) > 1 else None,
            "communityKey": areas[0].key if areas else None,
            # what a proposed centre may offer, and the life-circle types' names
            "levels": [_term(t) for t in self.profile.analysis.levels],
            "services": [_term(t) for t in self.profile.analysis.services],
            "types": {
                r.key: {"zh": r.facilities.title_zh, "en": r.facilities.title_en}
                for r in life_circle_requirements(self.profile.analysis)
            },
            "gapsShown": 10,
        }

    def _tianditu_key(self) -> str | None:
        key = self.settings.tianditu_key
        return key.get_secret_value() if key else None

    def _page(self, key: tuple[str, str], build) -> str:
        with self._lock:
            if key not in self._pages:
                self._pages[key] = build()
            return self._pages[key]
