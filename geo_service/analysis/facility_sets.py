"""The facility sets a district measures, from its analysis configuration."""

from __future__ import annotations

from geo_service.analysis.coverage import FacilitySet
from geo_service.data.analysis_config import AnalysisConfig, FacilitySetConfig

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


def life_circle_sets(config: AnalysisConfig) -> tuple[FacilitySet, ...]:
    """The facility types of the life-circle check: one per service, then the listed sets."""
    by_key = {s.key: s for s in display_sets(config)}
    services = tuple(
        FacilitySet(
            f"svc_{t.key}",
            t.title.pick("zh"),
            t.title.pick("en"),
            config.centre_layer,
            service=t.key,
        )
        for t in config.services
    )
    return (*services, *(by_key[key] for key in config.life_circle_sets))
