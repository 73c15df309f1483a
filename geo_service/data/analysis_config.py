"""The analysis configuration of a district: which layers hold demand and facilities, the
facility levels and services vocabulary, the facility sets measured, which set gives the
headline coverage and which defines a gap. Part of the district profile (``analysis:``).

Validated with pydantic; the analysis reads it instead of constants, so a district with
other facility kinds, or without parks, trails, gates or statistical areas, needs no code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    """A label in Chinese and/or English (at least one)."""

    zh: str | None = None
    en: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Label:
        if not (self.zh or self.en):
            raise ValueError("give at least one of zh, en")
        return self

    def pick(self, language: str) -> str:
        """The label in ``language``, else the other one."""
        return (self.zh if language == "zh" else self.en) or self.en or self.zh or ""


class Term(_Strict):
    """A value of a vocabulary (a facility level, a service) and its label."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Label


class FacilitySetConfig(_Strict):
    """Facilities of one kind: a layer, optionally only rows with given property values or
    offering one service."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Label
    layer: str
    where: dict[str, str] = {}
    service: str | None = None


class AreaLevel(_Strict):
    """A level of statistical areas: the layer of polygons and the demand layer's column
    that names the area each demand feature lies in."""

    layer: str
    key: str


class LifeCircleType(_Strict):
    """One row of the life-circle table: a type of service, the life circle (5, 10 or 15
    minutes) within whose distance the residents should reach it, and the clause it
    follows. ``type`` is ``svc_<service>`` (a service of the centres) or a facility-set
    key; ``centre_levels`` (services only) are the centre levels that provide it at that
    circle — a centre of a higher level does not stand in for a lower one."""

    type: str
    circle: Literal[5, 10, 15]
    centre_levels: tuple[str, ...] = ()
    basis: Label = Field(description="The clause or the district's decision it follows.")


_DEFAULT_SETS = (
    FacilitySetConfig(
        key="centre", title=Label(zh="服务中心", en="Service centre"), layer="service_centres"
    ),
    FacilitySetConfig(key="park", title=Label(zh="公园", en="Park"), layer="pocket_parks"),
    FacilitySetConfig(key="trail", title=Label(zh="步道", en="Trail"), layer="trails"),
)


class AnalysisConfig(_Strict):
    """What a coverage run measures (see the module docstring)."""

    demand_layer: str = Field(
        default="compounds", description="Polygons or points with a population column."
    )
    population: str = "population"
    gates_layer: str | None = Field(
        default=None, description="Entrance points of the demand features (optional)."
    )
    gate_key: str = Field(default="compound_id", description="Gates' column naming their owner.")
    centre_layer: str = "service_centres"
    levels: tuple[Term, ...] = Field(default=(), description="Values of the centres' `level`.")
    services: tuple[Term, ...] = Field(
        default=(), description="Values of the centres' `services` (';'-separated)."
    )
    facility_sets: tuple[FacilitySetConfig, ...] = Field(default=_DEFAULT_SETS, min_length=1)
    life_circle_sets: tuple[str, ...] = Field(
        default=("park", "trail"),
        description="Sets checked per area besides one per service of the centres.",
    )
    life_circle_types: tuple[LifeCircleType, ...] = Field(
        default=(),
        description="The life-circle table (type → circle → clause); when given, it is the "
        "whole list of types checked (life_circle_sets is then not used). Without it every "
        "service and listed set is checked at the widest circle.",
    )
    headline_set: str = "centre"
    gap_set: str = "centre"
    areas: tuple[AreaLevel, ...] = Field(
        default=(),
        description="Statistical areas, finest first (e.g. communities, sub-districts).",
    )

    @model_validator(mode="after")
    def _check_keys(self) -> AnalysisConfig:
        keys = [s.key for s in self.facility_sets]
        if len(set(keys)) != len(keys):
            raise ValueError(f"facility_sets: duplicate keys in {keys}")
        for name in ("headline_set", "gap_set"):
            if getattr(self, name) not in keys:
                raise ValueError(f"{name}: {getattr(self, name)!r} is not one of {keys}")
        for key in self.life_circle_sets:
            if key not in keys:
                raise ValueError(f"life_circle_sets: {key!r} is not one of {keys}")
        services = {t.key for t in self.services}
        levels = {t.key for t in self.levels}
        allowed = {f"svc_{t}" for t in services} | set(keys)
        types = [t.type for t in self.life_circle_types]
        if len(set(types)) != len(types):
            raise ValueError(f"life_circle_types: duplicate types in {types}")
        for row in self.life_circle_types:
            if row.type not in allowed:
                raise ValueError(
                    f"life_circle_types: {row.type!r} is not svc_<service> or a facility set "
                    f"({', '.join(sorted(allowed))})"
                )
            if row.centre_levels and not row.type.startswith("svc_"):
                raise ValueError(f"life_circle_types.{row.type}: centre_levels are for services")
            unknown = sorted(set(row.centre_levels) - levels)
            if unknown:
                raise ValueError(f"life_circle_types.{row.type}: unknown levels {unknown}")
        for s in self.facility_sets:
            if s.service is not None and s.service not in services:
                raise ValueError(f"facility_sets.{s.key}: unknown service {s.service!r}")
        return self

    @property
    def service_keys(self) -> tuple[str, ...]:
        """The services vocabulary, in order."""
        return tuple(t.key for t in self.services)

    def input_layers(self) -> tuple[str, ...]:
        """Every layer a coverage run may read (present or not)."""
        names = [
            "roads",
            self.demand_layer,
            *([self.gates_layer] if self.gates_layer else []),
            *(s.layer for s in self.facility_sets),
            *(a.layer for a in self.areas),
        ]
        return tuple(dict.fromkeys(names))
