"""``/layers/{id}/versions`` and ``/layers/{id}/diff``: a layer's versions and what changed
between two, for staff (authors are API key ids: not for the public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from geo_service.api.deps import Caller, CallerDep, StoreDep, VisibleLayerDep
from geo_service.data.versions import changes_between, diff_document
from geo_service.errors import Unauthorized, VersionNotFound

router = APIRouter(prefix="/layers", tags=["versions"])


def _staff_only(caller: Caller) -> None:
    if caller.role == "public":
        raise Unauthorized("a layer's versions need a staff or restricted API key")


@router.get("/{layer_id}/versions", summary="A layer's versions")
def layer_versions(spec: VisibleLayerDep, store: StoreDep, caller: CallerDep) -> dict:
    """Every version of the layer, oldest first: number, time (UTC), author, source,
    features and what it added, changed and removed; the last is the current one."""
    _staff_only(caller)
    return {"layer": spec.id, "versions": [v.to_dict() for v in store.history(spec.id)]}


@router.get("/{layer_id}/diff", summary="What changed between two versions of a layer")
def layer_diff(
    spec: VisibleLayerDep,
    store: StoreDep,
    caller: CallerDep,
    old: Annotated[int, Query(alias="from", ge=1, description="The earlier version.")],
    new: Annotated[int, Query(alias="to", ge=1, description="The later version.")],
) -> dict:
    """Feature ids added and removed, and changed ones with the properties (or
    ``geometry``) that differ, from version ``from`` to version ``to``."""
    _staff_only(caller)
    versions = {v.number: v for v in store.history(spec.id)}
    for number in (old, new):
        if number not in versions:
            raise VersionNotFound(f"layer {spec.id!r} has no version {number}")
    changes = changes_between(
        spec, store.read_version(spec.id, old), store.read_version(spec.id, new)
    )
    return diff_document(spec, versions[old], versions[new], changes)
