"""FastAPI dependencies: settings, store, catalog, the caller and the layers it may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from geo_service.data.catalog import Catalog, LayerSpec
from geo_service.data.keys import ROLE_ACCESS
from geo_service.data.profile import DistrictProfile
from geo_service.data.stores import LayerStore
from geo_service.data.versions import LayerVersion
from geo_service.errors import Forbidden, InvalidQuery, LayerNotFound, Unauthorized
from geo_service.settings import Settings


@dataclass(frozen=True)
class Caller:
    """Who is asking: ``public`` (no key), ``staff`` or ``restricted``, and the key id."""

    role: str = "public"
    key_id: str | None = None

    @property
    def access(self) -> str:
        """The most private access level this caller may see."""
        return ROLE_ACCESS[self.role]


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


async def get_profile(request: Request) -> DistrictProfile:
    """The district profile the app was created with."""
    return request.app.state.profile


async def get_store(request: Request) -> LayerStore:
    """The store the app was created with."""
    return request.app.state.store


async def get_catalog(store: Annotated[LayerStore, Depends(get_store)]) -> Catalog:
    """The layer catalog."""
    return store.catalog


def _credentials(request: Request) -> str | None:
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
        return token.strip()
    return request.headers.get("x-api-key")


async def get_caller(request: Request) -> Caller:
    """The caller behind the request's API key (``public`` without one). An unknown,
    revoked or expired key is refused (401), not treated as public."""
    key = _credentials(request)
    if key is None:
        return Caller()
    record = request.app.state.keys.check(key)
    if record is None:
        raise Unauthorized("the API key is unknown, revoked or expired")
    return Caller(record.role, record.id)


async def visible_layers(
    catalog: Annotated[Catalog, Depends(get_catalog)],
    caller: Annotated[Caller, Depends(get_caller)],
) -> list[LayerSpec]:
    """Layers this caller may see."""
    return catalog.visible(caller.access)


def find_visible(
    layer_id: str, layers: list[LayerSpec], catalog: Catalog, caller: Caller
) -> LayerSpec:
    """The layer ``layer_id`` if the caller may see it. The public gets the same 404 for a
    layer it may not see as for a missing one; a caller with a key gets 403."""
    for layer in layers:
        if layer.id == layer_id:
            return layer
    if caller.role != "public" and layer_id in catalog:
        raise Forbidden(f"your role ({caller.role}) may not read layer {layer_id!r}")
    raise LayerNotFound(f"no layer {layer_id!r}")


async def visible_layer(
    layer_id: Annotated[str, Path(description="Layer id from the catalog.")],
    caller: Annotated[Caller, Depends(get_caller)],
    request: Request,
) -> LayerSpec:
    """The layer ``layer_id`` if the caller may see it (see :func:`find_visible`)."""
    catalog = request.app.state.store.catalog
    return find_visible(layer_id, catalog.visible(caller.access), catalog, caller)


async def visible_collection(
    collection_id: Annotated[str, Path(alias="collectionId", description="Collection id.")],
    caller: Annotated[Caller, Depends(get_caller)],
    request: Request,
) -> LayerSpec:
    """The collection ``collectionId`` if the caller may see it (a flat dependency: items
    pages resolve it on every request)."""
    catalog = request.app.state.store.catalog
    return find_visible(collection_id, catalog.visible(caller.access), catalog, caller)


#: Routes that take property names as query parameters and check their query themselves.
OPEN_QUERY_ROUTES = frozenset(
    {
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        "/downloads/{layer_id}.{fmt}",
    }
)


def _query_names(dependant) -> set[str]:
    """Query parameter names a route's dependency tree declares."""
    names = {param.alias for param in dependant.query_params}
    for child in dependant.dependencies:
        names |= _query_names(child)
    return names


async def reject_unknown_parameters(request: Request) -> None:
    """Refuse (400) query parameters a route does not declare, instead of ignoring them."""
    route = request.scope.get("route")
    if route is None or getattr(route, "path", None) in OPEN_QUERY_ROUTES:
        return
    declared = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        raise InvalidQuery(
            f"unknown parameter(s): {', '.join(unknown)[:200]}; this route takes "
            f"{', '.join(sorted(declared)) or 'none'}"
        )


def audit(request: Request, caller: Caller, spec: LayerSpec, features: int) -> None:
    """Record a read of a restricted layer in the audit log."""
    if spec.access == "restricted":
        request.app.state.audit.record(
            key_id=caller.key_id,
            role=caller.role,
            layer=spec.id,
            path=request.url.path,
            features=features,
        )


def editor(spec: LayerSpec, caller: Caller) -> str:
    """The author a change by ``caller`` is recorded under (``key:ID``), if the caller's
    role may edit layer ``spec``; else :class:`Unauthorized` (no key) or
    :class:`Forbidden`."""
    if caller.role == "public":
        raise Unauthorized("changing a layer needs a staff API key")
    if not spec.may_edit(caller.role):
        raise Forbidden(f"your role ({caller.role}) may not change layer {spec.id!r}")
    return f"key:{caller.key_id}"


def record_write(
    request: Request, caller: Caller, spec: LayerSpec, record: LayerVersion, *, action: str
) -> None:
    """After a change of a layer (the version ``record`` it made): write it in the audit
    log, and have coverage recomputed if it depends on the layer."""
    request.app.state.audit.record_change(
        spec.id,
        record,
        action=action,
        path=request.url.path,
        key_id=caller.key_id,
        role=caller.role,
    )
    request.app.state.refresh.changed(spec.id)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ProfileDep = Annotated[DistrictProfile, Depends(get_profile)]
StoreDep = Annotated[LayerStore, Depends(get_store)]
CallerDep = Annotated[Caller, Depends(get_caller)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
VisibleLayersDep = Annotated[list[LayerSpec], Depends(visible_layers)]
VisibleLayerDep = Annotated[LayerSpec, Depends(visible_layer)]
CollectionDep = Annotated[LayerSpec, Depends(visible_collection)]
