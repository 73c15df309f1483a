"""Coverage by parts: the compounds split by an area (a district), each part with the
network and facilities within a margin around it, so that a part's walks equal the
whole network's walks wherever they are shorter than the margin.

Why a part's figures are exact: a walk of ``d`` metres never leaves the disc of radius
``d`` around its start. A part keeps its compounds, the facilities within
``margin + 2 × max snap`` of them and the roads within ``margin + 3 × max snap``: every
walk shorter than the margin, its two snapping legs and every kept facility's own
snapping stay inside. So a part's distance is never shorter than the whole network's,
and where it is shorter than the margin it is the same (:func:`resolved`). The others
are walked again with a margin that is known to be enough (:func:`next_margin`). All
metres, in the metric CRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.analysis.network import NODE_TOLERANCE_M, WalkGraph
from geo_service.data.analysis_config import AnalysisConfig

#: The side of the squares a district without areas is split by (metres).
DEFAULT_CELL_M = 7_000.0

#: A box (min x, min y, max x, max y), metres in the metric CRS.
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Part:
    """One part of a batch run: its name, its compounds' positions in the demand layer
    (in order), the box around them and the margin its walks are exact within (metres)."""

    name: str
    positions: np.ndarray
    box: Box
    margin_m: float

    def facility_box(self, max_snap_m: float) -> Box:
        """Where the part's facilities are taken from."""
        return grown(self.box, self.margin_m + 2 * max_snap_m)

    def road_box(self, max_snap_m: float) -> Box:
        """Where the part's roads are taken from."""
        return grown(self.box, self.margin_m + 3 * max_snap_m)


def grown(box: Box, by_m: float) -> Box:
    """``box`` grown by ``by_m`` metres on every side."""
    return (box[0] - by_m, box[1] - by_m, box[2] + by_m, box[3] + by_m)


def demand_row_boxes(
    demand: gpd.GeoDataFrame, gates: gpd.GeoDataFrame | None, config: AnalysisConfig
) -> np.ndarray:
    """Per compound, the box around its shape and its gates: ``(n, 4)`` metres."""
    boxes = shapely.bounds(demand.geometry.to_numpy())
    if gates is not None and len(gates):
        position = pd.Series(np.arange(len(demand)), index=demand["id"].to_numpy())
        known = gates[config.gate_key].isin(position.index).to_numpy()
        owner = position[gates[config.gate_key][known]].to_numpy()
        gate_boxes = shapely.bounds(gates.geometry.to_numpy()[known])
        np.fmin.at(boxes[:, 0], owner, gate_boxes[:, 0])
        np.fmin.at(boxes[:, 1], owner, gate_boxes[:, 1])
        np.fmax.at(boxes[:, 2], owner, gate_boxes[:, 2])
        np.fmax.at(boxes[:, 3], owner, gate_boxes[:, 3])
    empty = np.isnan(boxes).any(axis=1)
    if empty.any() and not empty.all():  # no shape, no gate: placed at the others' centre
        centre = (np.nanmin(boxes[:, :2], axis=0) + np.nanmax(boxes[:, 2:], axis=0)) / 2
        boxes[empty] = np.r_[centre, centre]
    return boxes


def box_of(row_boxes: np.ndarray, rows: np.ndarray) -> Box:
    """The box around the compounds at positions ``rows`` (see :func:`demand_row_boxes`)."""
    mine = row_boxes[rows]
    return (
        float(np.nanmin(mine[:, 0])),
        float(np.nanmin(mine[:, 1])),
        float(np.nanmax(mine[:, 2])),
        float(np.nanmax(mine[:, 3])),
    )


def parts_by(
    demand: gpd.GeoDataFrame,
    gates: gpd.GeoDataFrame | None,
    config: AnalysisConfig,
    key: str | None,
    margin_m: float,
    cell_m: float | None = None,
) -> list[Part]:
    """The demand layer split by the values of column ``key`` (compounds without one form
    a part of their own), each with the box around it and ``margin_m``. With ``cell_m``,
    the values whose boxes centre in the same ``cell_m`` square are one part: a part much
    smaller than its margin would read its neighbours' network many times over. With no
    ``key``, the compounds are split by those squares alone (default 7 km)."""
    row_boxes = demand_row_boxes(demand, gates, config)
    if key is None:  # no areas: each compound in the square its box centres in
        names = _cell_names(row_boxes, cell_m or DEFAULT_CELL_M)
        groups = {name: [name] for name in dict.fromkeys(names)}
    else:
        values = demand[key].astype(object).where(demand[key].notna(), None).to_numpy()
        names = pd.Series(values).fillna("(none)").astype(str).to_numpy()
        groups = {}
        for name in dict.fromkeys(names):
            box = np.array([box_of(row_boxes, np.flatnonzero(names == name))])
            group = _cell_names(box, cell_m)[0] if cell_m else name
            groups.setdefault(group, []).append(name)
    parts = []
    for group, members in groups.items():
        positions = np.flatnonzero(np.isin(names, members))
        name = members[0] if len(members) == 1 else f"{group} ({', '.join(members)})"
        parts.append(Part(name, positions, box_of(row_boxes, positions), margin_m))
    return parts


