"""Map definitions: ``maps/<id>.yaml`` says which catalog layers a map page draws, in
which groups, with which colours, symbols and popup fields. Validated with pydantic."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from geo_service.data.catalog import Catalog, Text
from geo_service.data.yaml_text import load_yaml
from geo_service.errors import CatalogError, LayerNotFound

Colour = str
#: Marker shapes ``static/geo_service/layers.js`` draws (as SVG).
Shape = Literal["circle", "square", "diamond", "triangle", "star"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Classes(_Strict):
    """Colour (and for points, symbol and size) by the value of one property.

    ``breaks`` are ascending upper bounds: a value <= ``breaks[i]`` takes class ``i``, a
    larger one the last class. ``values`` match exactly. Give one or the other.
    """

    property: str
    breaks: tuple[float, ...] | None = None
    values: tuple[str | int | float, ...] | None = None
    colors: tuple[Colour, ...] = Field(min_length=1)
    labels: tuple[Text, ...] = Field(min_length=1)
    symbols: tuple[Shape, ...] | None = None
    sizes: tuple[float, ...] | None = None
    missing: Text | None = Field(default=None, description="Legend label for no value.")

    @model_validator(mode="after")
    def _check_lengths(self) -> Classes:
        if (self.breaks is None) == (self.values is None):
            raise ValueError("give either breaks or values")
        count = len(self.values) if self.values is not None else len(self.breaks) + 1
        for name in ("colors", "labels", "symbols", "sizes"):
            items = getattr(self, name)
            if items is not None and len(items) != count:
                raise ValueError(f"{name} needs {count} items, one per class, not {len(items)}")
        if self.breaks is not None and list(self.breaks) != sorted(self.breaks):
            raise ValueError("breaks must be ascending")
        return self


class MapLayer(_Strict):
    """One catalog layer on a map."""

    layer: str
    group: str
    visible: bool = True
    shown_when_empty: str | None = Field(
        default=None,
        description="A layer of the map this one stands in for: shown at start (and that "
        "one hidden) when it has no features (the reached streets, for a city whose "
        "circle polygons are not built).",
    )
    fill: bool = True
    interactive: bool = True
    cluster: bool = Field(default=False, description="Cluster point markers when zoomed out.")
    symbol: Shape | None = Field(default=None, description="Marker shape for points.")
    filter: dict[str, str | int | float] = Field(
        default_factory=dict, description="Only features whose properties equal these."
    )
    popup: tuple[str, ...] | None = Field(
        default=None, description="Properties in the popup (default: the catalog's titled ones)."
    )
    tooltip: str | None = Field(default="name_zh", description="Property shown on hover.")
    classes: Classes | None = None


class MapGroup(_Strict):
    """A heading in the layer control."""

    id: str
    title: Text


class MapDefinition(_Strict):
    """A map page: title, zoom range, layer groups and layers (drawn in order)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    max_zoom: int = Field(default=18, ge=1, le=22)
    min_zoom: int = Field(default=3, ge=0, le=22)
    groups: tuple[MapGroup, ...] = Field(min_length=1)
    layers: tuple[MapLayer, ...] = Field(min_length=1)
    tiles_above: int | None = Field(
        default=None,
        ge=0,
        description="Draw a layer from vector tiles when it holds more features than this "
        "(pages served by the API over WGS 84 basemaps; else all features load at once).",
    )
    vertices_above: int | None = Field(
        default=None,
        ge=0,
        description="Also draw a layer from vector tiles when its features hold more "
        "vertices than this in all (a city's dissolved service circles: few features, "
        "millions of vertices).",
    )
    features_per_tile: int = Field(
        default=2000,
        ge=1,
        description="A tiled layer draws from the zoom level at which its densest tile "
        "holds no more features than this; zoomed out further, the page asks to zoom in.",
    )

    @model_validator(mode="after")
    def _check_groups(self) -> MapDefinition:
        known = {group.id for group in self.groups}
        for entry in self.layers:
            if entry.group not in known:
                raise ValueError(f"layer {entry.layer!r}: unknown group {entry.group!r}")
        return self

    def check_against(self, catalog: Catalog) -> None:
        """Raise :class:`CatalogError` if a layer or property named here is not in the
        catalog."""
        for entry in self.layers:
            try:
                spec = catalog.get(entry.layer)
            except LayerNotFound:
                raise CatalogError(
                    f"map {self.id!r}: no layer {entry.layer!r} in the catalog"
                ) from None
            named = [*(entry.popup or ()), *entry.filter]
            if entry.tooltip is not None and entry.tooltip != "name_zh":
                named.append(entry.tooltip)  # the default is used only where it exists
            if entry.classes is not None:
                named.append(entry.classes.property)
            unknown = sorted(set(named) - set(spec.property_names))
            if unknown:
                raise CatalogError(
                    f"map {self.id!r}, layer {entry.layer!r}: no properties {', '.join(unknown)}"
                )


def load_map_definition(path: Path) -> MapDefinition:
    """Read and validate ``path``; :class:`CatalogError` names the file and the problem."""
    try:
        raw = load_yaml(Path(path).read_text(encoding="utf-8"))
        return MapDefinition.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read the map definition: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise CatalogError(f"{path}: {problems}") from None
