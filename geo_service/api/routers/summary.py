"""``/summary``: the article's figures beside the counts in the loaded data."""

from __future__ import annotations

from fastapi import APIRouter, Request

from geo_service.api.deps import CallerDep, StoreDep, audit
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
async def summary(store: StoreDep) -> dict:
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


#: Counts below this are shown to the public as "<3" (a household could be identified).
SMALL_COUNT = 3


@router.get("/summary/households", summary="Party-member central households per community")
async def household_counts(store: StoreDep, caller: CallerDep, request: Request) -> dict:
    """How many central households each community has. The public sees counts below 3 as
    "<3"; only a caller cleared for restricted data sees exact numbers. No locations."""
    if "central_households" not in store.catalog or "communities" not in store.catalog:
        raise LayerNotFound("no household data in this catalog")
    homes = store.query("central_households")
    communities = store.query("communities")
    counts = homes.groupby("community_id").size().reindex(communities["id"], fill_value=0)
    exact = caller.access == "restricted"
    if exact:
        audit(request, caller, store.catalog.get("central_households"), len(homes))
    rows = [
        {
            "community_id": cid,
            "name_zh": zh,
            "name_en": en,
            "households": int(n) if exact or n >= SMALL_COUNT else f"<{SMALL_COUNT}",
        }
        for cid, zh, en, n in zip(
            communities["id"], communities["name_zh"], communities["name_en"], counts, strict=True
        )
    ]
    return {"total": len(homes), "exact": exact, "communities": rows}
