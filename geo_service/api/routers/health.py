"""``/healthz``: is the service up and its data loaded."""

from __future__ import annotations

from fastapi import APIRouter

from geo_service.api.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and data check")
async def healthz(store: StoreDep) -> dict:
    """``{"status": "ok"}`` with the number of layers loaded."""
    return {"status": "ok", "layers": len(store.catalog)}
