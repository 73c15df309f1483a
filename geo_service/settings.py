"""Settings in one place: environment variables ``GEO_SERVICE_*`` or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo_service.coverage_params import CoverageParams

#: The coverage defaults (GB 50180-2018's circles, 1000 m in 15 minutes, ...): written once,
#: in :class:`~geo_service.coverage_params.CoverageParams`.
_DEFAULTS = CoverageParams()

#: The checkout the package was installed from (editable installs); defaults hang off it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything the service can be told from outside.

    Paths may be relative; they are resolved against the working directory.
    """

    model_config = SettingsConfigDict(env_prefix="GEO_SERVICE_", env_file=".env", extra="ignore")

    district_dir: Path = Field(
        default=PROJECT_ROOT,
        description="The district folder: district.yaml, layers/, maps/, data/geojson/ "
        "(the demo district is the checkout itself).",
    )
    data_dir: Path | None = Field(
        default=None,
        description="Folder holding the layers' GeoJSON files (default: district/data/geojson).",
    )
    catalog_dir: Path | None = Field(
        default=None,
        description="Folder holding one YAML file per layer (default: district/layers).",
    )
    derived_dir: Path | None = Field(
        default=None,
        description="Derived layers (coverage results) and the network cache "
        "(default: district/cache/derived).",
    )
    state_dir: Path | None = Field(
        default=None,
        description="API keys file and audit log, keep it private (default: district/var).",
    )
    maps_dir: Path | None = Field(
        default=None,
        description="Map definitions, one YAML file per map page (default: district/maps).",
    )
    build_dir: Path | None = Field(
        default=None,
        description="Where `geo-service maps build` writes (default: district/build/maps).",
    )
    host: str = Field(default="127.0.0.1", description="Address the server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the server binds to.")
    store: str = Field(
        default="file:",
        description="Where the layers live, as a URL: file: (the data folder's GeoJSON "
        "files, in memory), file:/path/to/folder or postgresql://user@host:port/db?schema=NAME.",
    )
    keep_versions: int | None = Field(
        default=None,
        ge=1,
        description="Keep the features of this many latest versions of each layer; older "
        "ones are pruned after each write (their records stay). Default: keep all.",
    )
    metric_crs: str | None = Field(
        default=None,
        description="Override of the profile's projected CRS (metres) for every distance.",
    )
    walking_speed_mps: float = Field(
        default=_DEFAULTS.walking_speed_mps,
        gt=0,
        description="Walking speed, m/s (1000 m in 15 minutes).",
    )
    circle_5_m: float = Field(
        default=_DEFAULTS.circle_m(5), gt=0, description="5-minute life circle, metres."
    )
    circle_10_m: float = Field(
        default=_DEFAULTS.circle_m(10), gt=0, description="10-minute life circle, metres."
    )
    circle_15_m: float = Field(
        default=_DEFAULTS.circle_m(15),
        gt=0,
        description="15-minute life circle, metres (800-1000 m).",
    )
    circle_criterion: Literal["distance", "time"] = Field(
        default=_DEFAULTS.criterion,
        description="Life circles by GB 50180-2018 walking distance (circle_*_m) or by "
        "walking time at walking_speed_mps.",
    )
    max_snap_m: float = Field(
        default=_DEFAULTS.max_snap_m,
        gt=0,
        description="Farthest a point may lie from the network, metres.",
    )
    circle_polygons_max_segments: int = Field(
        default=200_000,
        ge=0,
        description="Build the dissolved service-circle polygons only for a walking "
        "network of at most this many segments (most of a city's coverage run): above, the "
        "reached streets (a layer of lines) draw the circles, and a facility's circle "
        "polygons are built on demand.",
    )
    circle_buffer_m: float = Field(
        default=_DEFAULTS.circle_buffer_m,
        gt=0,
        description="Half-width of the streets drawn as service circles, m.",
    )
    life_circle_min_share: float = Field(
        default=_DEFAULTS.life_circle_min_share,
        gt=0,
        le=1,
        description="A community lacks a facility type when fewer of its residents reach it.",
    )
    cors_origins: list[str] = Field(
        default=["*"], description="Origins allowed to call the API from a browser (CORS)."
    )
    api_key_secret: SecretStr | None = Field(
        default=None, description="Pepper for hashing API keys (keep it out of the repo)."
    )
    max_items: int = Field(
        default=10_000, ge=1, description="Most features in one response (larger limits clamp)."
    )
    max_body_bytes: int = Field(default=1_000_000, gt=0, description="Largest request body.")
    max_query_chars: int = Field(default=2048, gt=0, description="Longest query string.")
    max_upload_bytes: int = Field(
        default=50_000_000, gt=0, description="Largest file uploaded to a layer, bytes."
    )
    max_upload_unpacked_bytes: int = Field(
        default=500_000_000,
        gt=0,
        description="Most an uploaded zip (Shapefile, XLSX) may unpack to, bytes.",
    )
    upload_timeout_s: float = Field(
        default=300.0, gt=0, description="Slowest check of an uploaded file allowed, seconds."
    )
    coverage_refresh_delay_s: float = Field(
        default=3.0,
        ge=0,
        description="Quiet time after the last change of an input layer before the "
        "coverage is recomputed, seconds: a burst of edits (a QGIS commit) makes one run. "
        "Changes that go on longer than ten delays start a run at that point.",
    )
    upload_hours: float = Field(
        default=24.0, gt=0, description="How long a checked upload waits for its commit, hours."
    )
    request_timeout_s: float = Field(default=20.0, gt=0, description="Slowest request allowed.")
    compute_workers: int = Field(
        default=1,
        ge=0,
        description="Processes per server worker that run what-if scenarios, service "
        "circles and siting, so that they stall no other request (0: threads instead).",
    )
    compute_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower the CPU priority of those processes is (Unix nice).",
    )
    compute_idle: bool = Field(
        default=False,
        description="Run those processes under Linux's SCHED_IDLE: only on CPU time no "
        "other process wants (a busy server's short requests always come first; heavy "
        "work may then wait until the request timeout).",
    )
    rate_limit_per_minute: int = Field(
        default=60, gt=0, description="Expensive requests (downloads, scenarios) per client."
    )
    rate_limit_storage: str = Field(
        default="memory://",
        pattern=r"^(memory|redis|rediss|redis\+sentinel|redis\+cluster|memcached)://",
        description="Where the rate limit counts: memory:// (each worker its own), or "
        "redis://host:6379 (shared by every worker and server).",
    )
    scenario_writers: Literal["staff", "public"] = Field(
        default="staff",
        description="Who may save and delete named what-if scenarios: callers with a staff "
        "(or restricted) API key, or anyone (an intranet deployment). Reading is open.",
    )
    tianditu_key: SecretStr | None = Field(
        default=None, description="Tianditu tile key for the optional basemap."
    )
    basemaps: list[Literal["osm", "tianditu", "amap"]] = Field(
        default=[],
        description="Tile basemaps offered on the maps besides our own layers (which need no "
        "internet): osm, tianditu (needs tianditu_key), or amap alone (its tiles are in "
        "GCJ-02, so the maps shift our WGS 84 layers to match).",
    )

    @model_validator(mode="after")
    def _district_paths(self) -> Settings:
        defaults = {
            "data_dir": ("data", "geojson"),
            "catalog_dir": ("layers",),
            "derived_dir": ("cache", "derived"),
            "state_dir": ("var",),
            "maps_dir": ("maps",),
            "build_dir": ("build", "maps"),
        }
        for name, parts in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, self.district_dir.joinpath(*parts))
        return self

    @property
    def profile_path(self) -> Path:
        """The district profile file."""
        return self.district_dir / "district.yaml"

    @model_validator(mode="after")
    def _check_basemaps(self) -> Settings:
        if "amap" in self.basemaps and len(set(self.basemaps)) > 1:
            raise ValueError(
                "basemaps: amap (GCJ-02) cannot be mixed with WGS 84 tile basemaps; "
                "a map that mixes datums is off by ~500 m"
            )
        if "tianditu" in self.basemaps and self.tianditu_key is None:
            raise ValueError("basemaps: tianditu needs GEO_SERVICE_TIANDITU_KEY")
        return self
