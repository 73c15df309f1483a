"""Feature edits — create, replace, update (a JSON merge patch, RFC 7396) and delete one
feature — as new versions of a layer (OGC API – Features Part 4).

An edit is applied to the layer as read, and written with the version it was read at,
so two editors never overwrite each other: when another change landed in between, the
edit is applied again to the newer layer — unless the editor said which version of the
layer (or of the feature) it started from and that is no longer current (412).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from geo_service.crs import STORAGE_CRS
from geo_service.data.catalog import LayerSpec
from geo_service.data.stores.base import LayerStore
from geo_service.data.values import json_plain
from geo_service.data.versions import LayerVersion
from geo_service.errors import (
    Conflict,
    FeatureNotFound,
    InvalidParameter,
    PreconditionFailed,
)

EditKind = Literal["create", "replace", "update", "delete"]
#: Geometry types a layer of a multi type also takes (a Polygon for a MultiPolygon layer).
_PROMOTE = {
    "MultiPolygon": ("Polygon", shapely.MultiPolygon),
    "MultiLineString": ("LineString", shapely.MultiLineString),
    "MultiPoint": ("Point", shapely.MultiPoint),
}
#: How often an edit is applied again when other edits keep landing first.
ATTEMPTS = 5
#: Reprojects lon/lat arrays given in the request's CRS to CRS84 (None: already CRS84).
ToCRS84 = Callable[[np.ndarray], np.ndarray] | None


@dataclass(frozen=True)
class FeatureEdit:
    """One edit: ``body`` is the GeoJSON Feature (create, replace) or the merge patch
    (update), None for a delete; ``feature_id`` is None for a create (the id then comes
    from the body, or is made up)."""

    kind: EditKind
    feature_id: str | None = None
    body: dict[str, Any] | None = None
    to_crs84: ToCRS84 = None


@dataclass(frozen=True)
class EditResult:
    """What an edit made: the new version, the feature's id, and its row (None once
    deleted)."""

    record: LayerVersion
    feature_id: str
    feature: gpd.GeoDataFrame | None


def feature_etag(spec: LayerSpec, feature: gpd.GeoDataFrame) -> str:
    """A digest of one feature's properties and geometry: what ``If-Match`` names to
    edit that feature only if it is still as the editor saw it."""
    row = feature.iloc[0]
    properties = {name: None if _missing(row[name]) else row[name] for name in spec.property_names}
    text = json.dumps(properties, sort_keys=True, default=json_plain)
    geometry = row[feature.geometry.name]
    wkb = b"" if geometry is None else shapely.to_wkb(shapely.set_precision(geometry, 1e-7))
    return "f-" + hashlib.blake2b(text.encode() + wkb, digest_size=12).hexdigest()


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _typed(spec: LayerSpec, name: str, value: Any) -> Any:
    """``value`` of property ``name`` as its catalog type (None stays None)."""
    try:
        prop = spec.get_property(name)
    except KeyError:
        raise InvalidParameter(
            f"layer {spec.id!r} has no property {name!r}; it has {', '.join(spec.property_names)}"
        ) from None
    if value is None:
        return None
    kind = prop.type
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # a numeric id typed as a number
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind in ("integer", "number") and isinstance(value, (int, float)):
        if isinstance(value, bool) or not math.isfinite(value):
            raise InvalidParameter(f"{name}: {value!r} is not a {kind}")
        if kind == "integer":
            if value != int(value):
                raise InvalidParameter(f"{name}: {value!r} is not a whole number")
            return int(value)
        return float(value)
    raise InvalidParameter(f"{name}: {json.dumps(value)[:80]} is not a {kind}")


def _geometry(spec: LayerSpec, value: Any, to_crs84: ToCRS84) -> shapely.Geometry | None:
    """A GeoJSON geometry as a shapely geometry of the layer's type, in CRS84."""
    if value is None:
        return None
    try:
        geometry = shapely.geometry.shape(value)
    except Exception as exc:  # shapely raises several types for broken GeoJSON
        raise InvalidParameter(f"geometry: not a GeoJSON geometry ({exc})"[:300]) from None
    coordinates = shapely.get_coordinates(geometry)
    if not np.isfinite(coordinates).all():
        raise InvalidParameter("geometry: coordinates must be finite numbers")
    if to_crs84 is not None:
        geometry = shapely.transform(geometry, to_crs84)
    single, multi = _PROMOTE.get(spec.geometry_type, (None, None))
    if geometry.geom_type == single:
        geometry = multi([geometry])
    return shapely.force_2d(geometry)


def _new_row(
    spec: LayerSpec, body: dict[str, Any], feature_id: str | None, to_crs84: ToCRS84
) -> tuple[str, dict[str, Any]]:
    """(id, {property: value, "geometry": geometry}) of a GeoJSON Feature ``body``."""
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise InvalidParameter('the body must be a GeoJSON Feature ({"type": "Feature", ...})')
    properties = body.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidParameter("properties must be an object")
    values = {name: _typed(spec, name, value) for name, value in properties.items()}
    given = {str(v) for v in (body.get("id"), values.get(spec.id_property)) if v is not None}
    if len(given) > 1 or (feature_id is not None and given - {feature_id}):
        raise InvalidParameter(
            f"the feature's id ({', '.join(sorted(given))}) is not the one in the URL "
            f"({feature_id}); an id cannot be changed"
            if feature_id is not None
            else f"the feature names two ids: {', '.join(sorted(given))}"
        )
    fid = feature_id or (given.pop() if given else f"{spec.id}-{secrets.token_hex(4)}")
    values[spec.id_property] = fid
    values["geometry"] = _geometry(spec, body.get("geometry"), to_crs84)
    return fid, values


