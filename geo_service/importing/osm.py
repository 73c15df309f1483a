"""A district's layers from an OpenStreetMap extract (.osm.pbf, or .osm XML).

Reader: GDAL's OSM driver, through pyogrio (already a dependency; its bundled GDAL has the
driver), rather than pyosmium. It reads PBF and XML, assembles multipolygon and boundary
relations, and with an osmconf.ini written from the tag mapping returns every tag the rules
need as a column. It does not report which node each way vertex is, but it gives a node's
coordinates bit for bit the same in every way that uses it, so splitting ways where they
share a vertex is splitting them at shared nodes (see :mod:`.osm_network`); and GDAL's
warnings about relations left incomplete by a clipped extract are turned into notes.

What comes out (all in EPSG:4326; lengths and areas in metres / m² in ``metric_crs``):
``roads`` (walkable ways, split junction to junction), ``service_centres`` (with address
and phone where tagged), ``landmarks`` (named places to search by), ``pocket_parks``,
``trails``, ``compounds`` (with population), ``communities`` (when the extract has admin
boundaries below the district) and ``district``. The tag rules are in ``osm_tags.yaml``
(:func:`load_tag_mapping`); the population estimate is described in :mod:`.osm_population`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from geo_service.crs import check_metric_crs, metric_crs_for
from geo_service.errors import ImportFailed
from geo_service.importing.osm_areas import (
    admin_boundaries,
    communities,
    community_of,
    resolve_district,
)
from geo_service.importing.osm_features import pocket_parks, service_centres, trails
from geo_service.importing.osm_landmarks import landmarks
from geo_service.importing.osm_mapping import TagMapping, load_tag_mapping
from geo_service.importing.osm_network import build_roads, walkable_ways
from geo_service.importing.osm_population import PopulationOptions, compounds
from geo_service.importing.osm_reader import LAYERS, OsmLayers, read_osm
from geo_service.importing.osm_schema import conform

__all__ = ["OsmImport", "PopulationOptions", "TagMapping", "import_osm", "load_tag_mapping"]

logger = logging.getLogger(__name__)


@dataclass
class OsmImport:
    """The layers built from one extract.

    ``layers`` maps a canonical layer id (``roads``, ``service_centres``, ``landmarks``,
    ``pocket_parks``, ``trails``, ``compounds``, ``communities`` when present, ``district``)
    to its frame in EPSG:4326; ``metric_crs`` is the projected CRS lengths and areas were
    measured in; ``counts`` says what was read, kept and dropped; ``notes`` says it in
    sentences.
    """

    layers: dict[str, gpd.GeoDataFrame]
    metric_crs: CRS
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Stage:
    advance: Callable[..., None]
    counts: dict[str, int] = field(default_factory=dict)


class _Stages:
    """A rich progress bar per stage (when shown), and a log line with the stage's counts
    when it ends."""

    def __init__(self, progress: bool):
        self.counts: dict[str, int] = {}
        self.bar = (
            Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            if progress
            else None
        )

    def __enter__(self) -> _Stages:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    @contextmanager
    def stage(self, name: str, steps: int = 1) -> Iterator[_Stage]:
        bar, task = self.bar, None
        if bar is not None:
            task = bar.add_task(name.replace("_", " "), total=steps)
        stage = _Stage(advance=lambda *_: bar.advance(task) if bar is not None else None)
        yield stage
        if bar is not None:
            bar.update(task, completed=steps)
        self.counts |= stage.counts
        logger.info("%s: %s", name, ", ".join(f"{k}={v}" for k, v in stage.counts.items()))


def import_osm(
    path: Path | str,
    *,
    tags: Path | str | Mapping | TagMapping | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    boundary: shapely.Geometry | None = None,
    district: str | int | None = None,
    metric_crs: CRS | str | None = None,
    population: PopulationOptions | None = None,
    progress: bool = False,
) -> OsmImport:
    """Build a district's layers from an OpenStreetMap extract.

    Parameters
    ----------
    path
        The extract: ``.osm.pbf`` or ``.osm`` (XML).
    tags
        The tag mapping: a YAML file, a dict of the same shape, a :class:`TagMapping`, or
        ``None`` for the shipped ``osm_tags.yaml``.
    bbox
        ``(west, south, east, north)`` in degrees (EPSG:4326): clip everything to it.
    boundary
        The district polygon in lon/lat (EPSG:4326): clip everything to it (to its part
        inside ``bbox`` when both are given).
    district
        Instead of ``bbox``/``boundary``: the ``boundary=administrative`` relation that is
        the district, by OSM id (``123`` or ``"r123"``) or name (``name``, ``name:en`` or
        ``name:zh``). With none of the three, the district is the convex hull of the
        walkable roads.
    metric_crs
        Projected CRS in metres for lengths and areas; ``None`` picks one from the
        district's extent (:func:`geo_service.crs.metric_crs_for`: UTM, or a CGCS2000
        Gauss-Kruger zone in China). A CRS whose area of use misses the district raises
        :class:`~geo_service.errors.UnsuitableCRS`.
    population
        How compounds and their population are built (:class:`PopulationOptions`).
    progress
        Show a progress bar per stage on stderr. Counts are logged (``logging``, INFO)
        at the end of each stage either way.

    Returns
    -------
    OsmImport
        The layers (EPSG:4326), the metric CRS, counts and notes.

    Raises
    ------
    geo_service.errors.ImportFailed
        The file cannot be read, the mapping or an option is invalid, or the district
        relation is not in the extract.
    geo_service.errors.UnsuitableCRS
        ``metric_crs`` is not projected in metres or its area of use misses the district.
    """
    mapping = load_tag_mapping(tags)
    population = population or PopulationOptions()
    read_box = _read_box(bbox, boundary, district)
    notes: list[str] = []
    out: dict[str, gpd.GeoDataFrame] = {}
    with _Stages(progress) as stages:
        with stages.stage("read", len(LAYERS)) as stage:
            layers = read_osm(path, mapping, bbox=read_box, on_layer=stage.advance)
            stage.counts = _read_counts(layers)
        notes += _read_notes(layers)

        with stages.stage("walkable") as stage:
            ways, dropped = walkable_ways(layers, mapping.roads)
            stage.counts = {"roads_ways_kept": len(ways), "roads_ways_dropped": dropped.total()}
        notes += [f"{n} ways dropped: {reason}" for reason, n in dropped.most_common()]

        with stages.stage("district") as stage:
            admins = admin_boundaries(layers.multipolygons)
            area = resolve_district(
                boundary=boundary,
                bbox=bbox,
                relation=district,
                admins=admins,
                roads=ways.geometry.to_numpy(),
            )
            bounds = tuple(float(b) for b in shapely.bounds(area.geometry))
            crs = (
                metric_crs_for(bounds)
                if metric_crs is None
                else check_metric_crs(metric_crs, bounds)
            )
            stage.counts = {"admin_boundaries": len(admins)}
        notes.append(f"{area.describe()}; lengths and areas in {crs.to_string()}")
        logger.info(notes[-1])
        where = area.geometry

        with stages.stage("roads") as stage:
            out["roads"], stage.counts = build_roads(ways, where, crs)
        with stages.stage("service_centres") as found:
            out["service_centres"], found.counts = service_centres(layers, mapping, where)
        if found.counts["opening_hours_dropped"]:
            notes.append(
                f"{found.counts['opening_hours_dropped']} opening_hours tags dropped: "
                "opening-hours-py cannot parse them"
            )
        with stages.stage("landmarks") as stage:
            out["landmarks"], stage.counts = landmarks(
                layers, mapping, where, skip=set(out["service_centres"]["id"])
            )
        with stages.stage("pocket_parks") as stage:
            out["pocket_parks"], stage.counts = pocket_parks(layers, mapping, where, crs)
        with stages.stage("trails") as stage:
            out["trails"], stage.counts = trails(ways, layers, mapping, where, crs)
        with stages.stage("compounds") as stage:
            out["compounds"], stage.counts, more = compounds(
                layers, mapping.compounds, population, where, crs
            )
        notes += more
        with stages.stage("communities") as stage:
            parts = communities(admins, area, admin_level=mapping.communities.admin_level)
            stage.counts = {"communities": 0 if parts is None else len(parts)}
    for name in ("service_centres", "landmarks", "pocket_parks", "trails", "compounds"):
        out[name]["community_id"] = community_of(out[name].geometry.to_numpy(), parts)
    if parts is not None:
        out["communities"] = parts
    out["district"] = area.frame()
    typed = {name: conform(frame, name) for name, frame in out.items()}
    return OsmImport(layers=typed, metric_crs=crs, counts=stages.counts, notes=notes)


def _read_box(bbox, boundary, district) -> tuple[float, float, float, float] | None:
    """The lon/lat box to read features from (None: all), checking the area options."""
    if district is not None and (bbox is not None or boundary is not None):
        raise ImportFailed("give the district as a relation, or as bbox/boundary, not both")
    boxes = []
    if bbox is not None:
        boxes.append(tuple(float(v) for v in bbox))
        if not _is_lon_lat_box(boxes[-1]):
            raise ImportFailed(f"bbox must be (west, south, east, north) in degrees: {bbox}")
    if boundary is not None:
        boxes.append(tuple(float(v) for v in shapely.bounds(boundary)))
        if shapely.is_empty(boundary) or not _is_lon_lat_box(boxes[-1]):
            raise ImportFailed("boundary must be a polygon in lon/lat degrees (EPSG:4326)")
    if not boxes:
        return None
    corners = np.array(boxes)
    return (*corners[:, :2].max(axis=0), *corners[:, 2:].min(axis=0))


def _is_lon_lat_box(box: tuple[float, ...]) -> bool:
    west, south, east, north = box
    return -180 <= west < east <= 180 and -90 <= south < north <= 90


def _read_counts(layers: OsmLayers) -> dict[str, int]:
    counts = {f"{layer}_read": n for layer, n in layers.read.items()}
    counts |= {f"{layer}_unbuildable": n for layer, n in layers.unbuildable.items()}
    return counts | {"polygons_repaired": layers.repaired}


def _read_notes(layers: OsmLayers) -> list[str]:
    notes = [
        f"{n} {layer} dropped: GDAL could not build their geometry (incomplete in the extract)"
        for layer, n in layers.unbuildable.items()
        if n
    ]
    if layers.repaired:
        notes.append(f"{layers.repaired} invalid polygons repaired (make_valid)")
    messages: Counter[str] = layers.gdal_messages
    return notes + [f"GDAL ({n}x): {message}" for message, n in messages.most_common()]
