"""What a coverage report holds, for the district, one of its areas (a sub-district or a
community) and optionally a saved scenario: one plain dict that the HTML/PDF and the
Excel workbook both render, so that they say the same thing.

Every figure is decided on the unrounded walks of the live coverage context (the same as
the API's); rounding is left to the renderers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from geo_service.analysis.capacity import Decay
from geo_service.analysis.figures import criterion, sensitivity
from geo_service.analysis.life_circle import lacks_rule, life_circle_rows
from geo_service.analysis.planning import capacity_scores, centre_capacity
from geo_service.analysis.records import records
from geo_service.analysis.statistics import coverage_statistics
from geo_service.analysis.whatif import what_if
from geo_service.crs import to_metric
from geo_service.data.scenario_change import parse_scenario
from geo_service.data.stores import LayerStore
from geo_service.errors import NotFound

#: The published layers a report lists rows of.
COMMUNITY_LAYER = "community_coverage"
GAP_LAYER = "coverage_gaps"


def _names(row: pd.Series | dict) -> dict:
    get = row.get
    zh, en, local = get("name_zh"), get("name_en"), get("name")
    return {"zh": zh or local or en or "", "en": en or local or zh or ""}


def find_area(context, store: LayerStore, area: str) -> dict:
    """The area with id ``area`` at any level: its level key, layer, names and geometry
    (EPSG:4326); 404 if no area has that id."""
    for level in context.profile.analysis.areas:
        if level.layer not in store.catalog or level.key not in context.access.area_keys:
            continue
        frame = store.query(level.layer)
        match = frame[frame["id"].astype(str) == area]
        if len(match):
            row = match.iloc[0]
            return {
                "id": area,
                "key": level.key,
                "layer": level.layer,
                "name": _names(row),
                "geometry": row.geometry,
            }
    raise NotFound(f"no area {area!r} (give a community or sub-district id)")


def _scoped(frame: pd.DataFrame, scope: dict | None) -> pd.DataFrame:
    if scope is None or scope["key"] not in frame.columns:
        return frame if scope is None else frame[frame["id"].astype(str) == scope["id"]]
    return frame[frame[scope["key"]].astype(str) == scope["id"]]


def _scenario(context, scenarios, key: str, scope: dict | None) -> dict:
    record = scenarios.find(key)
    added, removed = parse_scenario({"add": record["add"], "remove": record["remove"]})
    baseline = context.whatif
    answer = what_if(baseline, to_metric(added, baseline.graph.crs), removed)
    areas = answer["areas"]
    if scope is not None:
        areas = [a for a in areas if a["level"] != scope["key"] or a["id"] == scope["id"]]
    return {
        "id": record["id"],
        "name": record["name"],
        "created": record["created"],
        "sites": len(record["add"]["features"]),
        "closures": list(record["remove"]),
        "before": answer["before"]["district"],
        "after": answer["after"]["district"],
        "gain": {k: answer["gain"][k] for k in ("compounds", "residents")},
        "loss": {k: answer["loss"][k] for k in ("compounds", "residents")},
        "areas": areas,
        "types": answer["types"],
    }


def build_report(
    context,
    store: LayerStore,
    scenarios=None,
    *,
    area: str | None = None,
    scenario: str | None = None,
    now: datetime | None = None,
) -> dict:
    """The report of the district (``area=None``) or of one area, with a saved scenario's
    effect when ``scenario`` names one. Dates are in the district's time zone."""
    profile, params, config = context.profile, context.params, context.profile.analysis
    scope = find_area(context, store, area) if area else None
    table = _scoped(context.access.table, scope)
    if not len(table):
        raise NotFound(f"no demand features in area {area!r}")
    finest = context.access.area_keys[0] if context.access.area_keys else None
    headline = config.headline_set
    figures = records(coverage_statistics(table, headline, params))[0]
    communities = _scoped(store.query(COMMUNITY_LAYER), scope) if finest else pd.DataFrame()
    gaps = _scoped(store.query(GAP_LAYER), scope).sort_values("rank")
    moment = (now or datetime.now(ZoneInfo(profile.timezone))).astimezone(
        ZoneInfo(profile.timezone)
    )
    scope_access = replace(context.access, table=table)
    synthetic = any(spec.provenance.synthetic for spec in store.catalog)
    sources = sorted({s for spec in store.catalog for s in spec.provenance.sources})
    return {
        "title": {
            "zh": f"{profile.name.pick('zh')}{scope['name']['zh'] if scope else ''}步行覆盖报告",
            "en": f"Walking coverage: {scope['name']['en'] + ', ' if scope else ''}"
            f"{profile.name.pick('en')}",
        },
        "district": {"zh": profile.name.pick("zh"), "en": profile.name.pick("en")},
        "scope": None if scope is None else {k: scope[k] for k in ("id", "key", "layer", "name")},
        "date": moment.strftime("%Y-%m-%d %H:%M"),
        "timezone": profile.timezone,
        "criterion": criterion(params, config, headline),
        "figures": figures,
        "circles": [{"minutes": c.minutes, "distance_m": c.distance_m} for c in params.circles],
        "life_circle": {
            "lacks": lacks_rule(params),
            "types": life_circle_rows(table, finest, params, config),
        },
        "communities": [
            {
                "id": str(row["id"]),
                "name": _names(row),
                "residents": int(row["residents"]),
                **{f"share_{c.minutes}": float(row[f"share_{c.minutes}"]) for c in params.circles},
                "lacks": [k for k in str(row.get("lacks") or "").split(";") if k],
            }
            for _, row in communities.sort_values(f"share_{params.circles[-1].minutes}").iterrows()
        ],
        "gaps": {
            "rule": context.manifest["summary"]["gaps"],
            "compounds": len(gaps),
            "residents": int(gaps["population"].sum()),
            "rows": [
                {
                    "rank": int(row["rank"]),
                    "id": str(row["id"]),
                    "name": _names(row),
                    "residents": int(row["population"]),
                    "metres": None
                    if pd.isna(row[f"{config.gap_set}_m"])
                    else float(row[f"{config.gap_set}_m"]),
                }
                for _, row in gaps.iterrows()
            ],
        },
        "sensitivity": sensitivity(scope_access, params, config),
        "scenario": _scenario(context, scenarios, scenario, scope) if scenario else None,
        "capacity": _capacity(context, store, communities),
        "synthetic": synthetic,
        "sources": sources,
        "geometry": None if scope is None else scope["geometry"],
        "map_layers": {
            **({"communities": communities} if finest else {}),
            "gaps": gaps,
            "centres": _centres_near(store, scope, context),
        },
    }


