"""A write is all or nothing, on both stores: a writer killed with SIGKILL at random
points, or a disk that fills in the middle of a write, leaves the previous version whole
and readable, a fresh start serves it, and the next write goes through."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from geo_service.api.app import create_app
from geo_service.data.stores import open_store
from geo_service.errors import StoreFull
from geo_service.settings import Settings
from tests.conftest import STORE_KINDS
from tests.support import DATA_DIR, ROOT, InProcessClient

#: Writes round after round, every compound's households set to the round number, and
#: says so once each write returned.
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from geo_service.data.catalog import load_catalog
    from geo_service.data.stores import open_store

    url, catalog_dir, data_dir, first = sys.argv[1:5]
    store = open_store(url, load_catalog(Path(catalog_dir)), Path(data_dir))
    print("ready", flush=True)
    frame = store.query("compounds")
    for households in range(int(first), 10**6):
        store.write("compounds", frame.assign(households=households), description="round")
        print(households, flush=True)
    """
)
KILLS = 12


def _households(store) -> set:
    return set(store.query("compounds")["households"])


def _leftovers(data_dir: Path) -> list[str]:
    """Half-written files in the data folder and its history (names starting with a dot
    beside the layer files, lock files aside)."""
    found = [p.name for p in data_dir.glob(".*") if p.name != ".history"]
    found += [p.name for p in (data_dir / ".history").glob("*/.*")]
    return found


@pytest.fixture(params=STORE_KINDS)
def shared(request, catalog, demo_store, data_copy):
    """(URL, catalog dir, data dir) of a writable store of each kind."""
    catalog_dir, data_dir = data_copy
    url = f"file:{data_dir}" if request.param == "file" else demo_store("postgis")
    return url, catalog_dir, data_dir


@pytest.mark.slow  # end to end: writer processes killed with SIGKILL
def test_a_writer_killed_at_random_points_loses_nothing(shared, catalog):
    url, catalog_dir, data_dir = shared
    store = open_store(url, catalog, data_dir)
    store.write("compounds", store.query("compounds").assign(households=1), description="1")
    getattr(store, "close", lambda: None)()
    chance = random.Random(14)
    value, confirmed = 1, 0
    for _ in range(KILLS):
        first = value + 1
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(catalog_dir), str(data_dir), str(first)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
        time.sleep(chance.uniform(0.0, 1.5))
        writer.kill()  # SIGKILL: no handler, no finally, no atexit
        said = writer.communicate()[0].split()
        # a write the writer saw return is there; the one in flight may be or not
        possible = {int(said[-1]), int(said[-1]) + 1} if said else {value, first}
        confirmed += len(said)
        store = open_store(url, catalog, data_dir)  # a fresh start
        try:
            households = _households(store)
            assert len(households) == 1, "a version must be whole, not a mix"
            value = households.pop()
            assert value in possible
            current = store.history("compounds")[-1]
            assert current.version == store.version("compounds")
            assert set(store.read_version("compounds", current.number)["households"]) == {value}
        finally:
            getattr(store, "close", lambda: None)()
    assert confirmed > 0, "the writer never got a write through: kills came too early"
    store = open_store(url, catalog, data_dir)
    try:
        after = store.write(
            "compounds", store.query("compounds").assign(households=7), description="after"
        )
        assert store.version("compounds") == after and _households(store) == {7}
        numbers = [v.number for v in store.history("compounds")]
        assert numbers == list(range(1, len(numbers) + 1))
    finally:
        getattr(store, "close", lambda: None)()
    if url.startswith("file:"):
        assert _leftovers(data_dir) == []  # the next write swept what the kills left


