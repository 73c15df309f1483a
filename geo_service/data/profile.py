"""The district profile: everything district-specific, in one validated file per district
folder (``district.yaml``).

Names, time zone, the metric CRS (checked against the data's extent), the CRSs the OGC API
offers, the pages' languages, the phone-map links the locator offers, the headline figures
``/summary`` shows, and the analysis configuration (:mod:`geo_service.data.analysis_config`).
A broken profile stops loading with one :class:`~geo_service.errors.ProfileError` naming
the file and the field.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_calendars
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo_service.data.analysis_config import AnalysisConfig, Label
from geo_service.data.catalog import Catalog
from geo_service.data.yaml_text import load_yaml
from geo_service.errors import ProfileError

#: The profile's file name inside a district folder.
PROFILE_FILE = "district.yaml"

Language = Literal["zh", "en"]
PhoneMap = Literal["amap", "baidu", "tencent", "apple", "google", "osm", "geo"]
#: Phone maps whose links take GCJ-02 / BD-09 coordinates: only meaningful inside China.
CHINA_ONLY = frozenset({"amap", "baidu", "tencent"})
#: Phone maps out of reach inside mainland China.
NOT_IN_CHINA = frozenset({"google"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Strict):
    """A name in Chinese, English and the local language; at least one is given."""

    zh: str | None = None
    en: str | None = None
    local: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Names:
        if not (self.zh or self.en or self.local):
            raise ValueError("give at least one of zh, en, local")
        return self

    def pick(self, language: str) -> str:
        """The name in ``language``, else the local name, else any."""
        return getattr(self, language, None) or self.local or self.en or self.zh or ""


class Figure(_Strict):
    """A headline figure shown by ``/summary``, optionally beside a count in the data."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Label
    value: float = Field(description="The published figure.")
    source: str | None = Field(default=None, description="Where the figure is published.")
    layer: str | None = Field(default=None, description="Layer whose data should match it.")
    sum_of: str | None = Field(
        default=None, description="Property of `layer` to add up (default: count features)."
    )


class DistrictProfile(_Strict):
    """A district's profile (``district.yaml``)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name: Names
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code.")
    timezone: str = Field(description="IANA time zone for opening hours and 'now'.")
    holidays: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
        description=(
            "Holiday calendar that PH in opening hours means: a country, or a country and "
            "subdivision (DE-BY), from the holidays library (default: country)."
        ),
    )
    extra_holidays: tuple[date, ...] = Field(
        default=(),
        description="The district's own public holidays besides the calendar's (dates).",
    )
    metric_crs: str = Field(description="Projected CRS in metres for every distance.")
    output_crs: tuple[str, ...] = Field(
        default=("EPSG:4326", "EPSG:3857"),
        description="CRSs the OGC API offers besides CRS84 (the metric CRS is always added).",
    )
    languages: tuple[Language, ...] = Field(
        default=("en", "zh"), min_length=1, description="Page languages, the default first."
    )
    phone_maps: tuple[PhoneMap, ...] = Field(
        default=("osm", "geo"),
        description="Map apps the locator hands walking navigation to, in order (amap, "
        "baidu, tencent inside China; google outside; apple, osm, geo anywhere).",
    )
    synthetic: bool = Field(description="Whether the district's data is synthetic (demo).")
    centre_term: Label = Field(
        default=Label(zh="服务中心", en="service centre"),
        description="What the pages call a service centre (the locator's title).",
    )
    figures: tuple[Figure, ...] = ()
    analysis: AnalysisConfig = AnalysisConfig()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("holidays")
    @classmethod
    def _known_calendar(cls, value: str | None) -> str | None:
        if value is not None:
            country, _, subdivision = value.partition("-")
            try:
                holiday_calendars.country_holidays(country, subdiv=subdivision or None)
            except NotImplementedError as error:
                message = f"no holiday calendar {value!r} in the holidays library: {error}"
                raise ValueError(message) from None
        return value

    @field_validator("metric_crs")
    @classmethod
    def _metric(cls, value: str) -> str:
        crs = _crs(value)
        if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
            raise ValueError(f"{value} is not a projected CRS in metres")
        return value

    @field_validator("output_crs")
    @classmethod
    def _known_crs(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not value.upper().startswith("EPSG:"):
                raise ValueError(f"{value!r}: the OGC API offers EPSG codes (EPSG:n) only")
            _crs(value)
        return values

    @property
    def zone(self) -> ZoneInfo:
        """The district's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def in_china(self) -> bool:
        """Whether the district is in mainland China (GCJ-02 / BD-09 apply)."""
        return self.country == "CN"

    @property
    def offered_crs(self) -> tuple[str, ...]:
        """The OGC API's output CRSs after CRS84: the profile's list plus the metric CRS
        (when it is an EPSG code: a custom transverse Mercator has no URI to offer)."""
        codes = list(dict.fromkeys(c.upper() for c in self.output_crs))
        metric = self.metric_crs.upper()
        if metric.startswith("EPSG:") and metric not in codes:
            codes.append(metric)
        return tuple(codes)

    @property
    def map_links(self) -> tuple[PhoneMap, ...]:
        """The phone-map links to offer: Amap, Baidu and Tencent only inside China, Google
        only outside."""
        barred = NOT_IN_CHINA if self.in_china else CHINA_ONLY
        return tuple(m for m in self.phone_maps if m not in barred)


