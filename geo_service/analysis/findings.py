"""A plausibility finding: one thing about a layer a GIS person should look at.

:mod:`geo_service.analysis.plausibility` makes them; the ``validate`` command and the
import reports show them (``str(finding)``) or serialise them (:meth:`Finding.to_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class Finding:
    """One implausibility in a layer.

    ``check`` is one of ``outside_district``, ``swapped_axes``, ``datum_gcj02``,
    ``datum_bd09``, ``unsnapped``, ``isolated_network``, ``duplicate_ids``; ``severity``
    ``error``, ``warning`` or ``info``. ``count`` features of the ``total`` checked are
    concerned and ``ids`` lists all of them; ``measures`` holds the numbers behind the
    ``message`` (metres, shares, counts).
    """

    layer: str
    check: str
    severity: str
    count: int
    total: int
    ids: tuple[str, ...]
    message: str
    measures: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.severity}: {self.layer}: {self.message}"

    def to_dict(self) -> dict:
        """The finding as JSON-ready builtins."""
        return {**asdict(self), "ids": list(self.ids)}


def metres(value: float) -> str:
    """A distance in metres as text: "412 m", or "5.2 km" from 1 km on."""
    return f"{value / 1000:,.1f} km" if value >= 1000 else f"{value:,.0f} m"


def feature_ids(frame: gpd.GeoDataFrame, id_column: str) -> np.ndarray:
    """Each feature's id as text (the index if there is no such column; ``#n`` if null)."""
    values = frame[id_column] if id_column in frame.columns else pd.Series(frame.index)
    missing = values.isna().to_numpy()
    ids = values.astype(str).to_numpy(dtype=object)
    ids[missing] = [f"#{i}" for i in np.flatnonzero(missing)]
    return ids
