"""HTML pages in a real (headless) Chromium, under the service's Content-Security-Policy."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

#: End to end: Chromium against `geo-service serve`.
pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _render(url: str, profile) -> tuple[str, str]:
    assert CHROMIUM, "Chromium is not installed (make test installs it)"
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=8000",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/docs",
            r'class="opblock-summary-path"[^>]*data-path="/collections/\{collectionId\}/items"',
        ),
        ("/collections/compounds/items?f=html&limit=5", r"<svg class=\"map\""),
        ("/?f=html", r"住宅小区"),
    ],
)
def test_page_renders_under_the_policy(server, tmp_path, path, expected):
    dom, log = _render(server.url + path, tmp_path / "profile")
    assert re.search(expected, dom), dom[:2000]
    assert "Content Security Policy" not in log and "Refused to" not in log, log[-2000:]
