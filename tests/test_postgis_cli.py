"""``geo-service db`` and the throwaway PostGIS as a user runs them: init is idempotent, a
load is all or nothing, and the README's one command serves the demo from PostGIS."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from geo_service.data.derived import district_profile, is_fresh
from geo_service.data.stores import open_store
from geo_service.settings import Settings
from tests.support import ROOT, free_port, run_cli

pytestmark = pytest.mark.postgis


def _layers(url: str) -> dict[str, tuple[str, int]]:
    base, schema = url.split("?schema=")
    with psycopg.connect(base) as conn:
        rows = conn.execute(f"SELECT id, version, features FROM {schema}.layers").fetchall()
    return {layer: (version, features) for layer, version, features in rows}


def test_init_is_idempotent_and_load_fills_every_source_layer(postgis_server, demo, tmp_path):
    url = f"{postgis_server}?schema=cli_{os.getpid()}"
    for _ in range(2):
        made = run_cli("db", "init", "--store", url)
        assert made.returncode == 0, made.stderr
    env = {"GEO_SERVICE_DERIVED_DIR": str(tmp_path / "no-results")}
    loaded = run_cli("db", "load", "--store", url, env=env)
    assert loaded.returncode == 0, loaded.stderr
    features = f"{sum(len(frame) for frame in demo.values()):,}"
    said = " ".join(loaded.stdout.split())
    assert re.search(rf"loaded {len(demo)} layers, {features} features", said)
    assert {k: v[1] for k, v in _layers(url).items()} == {k: len(v) for k, v in demo.items()}


def test_current_coverage_layers_come_along_and_are_not_computed_again(
    postgis_server, catalog, data_copy
):
    url = f"{postgis_server}?schema=along_{os.getpid()}"
    computed = run_cli("coverage")  # into data_copy's derived folder (the environment)
    assert computed.returncode == 0, computed.stderr
    loaded = run_cli("db", "load", "--store", url)
    assert loaded.returncode == 0, loaded.stderr
    assert "with its current coverage layers" in " ".join(loaded.stdout.split())
    derived = {s.id for s in catalog if s.derived}
    assert derived <= set(_layers(url))
    settings = Settings(store=url)
    store = open_store(url, catalog, settings.data_dir)
    try:
        assert is_fresh(store, settings, district_profile(settings))  # nothing to recompute
    finally:
        store.close()


def test_a_broken_layer_loads_nothing(postgis_server, data_copy):
    url = f"{postgis_server}?schema=broken_{os.getpid()}"
    assert run_cli("db", "load", "--store", url).returncode == 0
    before = _layers(url)
    catalog_dir, data_dir = data_copy
    trails = data_dir / "trails.geojson"
    trails.write_text(trails.read_text(encoding="utf-8").replace('"length_m":', '"length_m":-'))
    env = {"GEO_SERVICE_CATALOG_DIR": str(catalog_dir), "GEO_SERVICE_DATA_DIR": str(data_dir)}
    refused = run_cli("db", "load", "--store", url, env=env)
    assert refused.returncode == 1
    assert "length_m" in refused.stderr and "not loaded" in refused.stderr
    assert _layers(url) == before  # no layer has a new version


def test_a_store_that_is_not_postgis_is_refused():
    refused = run_cli("db", "init", "--store", "file:")
    assert refused.returncode == 1 and "is not PostGIS" in refused.stderr


def _readme_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return next(
        line for line in text.splitlines() if line.startswith("scripts/throwaway-postgis run")
    )


@pytest.mark.slow
def test_the_readme_command_serves_the_demo_from_a_throwaway_postgis():
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "GEO_SERVICE_PORT": str(port),
    }
    env.pop("GEO_SERVICE_TEST_POSTGIS", None)
    process = subprocess.Popen(
        ["bash", "-c", _readme_command()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/collections/compounds/items?limit=2")
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.5)
        assert page.status_code == 200
        body = page.json()
        assert body["numberMatched"] == 471
        following = next(link["href"] for link in body["links"] if link["rel"] == "next")
        assert "cursor=" in following  # a keyset page: the PostGIS store is serving
        by_cursor = httpx.get(following).json()["features"]
        by_offset = httpx.get(
            f"http://127.0.0.1:{port}/collections/compounds/items?limit=2&offset=2"
        )
        assert [f["id"] for f in by_cursor] == [f["id"] for f in by_offset.json()["features"]]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    url = re.search(r"throwaway PostGIS at (\S+)", stderr).group(1)
    with pytest.raises(psycopg.OperationalError):  # stopped and removed with the command
        psycopg.connect(url, connect_timeout=3)


def test_an_import_into_a_postgis_district_commits_to_the_store(demo_store, demo, tmp_path):
    """With ``GEO_SERVICE_STORE`` naming PostGIS, ``import file`` compares with the layer in
    the database and ``--commit`` writes a new version there (the data folder is left as
    it is); a refused file changes nothing."""
    url = demo_store("postgis")
    env = {"GEO_SERVICE_STORE": url}
    centres = demo["service_centres"]
    renamed = centres.assign(name_en=centres["name_en"] + " (new)")
    source = tmp_path / "centres.geojson"
    renamed.to_file(source, driver="GeoJSON")
    folder_file = Settings().data_dir / "service_centres.geojson"
    folder_bytes = folder_file.read_bytes()
    before = _layers(url)["service_centres"]

    dry = run_cli("import", "file", "service_centres", str(source), "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    changes = json.loads(dry.stdout)["changes"]
    assert changes["changed"]["count"] == len(centres) and changes["added"]["count"] == 0
    assert _layers(url)["service_centres"] == before

    done = run_cli("import", "file", "service_centres", str(source), "--commit", env=env)
    assert done.returncode == 0, done.stderr
    version, features = _layers(url)["service_centres"]
    assert version != before[0] and features == len(centres)
    assert f"service_centres version {version}" in " ".join(done.stdout.split())
    with psycopg.connect(url.split("?")[0]) as conn:
        names = conn.execute(
            f"SELECT name_en FROM {url.split('=')[1]}.service_centres ORDER BY _seq"
        ).fetchall()
    assert [n for (n,) in names] == renamed["name_en"].tolist()
    assert folder_file.read_bytes() == folder_bytes

    renamed.assign(capacity=-1).to_file(tmp_path / "broken.geojson", driver="GeoJSON")
    refused = run_cli("import", "file", "service_centres", str(tmp_path / "broken.geojson"),
                      "--commit", env=env)  # fmt: skip
    assert refused.returncode != 0
    assert _layers(url)["service_centres"] == (version, features)
