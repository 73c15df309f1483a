"""A layer handed to a store whole or in chunks.

A city's biggest derived layer (the reached streets: gigabytes of lines at ten times the
synthetic city) is made one facility set at a time. Handed over as an iterable of frames,
it is written as it is made: the PostGIS store copies each chunk into the new table and
drops it, so the run never holds the layer whole; the file store, which keeps its layers
in memory to serve them, joins the chunks first, and so does a batch run's client, which
gathers each set's streets from its workers. Every frame is EPSG:4326.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import geopandas as gpd
import pandas as pd

from geo_service.crs import STORAGE_CRS

#: A layer's rows: one frame, or chunks of it (made when iterated).
LayerRows = gpd.GeoDataFrame | Iterable[gpd.GeoDataFrame]


def stacked(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The rows of ``frames`` one after another; the first frame if none has rows, a
    frame with no columns if there is none."""
    full = [frame for frame in frames if len(frame)] or frames[:1]
    if not full:
        return gpd.GeoDataFrame(geometry=[], crs=STORAGE_CRS)
    return gpd.GeoDataFrame(pd.concat(full, ignore_index=True), crs=full[0].crs)


def whole_frame(rows: LayerRows) -> gpd.GeoDataFrame:
    """``rows`` as one frame (the chunks made and joined)."""
    if isinstance(rows, gpd.GeoDataFrame):
        return rows
    return stacked(list(rows))


def chunks_of(rows: LayerRows, max_rows: int) -> Iterator[gpd.GeoDataFrame]:
    """``rows`` in chunks of at most ``max_rows`` rows, made one at a time."""
    frames = [rows] if isinstance(rows, gpd.GeoDataFrame) else rows
    for frame in frames:
        for start in range(0, len(frame), max_rows):
            yield frame.iloc[start : start + max_rows]
        del frame  # released before the next chunk is made
