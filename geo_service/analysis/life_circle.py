"""The life-circle table of a district and what it finds: each type of service within its
own life circle (GB 50180-2018's levels), the share of residents reaching it there, and
the areas that lack it — with the rule stated."""

from __future__ import annotations

import pandas as pd

from geo_service.analysis.facility_sets import life_circle_requirements
from geo_service.analysis.figures import DemandAccess
from geo_service.analysis.statistics import life_circle_check
from geo_service.coverage_params import CoverageParams
from geo_service.data.analysis_config import AnalysisConfig


def lacks_rule(params: CoverageParams) -> dict:
    """When an area lacks a type, in words (zh/en) and as a number."""
    share = params.life_circle_min_share
    return {
        "min_share": share,
        "rule_zh": f"某类设施在其生活圈距离内可达的居民少于{share:.0%}，即为该区域缺项",
        "rule_en": f"an area lacks a type when fewer than {share:.0%} of its residents reach "
        "it within that type's life circle",
    }


def life_circle_rows(
    table: pd.DataFrame, finest: str | None, params: CoverageParams, config: AnalysisConfig
) -> list[dict]:
    """Each row of the table with, for the demand of ``table`` (an access table, or a
    part of it), the share of residents reaching the type within its circle (``share``)
    and, by areas of the ``finest`` level, how many areas lack it."""
    requirements = life_circle_requirements(config)
    types = [(r.key, params.circle_m(r.circle)) for r in requirements]
    whole = life_circle_check(table.assign(_all="all"), types, params, by="_all").iloc[0]
    by_area = life_circle_check(table, types, params, by=finest) if finest else None
    rows = []
    for r in requirements:
        row = r.describe(params) | {"share": float(whole[f"reach_{r.key}"])}
        if by_area is not None:
            lacking = by_area["lacks"].str.split(";").map(lambda keys, k=r.key: k in keys)
            row |= {"areas": len(by_area), "areas_lacking": int(lacking.sum())}
        rows.append(row)
    return rows


def life_circle_table(access: DemandAccess, params: CoverageParams, config: AnalysisConfig) -> dict:
    """The table (type → circle → distance under ``params`` → clause) with, per type, the
    district's share of residents reaching it within its circle (``share``) and, at the
    finest area level, how many areas lack it. Decided on the unrounded walks of
    ``access``."""
    finest = access.area_keys[0] if access.area_keys else None
    return {
        "criterion": params.describe(),
        "lacks": lacks_rule(params),
        "area_level": finest,
        "types": life_circle_rows(access.table, finest, params, config),
    }
