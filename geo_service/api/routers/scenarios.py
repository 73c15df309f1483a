"""``/scenarios``: named what-if scenarios, saved, listed, reopened and deleted.

Reading is open; saving and deleting take a staff (or restricted) API key unless the
district lets anyone (``GEO_SERVICE_SCENARIO_WRITERS=public``). Reopening a scenario
answers it again on the current data (the fast what-if, a few milliseconds).
"""

from __future__ import annotations

import geopandas as gpd
from fastapi import APIRouter, Depends, Request, Response

from geo_service.analysis.scenario import scenario_summary
from geo_service.api.deps import Caller, CallerDep
from geo_service.api.rate_limit import expensive
from geo_service.api.scenario_body import (
    SAVED_SCENARIO_SCHEMA,
    json_body,
    parse_json,
)
from geo_service.api.tasks import answer_what_if
from geo_service.crs import to_metric
from geo_service.data.scenario_change import change_document, parse_scenario
from geo_service.data.scenarios import ScenarioStore
from geo_service.errors import InvalidQuery, LayerNotFound, Unauthorized

router = APIRouter(prefix="/scenarios", tags=["scenarios"])


def _store(request: Request) -> ScenarioStore:
    return request.app.state.scenarios


def _context(request: Request):
    context = request.app.state.coverage
    if context is None:
        raise LayerNotFound("coverage is not available for this catalog")
    return context


def _check_writer(request: Request, caller: Caller) -> None:
    if request.app.state.settings.scenario_writers == "public" or caller.role != "public":
        return
    raise Unauthorized("saving or deleting a scenario needs a staff API key")


async def _answer(request: Request, change: dict) -> tuple[dict, gpd.GeoDataFrame, list[str]]:
    """The change checked and answered (off the event loop), and its sites and closures."""
    added, removed = parse_scenario(change)
    context = _context(request)
    answer = await request.app.state.compute.run(
        context, answer_what_if, to_metric(added, context.whatif.graph.crs), removed
    )
    return answer, added, removed


def _listed(record: dict, request: Request) -> dict:
    """A scenario as listed: no geometry, counts and its headline when saved."""
    return {
        "id": record["id"],
        "name": record["name"],
        "created": record["created"],
        "author": record["author"],
        "sites": len(record["add"]["features"]),
        "closures": len(record["remove"]),
        "summary": record["summary"],
        "links": [{"rel": "self", "href": str(request.url_for("scenario", key=record["id"]))}],
    }


@router.get("", summary="Saved what-if scenarios")
async def list_scenarios(request: Request) -> dict:
    """Every saved scenario, newest first, with its headline when it was saved."""
    return {"scenarios": [_listed(r, request) for r in _store(request).list()]}


@router.post(
    "",
    summary="Save a named what-if scenario",
    status_code=201,
    dependencies=[Depends(expensive)],
    openapi_extra=json_body(SAVED_SCENARIO_SCHEMA),
)
async def save_scenario(request: Request, caller: CallerDep) -> dict:
    """Post ``{"name": ..., "add": <FeatureCollection>, "remove": [ids]}``: the change is
    checked and answered, then saved under its name (a name already taken: 409)."""
    _check_writer(request, caller)
    document = parse_json(await request.body(), request.headers.get("content-type", ""))
    if not isinstance(document, dict):
        raise InvalidQuery("the body is a JSON object with 'name', 'add' and/or 'remove'")
    change = {k: v for k, v in document.items() if k != "name"}
    answer, added, removed = await _answer(request, change)
    record = _store(request).save(
        document.get("name"),
        change_document(added, removed),
        scenario_summary(answer, _context(request).params),
        author=caller.key_id or "public",
    )
    return {**record, "answer": answer}


@router.get("/{key}", name="scenario", summary="Reopen a saved scenario")
async def get_scenario(key: str, request: Request) -> dict:
    """The scenario (by id or name) with its answer computed again on the current data."""
    record = _store(request).find(key)
    answer, _, _ = await _answer(request, {"add": record["add"], "remove": record["remove"]})
    return {**record, "answer": answer}


@router.delete("/{key}", summary="Delete a saved scenario", status_code=204)
async def delete_scenario(key: str, request: Request, caller: CallerDep) -> Response:
    """Delete the scenario with id (or name) ``key``."""
    _check_writer(request, caller)
    _store(request).delete(key)
    return Response(status_code=204)