# --- a full disk ----------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A function mounting a tmpfs of a given size at a new folder (root only: the CI
    runs as root), unmounted after the test."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):  # the CI runs as root: there it must run, never skip
            pytest.fail("mounting a small tmpfs needs root, and CI must run this test")
        pytest.skip("mounting a small tmpfs needs root")
    mounted = []

    def mount(size: int, *, open_to_all: bool = False) -> Path:
        """A tmpfs of ``size`` bytes; ``open_to_all``: in a folder every user can reach
        (the database server's user, for a tablespace)."""
        folder = Path(tempfile.mkdtemp(prefix="tmpfs-")) if open_to_all else tmp_path / "disk"
        folder.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", folder], check=True)
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", folder], check=False)
        if folder.parent == Path(tempfile.gettempdir()):
            folder.rmdir()


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until ``leave`` bytes are free."""
    free = shutil.disk_usage(folder).free - leave
    if free > 0:
        (folder / "ballast").write_bytes(b"\0" * free)


@pytest.mark.slow  # end to end: a real file system (tmpfs) fills up
@pytest.mark.parametrize("room", ["none", "for the copy of the old version only"])
def test_a_full_disk_leaves_the_file_store_as_it_was(room, small_disk, catalog, tmp_path):
    disk = small_disk(16 * 1024**2)
    data_dir = disk / "data"
    shutil.copytree(DATA_DIR, data_dir)
    store = open_store(f"file:{data_dir}", catalog, data_dir)
    compounds = store.query("compounds")
    size = (data_dir / "compounds.geojson").stat().st_size
    if room == "none":  # the old version is already kept: the new file is what fails
        store.write("compounds", compounds.assign(households=1), description="first")
        _fill(disk, size // 3)
    else:  # the old version is copied aside first, then the new file fails
        _fill(disk, size + size // 3)
    version, history = store.version("compounds"), store.history("compounds")
    households = _households(store)

    with pytest.raises(StoreFull, match="left unchanged: the disk is full"):
        store.write("compounds", compounds.assign(households=2), description="too big")

    assert store.version("compounds") == version and _households(store) == households
    assert store.history("compounds") == history
    assert _leftovers(data_dir) == []
    fresh = open_store(f"file:{data_dir}", catalog, data_dir)
    assert fresh.version("compounds") == version and _households(fresh) == households
    settings = Settings(store=f"file:{data_dir}", state_dir=tmp_path / "s", derived_dir=tmp_path)
    served = InProcessClient(create_app(settings)).get(
        "/collections/compounds/items", params={"limit": 1000}
    )
    assert served.status_code == 200
    assert {f["properties"]["households"] for f in served.json()["features"]} == households
    (disk / "ballast").unlink()
    store.write("compounds", compounds.assign(households=3), description="room again")
    assert _households(store) == {3}
    assert [v.number for v in store.history("compounds")] == [v.number for v in history] + [
        history[-1].number + 1
    ]


@pytest.mark.slow  # end to end: a real file system (tmpfs) fills up
@pytest.mark.postgis
def test_a_full_disk_leaves_the_postgis_store_as_it_was(small_disk, demo_store, catalog):
    url = demo_store("postgis")
    store = open_store(url, catalog, DATA_DIR)
    with psycopg.connect(store.location.conninfo, autocommit=True) as conn:
        data_directory = conn.execute("SHOW data_directory").fetchone()[0]
        owner = Path(data_directory).stat()
        disk = small_disk(256 * 1024, open_to_all=True)
        os.chown(disk, owner.st_uid, owner.st_gid)
        conn.execute(f"CREATE TABLESPACE small_disk LOCATION '{disk}'")
    try:
        version, history = store.version("compounds"), store.history("compounds")
        compounds = store.query("compounds")
        full = open_store(f"{url}&options=-c%20default_tablespace%3Dsmall_disk", catalog, DATA_DIR)
        try:
            with pytest.raises(StoreFull, match="out of disk space; nothing was written"):
                full.write("compounds", compounds.assign(households=2), description="too big")
        finally:
            full.close()
        store.close()
        store = open_store(url, catalog, DATA_DIR)  # a fresh start
        assert store.version("compounds") == version
        assert _households(store) == set(compounds["households"])
        assert store.history("compounds") == history
        store.write("compounds", compounds.assign(households=3), description="room again")
        assert _households(store) == {3}
    finally:
        store.close()
        with psycopg.connect(store.location.conninfo, autocommit=True) as conn:
            conn.execute("DROP TABLESPACE small_disk")
