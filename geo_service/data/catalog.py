"""The layer catalog: one YAML file per layer in ``layers/``, validated with pydantic on load.

A broken entry stops loading with one :class:`~geo_service.errors.CatalogError` that names
the file and the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from geo_service.data.yaml_text import load_yaml
from geo_service.errors import CatalogError, LayerNotFound

Access = Literal["public", "internal", "restricted"]
GeometryType = Literal[
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"
]
PropertyType = Literal["string", "integer", "number", "boolean"]

#: Access levels each role may see, from least to most privileged.
ACCESS_ORDER: tuple[Access, ...] = ("public", "internal", "restricted")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A text in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class PropertySpec(_Strict):
    """One attribute of a layer's features."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: PropertyType
    description: Text
    required: bool = False
    unique: bool = False
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] | None = Field(
        default=None, description="Allowed values; with list_separator, allowed items."
    )
    list_separator: str | None = Field(
        default=None, description="The value is a list of items joined by this separator."
    )
    format: Literal["opening_hours"] | None = Field(
        default=None, description="opening_hours: OpenStreetMap opening_hours syntax."
    )
    title: Text | None = Field(default=None, description="Short label for popups and tables.")


class StyleSpec(_Strict):
    """Default map style (Leaflet path options and a marker icon)."""

    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    fill_color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    fill_opacity: float = Field(default=0.3, ge=0, le=1)
    line_width: float = Field(default=1.5, ge=0)
    icon: str | None = None
    radius: float | None = Field(default=None, gt=0, description="Circle marker radius, px.")


class Provenance(_Strict):
    """Where the data comes from."""

    synthetic: bool
    method: str = Field(min_length=10, description="How the data was made, in a sentence.")
    sources: tuple[str, ...] = ()


class LayerSpec(_Strict):
    """A catalog entry: everything the service knows about a layer besides its features."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    description: Text
    geometry_type: GeometryType
    access: Access
    source: str = Field(
        pattern=r"^[A-Za-z0-9_-]+\.geojson$",
        description="File name inside the data folder (no folders, no '..').",
    )
    id_property: str = "id"
    properties: tuple[PropertySpec, ...]
    style: StyleSpec
    provenance: Provenance
    licence: str = Field(min_length=2)
    keywords: tuple[str, ...] = Field(min_length=1)
    group: str = Field(default="base", description="Map layer group.")
    expected_count: int | None = Field(default=None, ge=0)
    derived: bool = Field(
        default=False, description="Computed by geo-service (coverage); kept in the derived folder."
    )
    edit_roles: tuple[Literal["staff", "restricted"], ...] | None = Field(
        default=None,
        description="Roles whose API keys may change the layer (uploads, edits); default the "
        "roles that may read it. A derived layer is never edited.",
    )

    @model_validator(mode="after")
    def _check_properties(self) -> LayerSpec:
        names = [p.name for p in self.properties]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate property names: {', '.join(duplicates)}")
        if self.id_property not in names:
            raise ValueError(f"id_property {self.id_property!r} is not one of the properties")
        return self

    def get_property(self, name: str) -> PropertySpec:
        """The property called ``name`` (``KeyError`` if there is none)."""
        for prop in self.properties:
            if prop.name == name:
                return prop
        raise KeyError(name)

    def may_edit(self, role: str) -> bool:
        """Whether a caller of ``role`` may change this layer's features."""
        if self.derived or role == "public":
            return False
        if self.edit_roles is not None:
            return role in self.edit_roles
        return self.access != "restricted" or role == "restricted"

    @property
    def property_names(self) -> list[str]:
        """Property names in catalog order."""
        return [p.name for p in self.properties]


class Catalog:
    """The loaded layer catalog, in file-name order."""

    def __init__(self, layers: list[LayerSpec], folder: Path | None = None):
        self.folder = folder
        self._layers = {layer.id: layer for layer in layers}

    def __iter__(self) -> Iterator[LayerSpec]:
        return iter(self._layers.values())

    def __len__(self) -> int:
        return len(self._layers)

    def __contains__(self, layer_id: object) -> bool:
        return layer_id in self._layers

    def get(self, layer_id: str) -> LayerSpec:
        """The layer ``layer_id``; :class:`LayerNotFound` if there is none."""
        try:
            return self._layers[layer_id]
        except KeyError:
            raise LayerNotFound(f"no layer {layer_id!r}") from None

    def visible(self, access: Access = "public") -> list[LayerSpec]:
        """Layers a caller cleared for ``access`` may see."""
        allowed = ACCESS_ORDER[: ACCESS_ORDER.index(access) + 1]
        return [layer for layer in self if layer.access in allowed]


def _field_path(loc: tuple) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def load_layer_spec(path: Path) -> LayerSpec:
    """Read and validate one catalog file; :class:`CatalogError` names file and field."""
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a mapping of fields, got {type(raw).__name__}")
    try:
        spec = LayerSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{_field_path(err['loc'])}': {err['msg']}" for err in exc.errors()
        )
        raise CatalogError(f"{path}: {problems}") from None
    if spec.id != path.stem:
        raise CatalogError(
            f"{path}: field 'id': {spec.id!r} must match the file name {path.stem!r}"
        )
    return spec


def load_catalog(folder: Path) -> Catalog:
    """Load every ``*.yaml`` file in ``folder`` as a :class:`LayerSpec`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CatalogError(f"{folder}: catalog folder does not exist")
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise CatalogError(f"{folder}: no layer files (*.yaml) in the catalog folder")
    return Catalog([load_layer_spec(path) for path in files], folder=folder)
