"""Vendor the browser assets of the map pages from npm into ``geo_service/maps/static/vendor/``.

The map pages load Leaflet and its plugins from our own service, never from a CDN. The versions
are pinned exactly in ``package.json`` / ``package-lock.json``; this script

1. runs ``npm ci`` in the repository root (skip with ``--no-install``),
2. rebuilds ``geo_service/maps/static/vendor/<package>/`` from ``node_modules`` with only the files
   a browser needs, byte for byte as published, plus every file their CSS ``url(...)`` refers to
   and the package's licence as ``LICENSE``,
3. fails loudly if any CSS ``url(...)`` does not resolve to a vendored file,
4. writes ``vendor/manifest.json``: version, SPDX licence, homepage and the sha256 of every file.

Usage: ``python3 scripts/vendor_assets.py [--no-install]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "geo_service" / "maps" / "static" / "vendor"

# package -> {path in the vendor dir: path in the npm package}. Files that the CSS refers to are
# added automatically (at the relative path the CSS uses), so only entry points and files used
# by the JS alone are listed. leaflet-search's CSS uses ``../images/``, hence its ``dist/`` dir.
PACKAGES: dict[str, dict[str, str]] = {
    "leaflet": {
        "leaflet.js": "dist/leaflet.js",
        "leaflet.css": "dist/leaflet.css",
        "images/layers.png": "dist/images/layers.png",
        "images/layers-2x.png": "dist/images/layers-2x.png",
        "images/marker-icon.png": "dist/images/marker-icon.png",
        "images/marker-icon-2x.png": "dist/images/marker-icon-2x.png",
        "images/marker-shadow.png": "dist/images/marker-shadow.png",
    },
    "leaflet.markercluster": {
        "leaflet.markercluster.js": "dist/leaflet.markercluster.js",
        "MarkerCluster.css": "dist/MarkerCluster.css",
        "MarkerCluster.Default.css": "dist/MarkerCluster.Default.css",
    },
    "leaflet.fullscreen": {
        # No minified build is published on npm (3.0.0 and 3.0.2 alike).
        "Control.FullScreen.js": "Control.FullScreen.js",
        "Control.FullScreen.css": "Control.FullScreen.css",
    },
    "leaflet.polylinemeasure": {
        # Plain Leaflet code; leaflet-measure compiles lodash templates with eval, which our
        # Content-Security-Policy forbids.
        "Leaflet.PolylineMeasure.js": "Leaflet.PolylineMeasure.js",
        "Leaflet.PolylineMeasure.css": "Leaflet.PolylineMeasure.css",
    },
    "leaflet-groupedlayercontrol": {
        "leaflet.groupedlayercontrol.min.js": "dist/leaflet.groupedlayercontrol.min.js",
        "leaflet.groupedlayercontrol.min.css": "dist/leaflet.groupedlayercontrol.min.css",
    },
    "leaflet.vectorgrid": {
        # Bundled with its decoders (pbf, @mapbox/vector-tile): vector tiles on the planner.
        "Leaflet.VectorGrid.bundled.min.js": "dist/Leaflet.VectorGrid.bundled.min.js",
    },
    "leaflet-search": {
        "dist/leaflet-search.min.js": "dist/leaflet-search.min.js",
        "dist/leaflet-search.min.css": "dist/leaflet-search.min.css",
    },
}

CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""")


def css_urls(css: str) -> list[str]:
    """Return the file references of a stylesheet: no data: URIs or #fragment-only ones (such as
    Leaflet's old-IE ``url(#default#VML)``), and with any ?query or #fragment cut off."""
    refs = [m.group(2).strip() for m in CSS_URL.finditer(css)]
    return [re.split(r"[?#]", r)[0] for r in refs if not r.startswith(("data:", "#"))]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def homepage(meta: dict) -> str:
    """The package's homepage, else its repository as an https URL."""
    if meta.get("homepage"):
        return meta["homepage"]
    repo = meta.get("repository", "")
    url = repo.get("url", "") if isinstance(repo, dict) else repo
    url = re.sub(r"^(git\+)?(git|ssh|https?)://(git@)?|^git@", "", url).replace(":", "/", 1)
    return "https://" + url.removesuffix(".git")