def _crs(value: str) -> CRS:
    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise ValueError(f"unknown CRS {value!r}") from None


def _field_path(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def parse_profile(raw: object, source: str = PROFILE_FILE) -> DistrictProfile:
    """Validate a profile given as a mapping; :class:`ProfileError` names the field."""
    if not isinstance(raw, dict):
        raise ProfileError(f"{source}: expected a mapping of fields, got {type(raw).__name__}")
    try:
        return DistrictProfile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{_field_path(err['loc'])}': {err['msg']}" for err in exc.errors()
        )
        raise ProfileError(f"{source}: {problems}") from None


def load_profile(path: Path) -> DistrictProfile:
    """Read and validate ``district.yaml`` (or the one in folder ``path``)."""
    path = Path(path)
    if path.is_dir():
        path = path / PROFILE_FILE
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot read the district profile: {exc}") from exc
    return parse_profile(raw, str(path))


def check_against_catalog(profile: DistrictProfile, catalog: Catalog) -> None:
    """Raise :class:`ProfileError` if the profile's analysis names what the catalog lacks:
    no roads or demand layer, a demand layer without its population column, gates without
    their key, a facility filter or the services on a column the layer does not have.
    Optional layers (facilities, gates, areas) may be missing from the catalog."""
    config = profile.analysis
    problems = []

    def columns(layer_id: str) -> set[str] | None:
        return set(catalog.get(layer_id).property_names) if layer_id in catalog else None

    for required in ("roads", config.demand_layer):
        if required not in catalog:
            problems.append(f"no layer {required!r} in the catalog")
    demand = columns(config.demand_layer)
    if demand is not None and config.population not in demand:
        problems.append(f"{config.demand_layer!r} has no population column {config.population!r}")
    gates = columns(config.gates_layer) if config.gates_layer else None
    if gates is not None and config.gate_key not in gates:
        problems.append(f"{config.gates_layer!r} has no column {config.gate_key!r}")
    for facilities in config.facility_sets:
        have = columns(facilities.layer)
        wanted = [*facilities.where, *(["services"] if facilities.service else [])]
        missing = sorted(set(wanted) - (have or set(wanted)))
        if missing:
            problems.append(
                f"facility set {facilities.key!r}: {facilities.layer!r} lacks {missing}"
            )
    if problems:
        raise ProfileError("district profile does not fit the catalog: " + "; ".join(problems))
