"""A district folder made and filled: ``geo-service init`` writes the profile, catalog and
planner map; ``import osm`` and ``import file`` put layers in it (dry runs unless asked
to commit; every write is atomic).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import shapely
import yaml

from geo_service.crs import check_metric_crs, metric_crs_for
from geo_service.data.analysis_config import AnalysisConfig, AreaLevel, Label, Term
from geo_service.data.catalog import load_catalog
from geo_service.data.derived import metric_crs
from geo_service.data.district_catalog import planner_definition, source_layer_entries
from geo_service.data.geojson_io import write_atomic, write_geojson
from geo_service.data.profile import PROFILE_FILE, DistrictProfile, load_profile, parse_profile
from geo_service.data.stores.file import write_layer_version
from geo_service.errors import ImportFailed, ProfileError
from geo_service.importing.target import ImportTarget
from geo_service.pipeline.derived_catalog import derived_layer_entries
from geo_service.settings import Settings

log = logging.getLogger(__name__)

#: The layers an OpenStreetMap import writes.
OSM_LAYERS = (
    "district",
    "communities",
    "roads",
    "compounds",
    "service_centres",
    "landmarks",
    "pocket_parks",
    "trails",
)


def district_id(name: str) -> str:
    """A short ASCII id for a district name (Chinese names in pinyin): ``binhuqu``."""
    import unicodedata

    from pypinyin import lazy_pinyin

    text = "".join(lazy_pinyin(name))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = "-".join("".join(c if c.isalnum() else " " for c in text).split())
    return slug if slug[:1].isalpha() else f"district-{slug}".rstrip("-")


def _title(key: str) -> Label:
    return Label(en=key.replace("_", " ").capitalize())


def district_profile_for(
    *,
    name: str,
    name_en: str | None,
    name_zh: str | None,
    bounds: tuple[float, float, float, float],
    timezone: str | None,
    country: str | None,
    levels: list[str],
    services: list[str],
    country_of: Callable[[str], str | None],
) -> DistrictProfile:
    """The profile of a new district over ``bounds`` (lon/lat): metric CRS and time zone
    from the extent, Chinese first and regional map links inside China."""
    from timezonefinder import TimezoneFinder

    lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    timezone = timezone or TimezoneFinder().timezone_at(lng=lon, lat=lat)
    if timezone is None:
        raise ProfileError(f"no time zone is known at {lon:.4f}, {lat:.4f}: give --timezone")
    country = country or country_of(timezone)
    if country is None:
        raise ProfileError(f"cannot tell the country of {timezone}: give --country")
    metric = metric_crs_for(bounds)
    in_china = country == "CN"
    analysis = AnalysisConfig(
        levels=tuple(Term(key=k, title=_title(k)) for k in levels),
        services=tuple(Term(key=k, title=_title(k)) for k in services),
        areas=(AreaLevel(layer="communities", key="community_id"),),
        life_circle_sets=("park", "trail"),
    )
    return parse_profile(
        {
            "id": district_id(name_en or name),
            "name": {"local": name, "en": name_en, "zh": name_zh},
            "country": country,
            "timezone": timezone,
            "metric_crs": f"EPSG:{metric.to_epsg()}" if metric.to_epsg() else metric.srs,
            "output_crs": ["EPSG:4326", "EPSG:3857"] + (["EPSG:4490"] if in_china else []),
            "languages": ["zh", "en"] if in_china else ["en", "zh"],
            "phone_maps": (
                ["amap", "baidu", "tencent", "apple", "geo"]
                if in_china
                else ["google", "apple", "osm", "geo"]
            ),
            "synthetic": False,
            "figures": [],
            "analysis": analysis.model_dump(mode="json"),
        },
        "new district",
    )


def extract_bounds(extract: Path) -> tuple[float, float, float, float]:
    """The lon/lat bounds an OpenStreetMap extract declares (its header, or its nodes)."""
    import pyogrio

    bounds = pyogrio.read_info(extract, layer="points", force_total_bounds=True)["total_bounds"]
    return tuple(float(v) for v in bounds)


def _outline(boundary: Path | None, bbox, extract: Path | None) -> gpd.GeoDataFrame | None:
    if extract is not None and bbox is None and boundary is None:
        bbox = extract_bounds(extract)
    if boundary is not None:
        frame = gpd.read_file(boundary)
        return frame.to_crs(4326) if frame.crs is not None else frame.set_crs(4326)
    if bbox is not None:
        return gpd.GeoDataFrame(geometry=[shapely.box(*bbox)], crs=4326)
    return None


def new_district(
    folder: Path,
    *,
    name: str,
    name_en: str | None = None,
    name_zh: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    boundary: Path | None = None,
    timezone: str | None = None,
    country: str | None = None,
    tags: Path | None = None,
    extract: Path | None = None,
    country_of: Callable[[str], str | None] = lambda _: None,
) -> list[Path]:
    """Write ``folder``'s profile, catalog, planner map and ``district`` layer: the outline
    in ``boundary``, else the box ``bbox``, else the bounds of the OSM ``extract``.
    Returns the files written."""
    from geo_service.importing.osm_mapping import load_tag_mapping

    outline = _outline(boundary, bbox, extract)
    if outline is None:
        raise ProfileError(
            "give --bbox, --boundary or --extract: the extent sets the CRS and time zone"
        )
    mapping = load_tag_mapping(tags)
    profile = district_profile_for(
        name=name,
        name_en=name_en,
        name_zh=name_zh,
        bounds=tuple(outline.total_bounds),
        timezone=timezone,
        country=country,
        levels=list(mapping.levels),
        services=list(mapping.services),
        country_of=country_of,
    )
    return write_district(folder, profile, outline)


def write_district(
    folder: Path, profile: DistrictProfile, outline: gpd.GeoDataFrame | None
) -> list[Path]:
    """Write the profile, catalog entries and planner map of ``profile`` into ``folder``."""
    folder = Path(folder)
    written = []
    (folder / "data" / "geojson").mkdir(parents=True, exist_ok=True)
    path = folder / PROFILE_FILE
    write_atomic(
        path,
        "# The district profile (geo_service/data/profile.py validates it).\n"
        + yaml.safe_dump(
            profile.model_dump(mode="json", exclude_none=True),
            allow_unicode=True,
            sort_keys=False,
            width=100,
        ),
    )
    written.append(path)
    for entry in [*source_layer_entries(profile), *derived_layer_entries(profile)]:
        path = folder / "layers" / f"{entry['id']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, yaml.safe_dump(entry, allow_unicode=True, sort_keys=False))
        written.append(path)
    path = folder / "maps" / "planner.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, yaml.safe_dump(planner_definition(profile), allow_unicode=True))
    written.append(path)
    if outline is not None:
        district = gpd.GeoDataFrame(
            {
                "id": [profile.id],
                "name": [profile.name.local],
                "name_en": [profile.name.pick("en")],
                "name_zh": [profile.name.pick("zh")],
            },
            geometry=[shapely.MultiPolygon(shapely.get_parts(outline.union_all()))],
            crs=4326,
        )
        path = folder / "data" / "geojson" / "district.geojson"
        write_geojson(district, path, name="district", description=f"{profile.name.pick('en')}")
        written.append(path)
    return written


def import_osm_into(
    settings: Settings,
    extract: Path,
    *,
    commit: bool = False,
    bbox: tuple[float, float, float, float] | None = None,
    relation: str | None = None,
    tags: Path | None = None,
    demand: str = "buildings",
    persons_per_m2: float | None = None,
    population_table: Path | None = None,
) -> dict:
    """Import an OSM extract into the settings' district: the district's outline (if it
    has one) or ``bbox`` clips it; lengths in the profile's metric CRS (checked). With
    ``commit`` every layer is written, each atomically, to the data folder or the
    configured store. Returns the report."""
    from geo_service.importing.osm import import_osm
    from geo_service.importing.osm_population import PopulationOptions

    profile = load_profile(settings.profile_path)
    catalog = load_catalog(settings.catalog_dir)
    with ImportTarget(settings, catalog) as target:
        outline = target.current("district") if "district" in catalog else None
        boundary = None
        if bbox is None and relation is None and outline is not None and not outline.empty:
            boundary = outline.to_crs(4326).union_all()
        if demand not in ("buildings", "landuse"):
            raise ImportFailed(f"demand must be 'buildings' or 'landuse', not {demand!r}")
        population = PopulationOptions(
            source=demand, persons_per_m2=persons_per_m2, table=population_table
        )
        result = import_osm(
            extract,
            tags=tags,
            bbox=bbox,
            boundary=boundary,
            district=relation,
            metric_crs=metric_crs(settings, profile),
            population=population,
            progress=True,
        )
        layers = {k: v for k, v in result.layers.items() if not (k == "district" and boundary)}
        for name in OSM_LAYERS:  # what the extract lacks is written empty: a valid, empty layer
            if name not in layers and name != "district":
                layers[name] = gpd.GeoDataFrame({"id": []}, geometry=[], crs=4326)
        bounds = tuple(result.layers["roads"].total_bounds)
        check_metric_crs(metric_crs(settings, profile), bounds)
        skipped = sorted(name for name in layers if name not in catalog)
        layers = {name: frame for name, frame in layers.items() if name in catalog}
        changes = _changes_against_current(catalog, target, layers)
        findings = plausibility_findings(
            settings,
            {
                k: v
                for k, v in layers.items()
                if not v.empty and k not in ("district", "communities")
            },
            district=result.layers.get("district"),
            current=target.current,
        )
        report = {
            "extract": str(extract),
            "findings": [f.to_dict() for f in findings],
            "metric_crs": metric_crs(settings, profile),
            "layers": {name: len(frame) for name, frame in layers.items()},
            "changes": changes,
            "counts": result.counts,
            "notes": list(result.notes)
            + [f"{name}: not in this district's catalog, not written" for name in skipped],
            "committed": commit,
        }
        if commit:
            for name, frame in layers.items():
                spec = catalog.get(name)
                columns = [c for c in spec.property_names if c in frame.columns]
                frame = frame[[*columns, frame.geometry.name]]
                description = f"{spec.title.en}, from {Path(extract).name} (OpenStreetMap)"
                source = f"import {Path(extract).name}"
                if target.folder is not None:
                    write_layer_version(
                        spec,
                        frame,
                        target.folder,
                        description=description,
                        source=source,
                        keep_versions=settings.keep_versions,
                    )
                else:
                    target.store.write(name, frame, description=description, source=source)
                target.audit(name, action="import", command="geo-service import osm")
                log.info(
                    "import: wrote %s to %s (%d features)", name, target.describe(), len(frame)
                )
        return report


def _changes_against_current(catalog, target: ImportTarget, layers: dict) -> dict[str, dict]:
    """Per layer: how many features the import adds, changes, removes and leaves as they
    are, against the layer as it is now (all added when there is none)."""
    from geo_service.data.changes import compare

    counts = {}
    for name, frame in layers.items():
        changes = compare(catalog.get(name), frame, target.current(name))
        counts[name] = {
            "added": len(changes.added),
            "changed": len(changes.changed),
            "removed": len(changes.removed),
            "unchanged": len(changes.unchanged),
        }
    return counts


def plausibility_findings(
    settings: Settings,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    roads: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | None = None,
    current: Callable[[str], gpd.GeoDataFrame | None] | None = None,
) -> list:
    """Plausibility findings (:mod:`geo_service.analysis.plausibility`) for ``layers``,
    measured against the district's walking network (``roads``, else the stored roads) in
    its metric CRS and its outline (``district``, else the stored one, if any); stored:
    what ``current`` gives for a layer id (default: the settings' data folder or store)."""
    from geo_service.analysis.network import build_walk_graph
    from geo_service.analysis.plausibility import check_layers

    profile = load_profile(settings.profile_path)
    crs = metric_crs(settings, profile)
    catalog = load_catalog(settings.catalog_dir)

    if current is None:
        current = ImportTarget(settings, catalog).current

    def stored(layer_id: str) -> gpd.GeoDataFrame | None:
        return current(layer_id) if layer_id in catalog else None

    if roads is None:
        roads = layers["roads"] if "roads" in layers else stored("roads")
    if district is None:
        district = stored("district")
    if roads is None or roads.empty:
        return []
    config = profile.analysis
    point_layers = tuple(
        dict.fromkeys(
            [
                config.demand_layer,
                *([config.gates_layer] if config.gates_layer else []),
                config.centre_layer,
                *(s.layer for s in config.facility_sets),
            ]
        )
    )
    return check_layers(
        layers,
        graph=build_walk_graph(roads, crs),
        metric_crs=crs,
        district_geometry=None if district is None or district.empty else district,
        point_layers=point_layers,
        max_snap_m=settings.max_snap_m,
    )