def _merged(spec: LayerSpec, row: pd.Series, patch: Any, to_crs84: ToCRS84) -> dict[str, Any]:
    """The feature ``row`` with the JSON merge patch ``patch`` applied."""
    if not isinstance(patch, dict):
        raise InvalidParameter("a merge patch is a JSON object")
    values = {name: row[name] for name in spec.property_names}
    values["geometry"] = row["geometry"]
    changes = patch.get("properties", {})
    if changes is None or not isinstance(changes, dict):
        raise InvalidParameter("properties must be an object of the values to change")
    for name, value in changes.items():
        values[name] = _typed(spec, name, value)
    if str(values[spec.id_property]) != str(row[spec.id_property]):
        raise InvalidParameter("an id cannot be changed; delete and create instead")
    if "geometry" in patch:
        values["geometry"] = _geometry(spec, patch["geometry"], to_crs84)
    return values


def apply_edit(
    spec: LayerSpec, layer: gpd.GeoDataFrame, edit: FeatureEdit
) -> tuple[gpd.GeoDataFrame, str]:
    """The layer (EPSG:4326, indexed by id) after ``edit``, and the id of the feature.

    Raises
    ------
    InvalidParameter
        The body is not a feature (or a merge patch), names unknown properties, values of
        the wrong type or another id.
    Conflict
        A create names an id the layer has.
    FeatureNotFound
        A replace, update or delete names an id it has not.
    """
    ids = layer[spec.id_property].astype(str)
    if edit.kind == "create":
        fid, values = _new_row(spec, edit.body, None, edit.to_crs84)
        if (ids == fid).any():
            raise Conflict(f"layer {spec.id!r} has a feature {fid!r}; PUT to replace it")
        return _with_row(spec, layer, None, fid, values), fid
    fid = str(edit.feature_id)
    where = np.flatnonzero(ids.to_numpy() == fid)
    if not len(where):
        raise FeatureNotFound(f"no feature {fid!r} in layer {spec.id!r}")
    position = int(where[0])
    if edit.kind == "delete":
        return layer.drop(index=layer.index[position]), fid
    if edit.kind == "replace":
        _, values = _new_row(spec, edit.body, fid, edit.to_crs84)
    else:
        values = _merged(spec, layer.iloc[position], edit.body, edit.to_crs84)
    return _with_row(spec, layer, position, fid, values), fid


def _with_row(
    spec: LayerSpec,
    layer: gpd.GeoDataFrame,
    position: int | None,
    fid: str,
    values: dict[str, Any],
) -> gpd.GeoDataFrame:
    """``layer`` with the row at ``position`` replaced by ``values`` (appended: None)."""
    row = gpd.GeoDataFrame(
        {name: [values.get(name)] for name in spec.property_names},
        geometry=[values["geometry"]],
        crs=STORAGE_CRS,
        index=[fid],
    )
    row = row.rename_geometry(layer.geometry.name) if layer.geometry.name != "geometry" else row
    if position is None:
        return pd.concat([layer, row[layer.columns]])
    return pd.concat([layer.iloc[:position], row[layer.columns], layer.iloc[position + 1 :]])


def edit_feature(
    store: LayerStore,
    spec: LayerSpec,
    edit: FeatureEdit,
    *,
    author: str,
    if_match: str | None = None,
) -> EditResult:
    """Apply ``edit`` to layer ``spec`` in ``store`` as a new version by ``author``.

    ``if_match`` (a strong ETag's value) is the version of the layer, or of the feature
    (:func:`feature_etag`), the editor started from; if it is no longer current nothing
    is written (:class:`PreconditionFailed`). Without it, or naming the feature, an edit
    that meets a concurrent change of the layer is applied again to the newer layer.
    """
    with _editing(spec.id):
        return _edit_in_turn(store, spec, edit, author=author, if_match=if_match)


def _edit_in_turn(
    store: LayerStore, spec: LayerSpec, edit: FeatureEdit, *, author: str, if_match: str | None
) -> EditResult:
    for attempt in range(ATTEMPTS):
        if attempt:  # another process wrote first: let it finish, then apply again
            time.sleep(random.uniform(0.0, 0.05 * attempt))
        version = store.version(spec.id)
        stale = if_match is not None and if_match != version
        if stale and (edit.kind == "create" or if_match != _current_etag(store, spec, edit)):
            raise PreconditionFailed(
                f"If-Match names {if_match!r}, not the current version of layer "
                f"{spec.id!r} or of feature {edit.feature_id!r}; read it again"
            )
        layer = store.query(spec.id)
        edited, fid = apply_edit(spec, layer, edit)
        try:
            written = store.write(
                spec.id,
                edited,
                description=f"{edit.kind} {fid}",
                author=author,
                source=f"{edit.kind} feature {fid}",
                expected_version=version,
                whole_layer=False,
            )
        except PreconditionFailed:
            if if_match == version:  # the editor named the layer's version: it is gone
                raise
            continue
        record = next(v for v in reversed(store.history(spec.id)) if v.version == written)
        feature = None if edit.kind == "delete" else edited.loc[[fid]]
        return EditResult(record, fid, feature)
    raise PreconditionFailed(
        f"layer {spec.id!r} kept changing while this edit was applied; try again"
    )


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _editing(layer_id: str) -> threading.Lock:
    """The lock editors of ``layer_id`` in this process take turns on (read, apply,
    write), so they never make each other start again; other processes are met by the
    store's version check."""
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(layer_id, threading.Lock())


def _current_etag(store: LayerStore, spec: LayerSpec, edit: FeatureEdit) -> str | None:
    try:
        return feature_etag(spec, store.feature(spec.id, str(edit.feature_id)))
    except FeatureNotFound:
        return None
