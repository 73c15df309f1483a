"""The work of one batch task, on a Dask worker: read a part's layers from the run's
GeoParquet files (only the rows in its boxes) and walk from its compounds, or read the
whole network and draw the network-wide layers.

Tasks carry file paths and a few numbers, never GeoDataFrames: the files must be readable
at the same path on every worker (a shared folder on a real cluster).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pyarrow.compute
import pyarrow.dataset
import shapely
from pyproj import CRS, Transformer

from geo_service.analysis.coverage import column, compound_access
from geo_service.analysis.demand import demand_points
from geo_service.analysis.facility_sets import display_sets
from geo_service.analysis.figures import facility_access_points
from geo_service.analysis.network import build_walk_graph
from geo_service.analysis.partition import (
    Box,
    Part,
    grown,
    main_road_rows,
    part_layers,
    with_main_piece,
)
from geo_service.analysis.run import NetworkLayers, network_layers
from geo_service.coverage_params import CoverageParams
from geo_service.crs import STORAGE_CRS, to_metric
from geo_service.data.analysis_config import AnalysisConfig
from geo_service.data.layer_rows import whole_frame
from geo_service.errors import DataValidationError

#: The column each GeoParquet row carries: its position in the layer.
ROW = "_row"


@dataclass(frozen=True)
class BatchInputs:
    """Where a batch run's input layers are (GeoParquet, EPSG:4326, with :data:`ROW`)
    and what they are walked with."""

    files: dict[str, str]
    config: AnalysisConfig
    params: CoverageParams
    metric_crs: str


@dataclass
class PartAccess:
    """What a part's walk found, per compound of the part (``rows``: positions in the
    demand layer): the snapping (first walk only) and, per facility set of ``set_keys``,
    the metres to the nearest facility and its id (``(n_sets, n)`` arrays)."""

    rows: np.ndarray
    set_keys: tuple[str, ...]
    metres: np.ndarray
    best_id: np.ndarray
    snap_m: np.ndarray | None = None
    snap_status: np.ndarray | None = None


@functools.cache
def _crs(text: str) -> CRS:
    """A CRS, made once per worker (each takes ~10 ms)."""
    return CRS.from_user_input(text)


@functools.cache
def _to_degrees(metric_crs: str) -> Transformer:
    """From the metric CRS to EPSG:4326, made once per worker."""
    return Transformer.from_crs(_crs(metric_crs), _crs(STORAGE_CRS), always_xy=True)


def _read(inputs: BatchInputs, layer: str, box: Box | None = None, where=None) -> gpd.GeoDataFrame:
    """One input layer (metric CRS) in its order: only the features whose box meets
    ``box`` (metres) if given (a superset of those that meet the box itself), or those
    the pyarrow expression ``where`` picks. Read with pyarrow, whose filter on the
    bounding-box column skips the row groups outside."""
    dataset = pyarrow.dataset.dataset(inputs.files[layer], format="parquet")
    within = where
    if box is not None:
        west, south, east, north = _to_degrees(inputs.metric_crs).transform_bounds(
            *grown(box, 1.0), densify_pts=21
        )
        corner = pyarrow.compute.field
        within = (
            (corner("bbox", "xmin") <= east)
            & (corner("bbox", "xmax") >= west)
            & (corner("bbox", "ymin") <= north)
            & (corner("bbox", "ymax") >= south)
        )
    table = dataset.to_table(filter=within)
    geometry = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    columns = table.drop_columns(["geometry", "bbox"]).to_pandas()
    frame = gpd.GeoDataFrame(
        columns, geometry=gpd.GeoSeries(geometry, index=columns.index, crs=_crs(STORAGE_CRS))
    )
    # the layer's own order: the walks must see the features as one process does
    frame = frame.sort_values(ROW, kind="stable").reset_index(drop=True)
    return to_metric(frame, _crs(inputs.metric_crs))


def main_rows(inputs: BatchInputs) -> np.ndarray:
    """Per road row: whether it is on the whole network's main piece (the one walks
    are on), for every part to snap as one process does."""
    roads = _read(inputs, "roads")
    return main_road_rows(roads, build_walk_graph(roads, inputs.metric_crs))


def walk_part(
    inputs: BatchInputs,
    part: Part,
    set_keys: tuple[str, ...],
    first: bool,
    on_main: np.ndarray,
) -> PartAccess:
    """Walk from the compounds of ``part`` to the facility sets ``set_keys`` on the
    network within its margin (see :mod:`geo_service.analysis.partition`); ``on_main``:
    :func:`main_rows`. ``first``: also return the compounds' snapping."""
    config = inputs.config
    snap = inputs.params.max_snap_m
    field = pyarrow.compute.field
    demand = _read(inputs, config.demand_layer, where=field(ROW).isin(part.positions))
    if len(demand) != len(part.positions):
        raise DataValidationError(
            f"part {part.name}: {len(demand)} of its {len(part.positions)} compounds in "
            f"{inputs.files[config.demand_layer]}"
        )
    superset = {config.demand_layer: demand}
    superset["roads"] = _read(inputs, "roads", part.road_box(snap))
    if config.gates_layer and config.gates_layer in inputs.files:
        ids = pyarrow.array(demand["id"].to_numpy())
        gates = field(config.gate_key).isin(ids)
        superset[config.gates_layer] = _read(inputs, config.gates_layer, where=gates)
    layers_needed = {s.layer for s in config.facility_sets}
    for layer in sorted(layers_needed & set(inputs.files)):
        if layer not in superset:
            superset[layer] = _read(inputs, layer, part.facility_box(snap))
    local = replace(part, positions=np.arange(len(demand)))
    layers = part_layers(superset, config, local, snap)
    compounds = layers[config.demand_layer]
    gates = layers.get(config.gates_layer) if config.gates_layer else None
    points, owner = demand_points(compounds, gates, gate_key=config.gate_key)
    sets = facility_access_points(layers, config, compounds.crs)
    sets = {key: sets[key] for key in set_keys}
    roads = layers["roads"]
    graph = build_walk_graph(roads, inputs.metric_crs)
    graph = with_main_piece(graph, roads, on_main[roads[ROW].to_numpy()])
    table = compound_access(graph, points, owner, len(compounds), sets, inputs.params)
    return PartAccess(
        rows=part.positions,
        set_keys=set_keys,
        metres=np.vstack([table[column(k, "m")].to_numpy(float) for k in set_keys]),
        best_id=np.vstack([table[column(k, "id")].to_numpy(object) for k in set_keys]),
        snap_m=table["snap_m"].to_numpy(float) if first else None,
        snap_status=table["snap_status"].to_numpy(object) if first else None,
    )


def draw_network(inputs: BatchInputs, set_key: str | None) -> NetworkLayers:
    """The reached streets and the service circles of display set ``set_key`` (None:
    none of them), and the network's size, on the whole network (as stored, EPSG:4326)."""
    config = inputs.config
    layers = {"roads": _read(inputs, "roads")}
    shown = tuple(s for s in display_sets(config) if s.key == set_key)
    for layer in {s.layer for s in shown} & set(inputs.files):
        layers[layer] = _read(inputs, layer)
    graph = build_walk_graph(layers["roads"], inputs.metric_crs)
    sets = facility_access_points(layers, config, graph.crs)
    drawn = network_layers(graph, sets, inputs.params, shown)
    return replace(drawn, streets=whole_frame(drawn.streets))  # drawn here, not on the client
