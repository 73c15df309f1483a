"""``/summary``: the article's figures beside the counts in the loaded data."""

from __future__ import annotations

from fastapi import APIRouter

from geo_service.api.deps import StoreDep
from geo_service.errors import LayerNotFound

router = APIRouter(tags=["summary"])

#: Article figure → layer whose feature count should match it.
FIGURE_LAYERS = {
    "community_party_organisations": "communities",
    "compound_party_branches": "compounds",
    "service_centres": "service_centres",
    "pocket_parks": "pocket_parks",
    "trails": "trails",
    "central_households": "central_households",
}


@router.get("/summary", summary="Organisation figures: article versus data")
def summary(store: StoreDep) -> dict:
    """The district's article figures and, where a layer holds them, the data's counts.

    Counts are totals only: no location of any restricted feature is disclosed.
    """
    try:
        district = store.query("district").iloc[0]
    except LayerNotFound:
        return {"district": None, "figures": []}
    figures = []
    for name in (
        "community_party_organisations",
        "compound_party_branches",
        "party_groups",
        "central_households",
        "alliances",
        "service_centres",
        "pocket_parks",
        "trails",
    ):
        layer = FIGURE_LAYERS.get(name)
        in_data = store.count(layer) if layer and layer in store.catalog else None
        if name == "party_groups" and "communities" in store.catalog:
            in_data = int(store.query("communities")["party_groups"].sum())
        figures.append({"figure": name, "article": int(district[name]), "data": in_data})
    return {
        "district": {
            "id": district["id"],
            "name_zh": district["name_zh"],
            "name_en": district["name_en"],
            "population": int(district["population"]),
            "land_area_km2": float(district["land_area_km2"]),
        },
        "figures": figures,
    }
