"""Writers of a layer, in parallel processes, on both stores: a write based on a version
that is no longer current is refused (``PreconditionFailed``, HTTP 412) and changes
nothing; writers that read,
change and write with the version they read (retrying when refused) never lose a change;
a store sees another process's write on its next read."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from geo_service.data.stores import open_store
from geo_service.errors import PreconditionFailed
from tests.conftest import STORE_KINDS
from tests.support import ROOT

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from geo_service.data.catalog import load_catalog
    from geo_service.data.stores import open_store
    from geo_service.errors import PreconditionFailed

    url, catalog_dir, data_dir, feature_id, rounds = sys.argv[1:6]
    store = open_store(url, load_catalog(Path(catalog_dir)), Path(data_dir))
    refused = 0
    for _ in range(int(rounds)):
        while True:
            based_on = store.version("compounds")
            frame = store.query("compounds").copy()
            frame.loc[feature_id, "population"] += 1
            try:
                store.write("compounds", frame, description="+1", author=feature_id,
                            expected_version=based_on)
                break
            except PreconditionFailed:
                refused += 1
    print(refused)
    """
)


@pytest.fixture(params=STORE_KINDS)
def shared(request, catalog, demo_store, data_copy):
    """(URL, catalog dir, data dir) of a writable store of each kind."""
    catalog_dir, data_dir = data_copy
    url = f"file:{data_dir}" if request.param == "file" else demo_store("postgis")
    return url, catalog_dir, data_dir


def test_a_write_based_on_an_old_version_is_refused(shared, catalog, demo):
    url, _, data_dir = shared
    store = open_store(url, catalog, data_dir)
    try:
        based_on = store.version("compounds")
        newer = store.write("compounds", demo["compounds"].assign(households=5), description="")
        with pytest.raises(PreconditionFailed, match="read it again"):
            store.write(
                "compounds",
                demo["compounds"].assign(households=9),
                description="stale",
                expected_version=based_on,
            )
        assert store.version("compounds") == newer
        assert set(store.query("compounds")["households"]) == {5}
        assert [v.number for v in store.history("compounds")] == [1, 2]
        done = store.write(
            "compounds",
            demo["compounds"].assign(households=9),
            description="fresh",
            expected_version=newer,
        )
        assert store.version("compounds") == done != newer
    finally:
        getattr(store, "close", lambda: None)()


@pytest.mark.slow  # end to end: writers in parallel processes
def test_parallel_writers_never_lose_a_change(shared, catalog, demo):
    url, catalog_dir, data_dir = shared
    writers, rounds = 4, 3
    ids = [str(i) for i in demo["compounds"]["id"].iloc[:writers]]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(catalog_dir), str(data_dir), fid, str(rounds)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for fid in ids
    ]
    outputs = [p.communicate(timeout=600) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in outputs]
    store = open_store(url, catalog, data_dir)
    try:
        now = store.query("compounds")
        before = demo["compounds"].set_index(demo["compounds"]["id"].astype(str))
        for fid in ids:
            assert now.loc[fid, "population"] == before.loc[fid, "population"] + rounds
        history = store.history("compounds")
        assert len(history) == 1 + writers * rounds
        assert sorted(v.author for v in history[1:]) == sorted(ids * rounds)
        assert all((v.added, v.changed, v.removed) == (0, 1, 0) for v in history[1:])
    finally:
        getattr(store, "close", lambda: None)()


def test_a_file_store_sees_another_process_write(catalog, demo, data_copy):
    _, data_dir = data_copy
    reader, writer = (open_store(f"file:{data_dir}", catalog, data_dir) for _ in range(2))
    version = writer.write("compounds", demo["compounds"].assign(households=3), description="")
    assert reader.version("compounds") == version
    assert set(reader.query("compounds")["households"]) == {3}
    assert reader.history("compounds")[-1].version == version
