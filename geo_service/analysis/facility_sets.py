"""The facility sets a district measures, from its analysis configuration."""

from __future__ import annotations

from dataclasses import dataclass

from geo_service.analysis.coverage import FacilitySet
from geo_service.coverage_params import DEFAULT_CIRCLES, CoverageParams
from geo_service.data.analysis_config import AnalysisConfig, FacilitySetConfig, Label

#: Name columns carried from the demand and area layers into the results, when present.
NAME_COLUMNS = ("name_zh", "name_en", "name")


def facility_set(config: FacilitySetConfig) -> FacilitySet:
    """The analysis' :class:`FacilitySet` for one configured set."""
    return FacilitySet(
        config.key,
        config.title.pick("zh"),
        config.title.pick("en"),
        config.layer,
        where=tuple(config.where.items()),
        service=config.service,
    )


def display_sets(config: AnalysisConfig) -> tuple[FacilitySet, ...]:
    """The facility sets shown on maps and in the compound table, in configured order."""
    return tuple(facility_set(s) for s in config.facility_sets)


#: The basis stated for a type checked without a life-circle table.
WIDEST_CIRCLE_BASIS = Label(
    zh="最大生活圈（district.yaml 未给出生活圈配置表）",
    en="the widest life circle (district.yaml gives no life-circle table)",
)


@dataclass(frozen=True)
class LifeCircleRequirement:
    """A row of the life-circle table, resolved: the facilities that count for the type,
    the circle (minutes label) within whose distance residents should reach them, and
    the clause it follows."""

    facilities: FacilitySet
    circle: int
    basis: Label
    centre_levels: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.facilities.key

    def describe(self, params: CoverageParams) -> dict:
        """The row as data: type, titles, circle and its distance under ``params``, the
        centre levels that count, the basis."""
        return {
            "type": self.key,
            "title": {"zh": self.facilities.title_zh, "en": self.facilities.title_en},
            "circle_minutes": self.circle,
            "distance_m": params.circle_m(self.circle),
            "centre_levels": list(self.centre_levels),
            "basis": {"zh": self.basis.pick("zh"), "en": self.basis.pick("en")},
        }


def life_circle_requirements(config: AnalysisConfig) -> tuple[LifeCircleRequirement, ...]:
    """The life-circle table of the district: ``life_circle_types`` when given, else one
    per service of the centres and one per listed set, at the widest circle."""
    by_key = {s.key: s for s in display_sets(config)}
    services = {f"svc_{t.key}": t for t in config.services}

    def service_set(key: str, levels: tuple[str, ...]) -> FacilitySet:
        term = services[key]
        return FacilitySet(
            key,
            term.title.pick("zh"),
            term.title.pick("en"),
            config.centre_layer,
            where=(("level", levels),) if levels else (),
            service=term.key,
        )

    if config.life_circle_types:
        return tuple(
            LifeCircleRequirement(
                service_set(row.type, row.centre_levels)
                if row.type in services
                else by_key[row.type],
                row.circle,
                row.basis,
                row.centre_levels,
            )
            for row in config.life_circle_types
        )
    widest = max(c.minutes for c in DEFAULT_CIRCLES)
    return tuple(
        LifeCircleRequirement(facilities, widest, WIDEST_CIRCLE_BASIS)
        for facilities in (
            *(service_set(key, ()) for key in services),
            *(by_key[key] for key in config.life_circle_sets),
        )
    )


def life_circle_sets(config: AnalysisConfig) -> tuple[FacilitySet, ...]:
    """The facility sets of the life-circle check, one per type of the table."""
    return tuple(r.facilities for r in life_circle_requirements(config))
