"""FastAPI dependencies: settings, store, catalog and the layers a caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from geo_service.data.catalog import Catalog, LayerSpec
from geo_service.data.stores import LayerStore
from geo_service.errors import LayerNotFound
from geo_service.settings import Settings


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


async def get_store(request: Request) -> LayerStore:
    """The store the app was created with."""
    return request.app.state.store


async def get_catalog(store: Annotated[LayerStore, Depends(get_store)]) -> Catalog:
    """The layer catalog."""
    return store.catalog


async def visible_layers(catalog: Annotated[Catalog, Depends(get_catalog)]) -> list[LayerSpec]:
    """Layers this caller may see. Until access control lands: public layers only."""
    return catalog.visible("public")


def find_visible(layer_id: str, layers: list[LayerSpec]) -> LayerSpec:
    """The layer ``layer_id`` among ``layers``; the same 404 as a missing layer otherwise
    (no existence leak)."""
    for layer in layers:
        if layer.id == layer_id:
            return layer
    raise LayerNotFound(f"no layer {layer_id!r}")


async def visible_layer(
    layer_id: Annotated[str, Path(description="Layer id from the catalog.")],
    layers: Annotated[list[LayerSpec], Depends(visible_layers)],
) -> LayerSpec:
    """The layer ``layer_id`` if the caller may see it; 404 otherwise."""
    return find_visible(layer_id, layers)


async def visible_collection(
    collection_id: Annotated[str, Path(alias="collectionId", description="Collection id.")],
    layers: Annotated[list[LayerSpec], Depends(visible_layers)],
) -> LayerSpec:
    """The collection ``collectionId`` if the caller may see it; 404 otherwise."""
    return find_visible(collection_id, layers)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[LayerStore, Depends(get_store)]
VisibleLayersDep = Annotated[list[LayerSpec], Depends(visible_layers)]
VisibleLayerDep = Annotated[LayerSpec, Depends(visible_layer)]
CollectionDep = Annotated[LayerSpec, Depends(visible_collection)]