def copy_file(src: Path, dest: Path) -> None:
    if not src.is_file():
        sys.exit(f"vendor_assets: missing {src.relative_to(ROOT)} (did `npm ci` run?)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def copy_css_assets(pkg_src: Path, pkg_dest: Path, files: dict[str, str]) -> None:
    """Copy every file referenced by the copied CSS, at the relative path the CSS uses."""
    for dest_rel, src_rel in list(files.items()):
        if not dest_rel.endswith(".css"):
            continue
        for ref in css_urls((pkg_src / src_rel).read_text(encoding="utf-8")):
            if "//" in ref or ref.startswith("/"):
                sys.exit(f"vendor_assets: {pkg_dest.name}/{dest_rel} refers to remote {ref!r}")
            src = (pkg_src / src_rel).parent / ref
            dest = ((pkg_dest / dest_rel).parent / ref).resolve()
            if not dest.is_relative_to(pkg_dest):
                sys.exit(f"vendor_assets: {pkg_dest.name}/{dest_rel}: {ref!r} leaves the package")
            copy_file(src, dest)


def write_license(pkg_src: Path, pkg_dest: Path, meta: dict) -> str:
    """Copy the package's licence to LICENSE, or write one from package.json; say which."""
    found = [p for p in pkg_src.iterdir() if p.is_file() and re.search("licen[cs]e", p.name, re.I)]
    if found:
        src = min(found, key=lambda p: (len(p.name), p.name))  # LICENSE before LICENSE-xyz.txt
        copy_file(src, pkg_dest / "LICENSE")
        return f"copied from the package's {src.name}"
    author = meta.get("author", "")
    author = author.get("name", "") if isinstance(author, dict) else author
    notices: list[str] = []
    for path in sorted(pkg_src.glob("*.md")) + sorted(pkg_src.glob("dist/*.js")):
        notices += re.findall(r"^\W*((?:Copyright|\(c\)).*?)\s*$", path.read_text("utf-8"), re.M)
    text = (
        f"{meta['name']} {meta['version']} is licensed under {meta['license']} "
        f"(SPDX id from its package.json).\nAuthor: {author or 'unknown'}\n\n"
        + "\n".join(dict.fromkeys(notices))
    )
    (pkg_dest / "LICENSE").write_text(text.rstrip() + "\n", encoding="utf-8")
    return "generated: the package ships no licence file"


def check_css_urls(pkg_dest: Path) -> None:
    """Fail loudly unless every url(...) in the vendored CSS resolves to a vendored file."""
    for css in sorted(pkg_dest.rglob("*.css")):
        for ref in css_urls(css.read_text(encoding="utf-8")):
            target = css.parent / ref
            if not target.is_file():
                sys.exit(f"vendor_assets: {css.relative_to(VENDOR)}: url({ref}) is not vendored")


def vendor_package(name: str, files: dict[str, str]) -> dict:
    pkg_src = NODE_MODULES / name
    pkg_dest = VENDOR / name
    meta = json.loads((pkg_src / "package.json").read_text(encoding="utf-8"))
    for dest_rel, src_rel in files.items():
        copy_file(pkg_src / src_rel, pkg_dest / dest_rel)
    copy_css_assets(pkg_src, pkg_dest.resolve(), files)
    license_file = write_license(pkg_src, pkg_dest, meta)
    check_css_urls(pkg_dest)
    return {
        "version": meta["version"],
        "license": meta["license"],
        "license_file": license_file,
        "homepage": homepage(meta),
        "files": {
            p.relative_to(pkg_dest).as_posix(): sha256(p)
            for p in sorted(pkg_dest.rglob("*"))
            if p.is_file()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-install", action="store_true", help="do not run `npm ci` first")
    args = parser.parse_args()
    if not args.no_install:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)

    pinned = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    if set(pinned) != set(PACKAGES):
        sys.exit(f"vendor_assets: package.json dependencies {sorted(pinned)} != {sorted(PACKAGES)}")

    shutil.rmtree(VENDOR, ignore_errors=True)
    manifest = {name: vendor_package(name, files) for name, files in PACKAGES.items()}
    for name, entry in manifest.items():
        if entry["version"] != pinned[name]:
            sys.exit(f"vendor_assets: {name} {entry['version']} installed, {pinned[name]} pinned")
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (VENDOR / "manifest.json").write_text(text, encoding="utf-8")

    size = sum(p.stat().st_size for p in VENDOR.rglob("*") if p.is_file())
    count = sum(len(entry["files"]) for entry in manifest.values())
    print(f"vendored {count} files ({size / 1024:.0f} KiB) into {VENDOR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
