"""The tag mapping: which OpenStreetMap tags make which geo_service layer.

The default is ``osm_tags.yaml`` beside this module; :func:`load_tag_mapping` validates a
file (or dict) with pydantic and names the key at fault. The model also tells the district
profile which service ``levels`` and ``services`` an import can produce.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from geo_service.data.yaml_text import load_yaml
from geo_service.errors import ImportFailed

DEFAULT_TAGS = Path(__file__).with_name("osm_tags.yaml")
ANY = "*"

#: {key: allowed values}; a plain string is one value, "*" any value.
TagFilter = dict[str, list[str]]


def _tag_value(value: Any) -> Any:
    """YAML 1.1 reads ``yes``/``no`` as booleans and numbers as numbers: tag values are text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if isinstance(value, int | float) else value


def _tag_values(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_tag_value(v) for v in value]
    return [_tag_value(value)]


def _tag_filter(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _tag_values(v) for k, v in value.items()}
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Model):
    """Objects matching every key of ``match`` and no key of ``exclude``."""

    match: TagFilter = Field(min_length=1)
    exclude: TagFilter = Field(default_factory=dict)

    _filters = field_validator("match", "exclude", mode="before")(_tag_filter)

    @property
    def keys(self) -> set[str]:
        return set(self.match) | set(self.exclude)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of ``frame`` (one column per tag key, missing tags null) match."""
        hit = np.ones(len(frame), dtype=bool)
        for key, values in self.match.items():
            hit &= _tag_in(frame, key, values)
        for key, values in self.exclude.items():
            hit &= ~_tag_in(frame, key, values)
        return hit


def _tag_in(frame: pd.DataFrame, key: str, values: list[str]) -> np.ndarray:
    if key not in frame:
        return np.zeros(len(frame), dtype=bool)
    column = frame[key]
    if values == [ANY]:
        return column.notna().to_numpy()
    return column.isin(values).to_numpy()


class ServiceRule(Rule):
    """A service-centre rule: its objects serve ``services`` at ``level``."""

    level: str
    services: list[str] = Field(min_length=1)


class LandmarkRule(Rule):
    """A landmark rule: its named objects are places residents know, of ``kind``."""

    kind: str = Field(min_length=1)


class RoadRules(_Model):
    """Which ``highway=*`` ways pedestrians use; see ``osm_tags.yaml``."""

    walkable: list[str]
    walkable_if_foot_allowed: list[str] = Field(default_factory=list)
    walkable_if_sidewalk: list[str] = Field(default_factory=list)
    never: list[str] = Field(default_factory=list)
    foot_allowed: list[str]
    foot_forbidden: list[str]
    access_forbidden: list[str]

    _values = field_validator(
        "walkable",
        "walkable_if_foot_allowed",
        "walkable_if_sidewalk",
        "never",
        "foot_allowed",
        "foot_forbidden",
        "access_forbidden",
        mode="before",
    )(_tag_values)


class ParkRules(_Model):
    rules: list[Rule] = Field(min_length=1)
    max_area_m2: float | None = Field(default=None, gt=0)


class TrailRules(_Model):
    highway: list[str] = Field(default_factory=list)
    routes: list[str] = Field(default_factory=list)


class CompoundRules(_Model):
    """Residential buildings and the constants of the population estimate."""

    building_levels: dict[str, float] = Field(min_length=1)
    building_yes_levels: float = Field(gt=0)
    non_residential_keys: list[str] = Field(default_factory=list)
    landuse: list[str] = Field(min_length=1)
    persons_per_m2: float = Field(gt=0)
    landuse_floor_area_ratio: float = Field(gt=0)
    household_size: float | None = Field(default=None, gt=0)

    @field_validator("building_levels")
    @classmethod
    def _positive_levels(cls, value: dict[str, float]) -> dict[str, float]:
        for building, levels in value.items():
            if levels <= 0:
                raise ValueError(f"{building}: levels must be > 0, not {levels}")
        return value


class CommunityRules(_Model):
    admin_level: int | None = Field(default=None, ge=1, le=12)


class TagMapping(_Model):
    """A validated tag mapping (the shape of ``osm_tags.yaml``)."""

    levels: list[str] = Field(min_length=1)
    roads: RoadRules
    service_centres: list[ServiceRule] = Field(min_length=1)
    pocket_parks: ParkRules
    trails: TrailRules
    compounds: CompoundRules
    communities: CommunityRules = Field(default_factory=CommunityRules)
    landmarks: list[LandmarkRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_levels(self) -> TagMapping:
        for i, rule in enumerate(self.service_centres):
            if rule.level not in self.levels:
                raise ValueError(
                    f"service_centres.{i}.level: {rule.level!r} is not one of levels {self.levels}"
                )
        return self

    @cached_property
    def services(self) -> list[str]:
        """Every service key the service-centre rules can produce, in mapping order."""
        return list(dict.fromkeys(s for rule in self.service_centres for s in rule.services))

    @cached_property
    def landmark_kinds(self) -> list[str]:
        """Every landmark kind the rules can produce, in mapping order."""
        return list(dict.fromkeys(rule.kind for rule in self.landmarks))

    @cached_property
    def tag_keys(self) -> list[str]:
        """Every tag key the rules read (the reader turns each into a column)."""
        keys: set[str] = {"highway", "route"}
        for rule in [*self.service_centres, *self.pocket_parks.rules, *self.landmarks]:
            keys |= rule.keys
        return sorted(keys | set(self.compounds.non_residential_keys))

    @cached_property
    def area_keys(self) -> list[str]:
        """Keys whose closed ways are areas: the first key of every polygon rule."""
        rules = [*self.service_centres, *self.pocket_parks.rules, *self.landmarks]
        return sorted({next(iter(rule.match)) for rule in rules} | {"building", "landuse"})


def load_tag_mapping(source: Path | str | Mapping | TagMapping | None = None) -> TagMapping:
    """The tag mapping from a YAML file, a dict, or the shipped default (``None``).

    Raises :class:`~geo_service.errors.ImportFailed` naming the file and the key at fault.
    """
    if isinstance(source, TagMapping):
        return source
    if source is None:
        return _default_mapping()
    where = "tag mapping"
    if isinstance(source, str | Path):
        path = Path(source)
        where = str(path)
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ImportFailed(f"{where}: cannot read the tag mapping: {exc}") from exc
    else:
        data = dict(source)
    try:
        return TagMapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ImportFailed(f"{where}: {problems}") from exc


@cache
def _default_mapping() -> TagMapping:
    return load_tag_mapping(DEFAULT_TAGS)


def _problem(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    location = ".".join(str(part) for part in error["loc"])
    return f"{location}: {message}" if location else message
