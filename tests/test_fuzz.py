"""Property-based fuzzing of the whole OpenAPI with schemathesis (its own command line,
bounded in examples): no server error and no response that breaks its declared schema."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import LiveServer, writable_server

#: End to end: schemathesis's command line against `geo-service serve`.
pytestmark = pytest.mark.slow

#: Our routes check more than the schema says (a valid geometry, a known id), so a
#: schema-valid request may still be refused with a 4xx: that check is left out. So is
#: the one wanting ``Allow`` to list every documented method: ``OPTIONS`` on the items
#: lists what the *caller* may do (QGIS turns editing on when it lists POST; the public may
#: not edit). The ``Allow`` of a 405 is still checked (``unsupported_method``).
EXCLUDED = "positive_data_acceptance,allow_header_conformance"
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    live = LiveServer(
        env={
            "GEO_SERVICE_DERIVED_DIR": str(folder / "derived"),
            "GEO_SERVICE_STATE_DIR": str(folder / "state"),
            "GEO_SERVICE_RATE_LIMIT_PER_MINUTE": "100000",
        }
    )
    yield live
    live.stop()


def _fuzz(server: LiveServer, folder: Path, *options: str) -> str:
    """Run schemathesis on ``server``'s OpenAPI; assert it found nothing; its report."""
    command = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert command, "schemathesis is a dev dependency"
    result = subprocess.run(
        [
            command,
            "--config-file",
            str(CONFIG),
            "run",
            f"{server.url}/api",
            "--checks",
            "all",
            "--exclude-checks",
            EXCLUDED,
            "--max-examples",
            "25",
            "--generation-deterministic",
            "--request-timeout",
            "20",
            "--no-color",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-4000:]
    assert "No issues found" in report or "passed" in report.lower(), report[-2000:]
    assert server.process.poll() is None
    return report


def test_api_never_fails_and_keeps_its_schema(fuzz_server, tmp_path):
    _fuzz(fuzz_server, tmp_path)


def test_writes_never_fail_for_an_editor(tmp_path_factory, tmp_path):
    """The upload and edit operations fuzzed with a staff key (so past the key check,
    into the parsing and checks), over a copy of the demo data."""
    live, key = writable_server(
        tmp_path_factory.mktemp("fuzz-writes"), GEO_SERVICE_RATE_LIMIT_PER_MINUTE="100000"
    )
    try:
        report = _fuzz(
            live, tmp_path, "-H", f"X-API-Key: {key}", "--include-tag", "edits",
            "--include-tag", "uploads",
        )  # fmt: skip
        tested = re.search(r"Selected: (\d+)/(\d+)", report)
        assert tested and int(tested.group(1)) >= 7, report[-3000:]  # 5 edit + 3 upload
    finally:
        live.stop()
