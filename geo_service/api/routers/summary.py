"""``/summary``: the district profile's headline figures beside the counts in the data."""

from __future__ import annotations

from fastapi import APIRouter, Request

from geo_service.api.deps import CallerDep, ProfileDep, StoreDep, audit
from geo_service.errors import LayerNotFound

router = APIRouter(tags=["summary"])


@router.get("/summary", summary="The district's headline figures versus the data")
def summary(store: StoreDep, profile: ProfileDep) -> dict:
    """The district profile's published figures and, where a layer holds them, the data's
    counts (or sums). A district without published figures gets an empty list.

    Counts are totals only: no location of any restricted feature is disclosed.
    """
    figures = []
    for figure in profile.figures:
        in_data = None
        if figure.layer is not None and figure.layer in store.catalog:
            if figure.sum_of is None:
                in_data = store.count(figure.layer)
            else:
                values = store.query(figure.layer).get(figure.sum_of)
                in_data = None if values is None else float(values.sum())
                if in_data is not None and in_data.is_integer():
                    in_data = int(in_data)
        published = int(figure.value) if float(figure.value).is_integer() else figure.value
        figures.append(
            {
                "figure": figure.key,
                "title_zh": figure.title.pick("zh"),
                "title_en": figure.title.pick("en"),
                "published": published,
                "source": figure.source,
                "layer": figure.layer,
                "data": in_data,
            }
        )
    return {
        "district": {
            "id": profile.id,
            "name_zh": profile.name.pick("zh"),
            "name_en": profile.name.pick("en"),
            "name": profile.name.pick("local"),
            "synthetic": profile.synthetic,
        },
        "figures": figures,
    }


#: Counts below this are shown to the public as "<3" (a household could be identified).
SMALL_COUNT = 3


@router.get("/summary/households", summary="Party-member central households per community")
def household_counts(store: StoreDep, caller: CallerDep, request: Request) -> dict:
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
