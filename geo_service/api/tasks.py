"""The CPU-bound work the compute pool runs (:mod:`geo_service.api.compute`).

Each function takes the coverage context first (the worker's own, inherited by fork)
and small, picklable arguments; its answer is pickled back.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geo_service.analysis.circles import facility_circles
from geo_service.analysis.planning import SitingQuestion, site_facilities
from geo_service.analysis.whatif import what_if


def answer_what_if(context, added: gpd.GeoDataFrame, removed: list[str]) -> dict:
    """The what-if: ``added`` sites (metric CRS of the walks) and ``removed`` centre ids."""
    return what_if(context.whatif, added, removed)


def circles_of_points(context, points: np.ndarray) -> np.ndarray:
    """The service circles (polygons in the walks' metric CRS) reached from ``points``."""
    return facility_circles(context.graph, points, context.params)


def answer_siting(context, question: SitingQuestion, district, offer: dict) -> dict:
    """New sites for ``question`` within ``district`` (a polygon in metres, or None)."""
    return site_facilities(context.whatif, question, district=district, offer=offer)
