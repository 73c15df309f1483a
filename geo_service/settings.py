"""Settings in one place: environment variables ``GEO_SERVICE_*`` or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The checkout the package was installed from (editable installs); defaults hang off it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything the service can be told from outside.

    Paths may be relative; they are resolved against the working directory.
    """

    model_config = SettingsConfigDict(env_prefix="GEO_SERVICE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=PROJECT_ROOT / "data" / "geojson",
        description="Folder holding the layers' GeoJSON files.",
    )
    catalog_dir: Path = Field(
        default=PROJECT_ROOT / "layers",
        description="Folder holding one YAML file per layer.",
    )
    host: str = Field(default="127.0.0.1", description="Address the server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the server binds to.")
    metric_crs: str = Field(
        default="EPSG:4549",
        description="Projected CRS (metres) used for every distance and area.",
    )
    api_key_secret: SecretStr | None = Field(
        default=None, description="Secret used to hash API keys (access-control issue)."
    )
    tianditu_key: SecretStr | None = Field(
        default=None, description="Tianditu tile key for the optional basemap."
    )


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