def _cell_names(boxes: np.ndarray, cell_m: float) -> np.ndarray:
    """The name of the ``cell_m`` square each box (``(n, 4)`` metres) centres in."""
    x = ((boxes[:, 0] + boxes[:, 2]) / 2 // cell_m).astype(int)
    y = ((boxes[:, 1] + boxes[:, 3]) / 2 // cell_m).astype(int)
    return np.array([f"cell {i},{j}" for i, j in zip(x, y, strict=True)], dtype=object)


def part_layers(
    metric: dict[str, gpd.GeoDataFrame],
    config: AnalysisConfig,
    part: Part,
    max_snap_m: float,
) -> dict[str, gpd.GeoDataFrame]:
    """The input layers of ``part`` (metric CRS): its compounds and their gates, the
    facility layers' features within its facility box, the roads within its road box
    (whole features, in their order), and no area layers (a part needs only the
    compounds' own columns)."""
    demand = metric[config.demand_layer].iloc[part.positions]
    roads = _within(metric["roads"], part.road_box(max_snap_m))
    layers = {config.demand_layer: demand, "roads": roads}
    if config.gates_layer and config.gates_layer in metric:
        gates = metric[config.gates_layer]
        layers[config.gates_layer] = gates[gates[config.gate_key].isin(demand["id"])]
    facility_box = part.facility_box(max_snap_m)
    for facility_set in config.facility_sets:
        if facility_set.layer in metric and facility_set.layer not in layers:
            layers[facility_set.layer] = _within(metric[facility_set.layer], facility_box)
    return layers


def _within(frame: gpd.GeoDataFrame, box: Box) -> gpd.GeoDataFrame:
    """The features of ``frame`` that meet ``box``, in their order."""
    return frame[shapely.intersects(frame.geometry.to_numpy(), shapely.box(*box))]


def exact(metres: np.ndarray, margin_m: float) -> np.ndarray:
    """Which of a part's walks (metres to the nearest facility; NaN or inf: none found)
    are exact: those shorter than the part's margin."""
    return np.nan_to_num(np.asarray(metres, dtype=float), nan=np.inf) < margin_m


def next_margin(metres: np.ndarray, margin_m: float) -> float:
    """A margin that makes a part's inexact walks (``metres``) exact: past the longest
    (a part's walk is never shorter than the whole network's), or four times
    ``margin_m`` where no facility was reached."""
    metres = np.asarray(metres, dtype=float)
    if not np.isfinite(metres).all():
        return 4 * margin_m
    return float(metres.max(initial=0.0)) + 1.0


def covers(box: Box, extent: Box) -> bool:
    """Whether ``box`` holds all of ``extent``."""
    return bool(box[0] <= extent[0] and box[1] <= extent[1]) and bool(
        box[2] >= extent[2] and box[3] >= extent[3]
    )


def _node_keys(xy: np.ndarray) -> np.ndarray:
    """Coordinates as the graph's node keys (1 mm cells), each pair one exact complex."""
    keys = np.round(np.asarray(xy, dtype=float).reshape(-1, 2) / NODE_TOLERANCE_M)
    return keys[:, 0] + 1j * keys[:, 1]


def main_road_rows(roads: gpd.GeoDataFrame, graph: WalkGraph) -> np.ndarray:
    """Per row of ``roads`` (metric CRS, the lines ``graph`` was built from): whether it
    lies on the graph's largest connected piece, the one every walk is on."""
    on_main = np.zeros(len(roads), dtype=bool)
    coordinates, row = shapely.get_coordinates(roads.geometry.to_numpy(), return_index=True)
    if not len(row):
        return on_main
    main = graph.nodes[graph.component == graph.main_component]
    hit = np.isin(_node_keys(coordinates), _node_keys(main))
    on_main[row[hit]] = True
    return on_main


def with_main_piece(graph: WalkGraph, roads: gpd.GeoDataFrame, on_main: np.ndarray) -> WalkGraph:
    """A part's ``graph`` whose main piece is the whole network's: the nodes of the rows
    of ``roads`` that ``on_main`` marks (:func:`main_road_rows` on the whole network),
    however the part's box cuts it. A part's own largest piece may be another one."""
    lines = roads.geometry.to_numpy()[np.asarray(on_main, dtype=bool)]
    main = np.isin(_node_keys(graph.nodes), _node_keys(shapely.get_coordinates(lines)))
    graph.component = np.where(main, 0, graph.component + 1)
    graph.main_component = 0
    return graph