def _centres_near(store: LayerStore, scope: dict | None, context):
    """The centres the report's map draws (EPSG:4326): all, or those near the scope."""
    centres = store.query(context.profile.analysis.centre_layer)
    if scope is not None and len(centres):
        outline = scope["geometry"]
        centres = centres[np.asarray(centres.geometry.intersects(outline.buffer(0.01)))]
    return centres


def _capacity(context, store: LayerStore, communities: pd.DataFrame) -> dict | None:
    """E2SFCA capacity per 1,000 residents of the report's communities, least served
    first, with the decay (None when the centres have no ``capacity``)."""
    supply = centre_capacity(store.query(context.profile.analysis.centre_layer))
    finest = context.access.area_keys[0] if context.access.area_keys else None
    if supply is None or finest is None or not len(communities):
        return None
    decay = Decay.for_circles(tuple(c.distance_m for c in context.params.circles))
    scores = capacity_scores(context.whatif, supply, decay)
    by_id = {row["id"]: row["score"] for row in scores["areas"].get(finest, [])}
    rows = [
        {
            "id": str(row["id"]),
            "name": _names(row),
            "residents": int(row["residents"]),
            "score": by_id.get(str(row["id"])),
        }
        for _, row in communities.iterrows()
    ]
    rows.sort(key=lambda r: (np.inf if r["score"] is None else r["score"], r["id"]))
    return {"decay": scores["decay"], "per_residents": scores["per_residents"], "rows": rows}
