"""Where residents start walking: one builder of demand points, used by the published
coverage figures and by what-if scenarios alike.

Demand features are polygons (compounds, blocks) or points (addresses, building entrances).
A feature with entrance points (gates) walks from each gate (the best one counts); a
polygon without gates walks from a representative point inside it; a point from itself.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd


def demand_points(
    demand: gpd.GeoDataFrame,
    gates: gpd.GeoDataFrame | None = None,
    *,
    id_column: str = "id",
    gate_key: str = "compound_id",
) -> tuple[np.ndarray, np.ndarray]:
    """The points walks start from and the row of ``demand`` each belongs to.

    Parameters
    ----------
    demand
        Demand features (any geometry), in the metric CRS; rows in analysis order.
    gates
        Entrance points with a ``gate_key`` column naming their demand feature's id, in the
        same CRS, or None. Gates of unknown features are ignored.

    Returns
    -------
    points, owner
        Shapely points, and for each the position (0-based row) of its demand feature.
        Every demand feature has at least one point.
    """
    position = pd.Series(np.arange(len(demand)), index=demand[id_column].to_numpy())
    if gates is not None and len(gates):
        gates = gates[gates[gate_key].isin(position.index)]
        gate_points = gates.geometry.to_numpy()
        gate_owner = position[gates[gate_key]].to_numpy()
    else:
        gate_points, gate_owner = np.array([], dtype=object), np.array([], dtype=int)
    without_gate = np.setdiff1d(np.arange(len(demand)), gate_owner)
    own_points = demand.geometry.representative_point().to_numpy()[without_gate]
    return (
        np.concatenate([gate_points, own_points]),
        np.concatenate([gate_owner, without_gate]).astype(int),
    )
