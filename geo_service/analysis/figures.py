"""Walking access of the demand, kept unrounded, and the coverage figures drawn from it
under any criterion (circles, speed, facilities), each with the criterion stated."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import geopandas as gpd
import pandas as pd

from geo_service.analysis.coverage import (
    access_points,
    column,
    compound_access,
    coverage_statistics,
)
from geo_service.analysis.demand import demand_points
from geo_service.analysis.facility_sets import NAME_COLUMNS, display_sets, life_circle_sets
from geo_service.analysis.network import WalkGraph
from geo_service.analysis.records import records
from geo_service.coverage_params import CoverageParams, circles_for
from geo_service.data.analysis_config import AnalysisConfig
from geo_service.errors import InvalidParameter

log = logging.getLogger(__name__)


@dataclass
class DemandAccess:
    """The unrounded walking access of every demand feature to every facility set, with
    what it was computed from (metric CRS). Figures under other criteria are drawn from it
    without walking again (:func:`figures_under`)."""

    demand: gpd.GeoDataFrame
    base: pd.DataFrame
    table: pd.DataFrame
    sets: dict[str, gpd.GeoDataFrame]
    area_keys: list[str]


def demand_access(
    metric: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    config: AnalysisConfig,
    graph: WalkGraph,
) -> DemandAccess:
    """Walking access of the demand layer (from its gates, else a point inside) to every
    display and life-circle facility set; ``metric`` holds the input layers present."""
    compounds = metric[config.demand_layer].reset_index(drop=True)
    gates = metric.get(config.gates_layer) if config.gates_layer else None
    points, owner = demand_points(compounds, gates, gate_key=config.gate_key)
    sets = facility_access_points(metric, config, compounds.crs)
    base, area_keys = demand_base(compounds, config)
    table = compound_access(graph, points, owner, len(compounds), sets, params, base=base)
    log.info(
        "access: %d demand features from %d points to %d facility sets",
        len(compounds),
        len(points),
        len(sets),
    )
    return DemandAccess(compounds, base, table, sets, area_keys)


def facility_access_points(
    metric: dict[str, gpd.GeoDataFrame], config: AnalysisConfig, crs
) -> dict[str, gpd.GeoDataFrame]:
    """The access points (:func:`access_points`) of every display and life-circle facility
    set, from the layers present in ``metric`` (metric CRS ``crs``); empty where missing."""
    empty_layer = gpd.GeoDataFrame({"id": []}, geometry=[], crs=crs)
    return {
        s.key: access_points(s.select(metric.get(s.layer, empty_layer)))
        for s in (*display_sets(config), *life_circle_sets(config))
    }


def demand_base(
    compounds: gpd.GeoDataFrame, config: AnalysisConfig
) -> tuple[pd.DataFrame, list[str]]:
    """The first columns of the access table (id, names, area keys, ``population``,
    households) and the area keys the demand has values of."""
    area_keys = [
        a.key for a in config.areas if a.key in compounds.columns and compounds[a.key].notna().any()
    ]
    extra = [c for c in ("households",) if c in compounds.columns]
    base = compounds[
        [
            "id",
            *(c for c in NAME_COLUMNS if c in compounds.columns),
            *area_keys,
            config.population,
            *extra,
        ]
    ].rename(columns={config.population: "population"})
    return base, area_keys


def criterion(params: CoverageParams, config: AnalysisConfig, set_key: str) -> dict:
    """The criterion of a figure: circles, speed, where measured and which facilities."""
    title = next((s.title for s in config.facility_sets if s.key == set_key), None)
    named = (
        {"zh": title.pick("zh"), "en": title.pick("en")}
        if title
        else {"zh": set_key, "en": set_key}
    )
    described = params.describe()
    return {
        **described,
        "facilities": set_key,
        "facilities_title": named,
        "rule_en": f"residents within each circle of the nearest {named['en']}, "
        + described["text_en"],
        "rule_zh": f"到最近{named['zh']}的居民覆盖，" + described["text_zh"],
    }


def figures_under(
    access: DemandAccess,
    params: CoverageParams,
    config: AnalysisConfig,
    *,
    set_key: str,
    by: str | None = None,
) -> dict:
    """Coverage figures of ``set_key`` under ``params`` (other circles or speed), from the
    access already walked: the district and, with ``by``, each area; with the criterion."""
    if set_key not in {s.key for s in config.facility_sets}:
        raise InvalidParameter(
            f"facilities must be one of {', '.join(s.key for s in config.facility_sets)}"
        )
    table = access.table.copy()
    metres = table[column(set_key, "m")].to_numpy(float)
    table[column(set_key, "min")] = params.minutes(metres)
    result = {
        "criterion": criterion(params, config, set_key),
        "district": records(coverage_statistics(table, set_key, params))[0],
    }
    if by is not None:
        if by not in access.area_keys:
            raise InvalidParameter(f"by must be one of {', '.join(access.area_keys) or '(none)'}")
        result["areas"] = records(coverage_statistics(table, set_key, params, by=by))
    return result


#: The walking speed of older residents used in the sensitivity table, m/s.
SLOW_WALKING_SPEED_MPS = 0.9
#: The short end of GB 50180-2018's 15-minute circle (800-1000 m).
SHORT_15_MINUTE_M = 800.0


def sensitivity(access: DemandAccess, params: CoverageParams, config: AnalysisConfig) -> list:
    """How the headline figures move: the 15-minute circle at 800 m instead of its
    setting, walking time at the set speed and at 0.9 m/s (older residents), and each
    facility set instead of the headline one. One row per variant, the first the headline."""
    distances = tuple(c.distance_m for c in params.circles)
    variants = [
        ("headline", "现行口径", "as published", params, config.headline_set),
        (
            "circle_15_800m",
            "15分钟生活圈取800米",
            "15-minute circle at 800 m",
            replace(params, circles=circles_for("distance", params.walking_speed_mps,
                                                (*distances[:2], SHORT_15_MINUTE_M))),
            config.headline_set,
        ),
        *(
            (
                f"time_{speed:g}",
                f"按步行时间，{speed:.2f}米/秒",
                f"walking time at {speed:.2f} m/s",
                replace(params, criterion="time", walking_speed_mps=speed,
                        circles=circles_for("time", speed)),
                config.headline_set,
            )
            for speed in (params.walking_speed_mps, SLOW_WALKING_SPEED_MPS)
        ),
        *(
            (f"set_{s.key}", s.title.pick("zh"), s.title.pick("en"), params, s.key)
            for s in config.facility_sets
            if s.key != config.headline_set
        ),
    ]  # fmt: skip
    rows = []
    for key, label_zh, label_en, variant, set_key in variants:
        figures = figures_under(access, variant, config, set_key=set_key)
        district = figures["district"]
        minutes = [c.minutes for c in variant.circles]
        rows.append(
            {
                "variant": key,
                "label_zh": label_zh,
                "label_en": label_en,
                "criterion": figures["criterion"],
                **{f"share_{m}": district[f"share_{m}"] for m in minutes},
                **{f"residents_{m}": district[f"residents_{m}"] for m in minutes},
            }
        )
    return rows
