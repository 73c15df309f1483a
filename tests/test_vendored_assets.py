"""The vendored Leaflet assets match their manifest, the pinned npm versions and each other."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "geo_service" / "maps" / "static" / "vendor"
MANIFEST = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))
CSS_FILES = sorted(VENDOR.rglob("*.css"))
CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""")


def css_urls(css: Path) -> list[str]:
    """Every url(...) of a stylesheet, except data: URIs and #fragment-only references."""
    refs = [m.group(2).strip() for m in CSS_URL.finditer(css.read_text(encoding="utf-8"))]
    return [r for r in refs if not r.startswith(("data:", "#"))]


def test_manifest_files_exist_with_their_sha256() -> None:
    for package, entry in MANIFEST.items():
        for rel, digest in entry["files"].items():
            path = VENDOR / package / rel
            assert path.is_file(), path
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path


def test_manifest_versions_are_the_pinned_ones() -> None:
    pinned = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    assert {name: entry["version"] for name, entry in MANIFEST.items()} == pinned


def test_every_package_has_a_license() -> None:
    for package, entry in MANIFEST.items():
        assert "LICENSE" in entry["files"], package
        assert entry["license"], package


def test_no_stray_files() -> None:
    on_disk = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}
    listed = {f"{pkg}/{rel}" for pkg, entry in MANIFEST.items() for rel in entry["files"]}
    assert on_disk == listed | {"manifest.json"}


@pytest.mark.parametrize("css", CSS_FILES, ids=lambda p: p.relative_to(VENDOR).as_posix())
def test_css_urls_are_local_vendored_files(css: Path) -> None:
    for ref in css_urls(css):
        assert not re.match(r"(https?:)?//", ref, re.I), f"remote asset url({ref})"
        target = (css.parent / re.split(r"[?#]", ref)[0]).resolve()
        package_dir = VENDOR / css.relative_to(VENDOR).parts[0]
        assert target.is_relative_to(package_dir), f"url({ref}) leaves {package_dir.name}"
        assert target.is_file(), f"url({ref}) in {css.name} is not vendored"
