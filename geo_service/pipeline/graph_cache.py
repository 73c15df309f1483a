"""The walking graph of the roads layer, cached in the derived folder (an ``.npz`` per roads
version and metric CRS), so a restart does not build it again."""

from __future__ import annotations

import hashlib
import logging

import numpy as np

from geo_service.analysis.network import WalkGraph, build_walk_graph
from geo_service.data.stores.base import LayerStore
from geo_service.settings import Settings

log = logging.getLogger(__name__)


def load_graph(store: LayerStore, settings: Settings, roads, crs: str) -> WalkGraph:
    """The walking graph of the roads layer in metric CRS ``crs``, from the cache (in the
    derived folder) when the roads are unchanged."""
    key = hashlib.sha256(store.version("roads").encode()).hexdigest()[:20]
    path = settings.derived_dir / f"graph-{key}-{crs.replace(':', '')}.npz"
    if path.is_file():
        with np.load(path) as cached:
            graph = WalkGraph(
                cached["nodes"],
                cached["edge_u"],
                cached["edge_v"],
                cached["edge_length"],
                crs=crs,
            )
        log.info("network: cached graph %s", path.name)
        return graph
    graph = build_walk_graph(roads, crs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        nodes=graph.nodes,
        edge_u=graph.edge_u,
        edge_v=graph.edge_v,
        edge_length=graph.edge_length,
    )
    tmp.replace(path)
    for old in path.parent.glob("graph-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)
    return graph
