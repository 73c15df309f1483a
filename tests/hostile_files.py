"""Files that must be refused: zips that would unpack outside their folder, symbolic
links, zip bombs, Shapefiles missing a part, files that are not what their name says.

Each case is built from a real Shapefile of the demo's service centres, so what makes it
hostile is the one thing changed.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.import_fixtures import (
    centres_with_chinese_fields,
    demo_layer,
    write_gbk_shapefile_zip,
)


@dataclass(frozen=True)
class Hostile:
    """An upload to refuse: its name, bytes and media type, the status and the words the
    refusal must carry."""

    filename: str
    content: bytes
    content_type: str
    status: int
    reason: str


def shapefile_parts(folder: Path) -> dict[str, bytes]:
    """The demo service centres as a GBK Shapefile with Chinese field names (as ArcGIS in
    China writes it; read with :data:`CENTRE_MAPPING`): ``{".shp": bytes, ...}``."""
    centres = centres_with_chinese_fields(demo_layer("service_centres"))
    path = write_gbk_shapefile_zip(centres, folder / "centres-gbk.zip")
    with zipfile.ZipFile(path) as archive:
        return {Path(n).suffix.lower(): archive.read(n) for n in archive.namelist()}


def zipped(members: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    """A zip of ``members`` (name: bytes), deflated; ``links`` are stored as symlinks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def hostile_files(folder: Path) -> dict[str, Hostile]:
    """Every hostile case, by name."""
    parts = shapefile_parts(folder)
    named = {f"centres{suffix}": data for suffix, data in parts.items()}
    without = {
        suffix: {n: d for n, d in named.items() if not n.endswith(suffix)}
        for suffix in (".shx", ".dbf")
    }
    bomb = {**named, "centres.dbf": b"\x00" * (20 * 1024**2)}
    zip_type = "application/zip"
    return {
        "dot-dot entry": Hostile(
            "centres.zip",
            zipped({**named, "../../escape.txt": b"x"}),
            zip_type,
            400,
            "would unpack outside its folder",
        ),
        "absolute entry": Hostile(
            "centres.zip",
            zipped({**named, "/tmp/escape.txt": b"x"}),
            zip_type,
            400,
            "would unpack outside its folder",
        ),
        "symlink entry": Hostile(
            "centres.zip",
            zipped({**named, "centres.prj": b"/etc/passwd"}, links=("centres.prj",)),
            zip_type,
            400,
            "symbolic link",
        ),
        "zip bomb": Hostile("centres.zip", zipped(bomb), zip_type, 400, "zip bomb"),
        "no .shx": Hostile("centres.zip", zipped(without[".shx"]), zip_type, 400, "no .shx"),
        "no .dbf": Hostile("centres.zip", zipped(without[".dbf"]), zip_type, 400, "no .dbf"),
        "not a zip": Hostile(
            "centres.zip", b"PK\x03\x04 but nothing after", zip_type, 400, "not a readable zip"
        ),
        "zip sent as csv": Hostile("centres.zip", zipped(named), "text/csv", 415, "sent as"),
        "lone .shp": Hostile(
            "centres.shp", parts[".shp"], "application/octet-stream", 415, "one .zip"
        ),
        "executable": Hostile(
            "centres.exe", b"MZ\x90\x00", "application/octet-stream", 415, "upload one of"
        ),
        "binary named geojson": Hostile(
            "centres.geojson", parts[".shp"], "application/geo+json", 415, "does not begin"
        ),
        "broken geojson": Hostile(
            "centres.geojson",
            b'{"type": "FeatureCollection", "features": [{"type": "Feat',
            "application/geo+json",
            400,
            "centres.geojson",
        ),
        "workbook bomb": Hostile(
            "centres.xlsx",
            zipped({"xl/worksheets/sheet1.xml": b" " * (20 * 1024**2)}),
            "application/octet-stream",
            400,
            "zip bomb",
        ),
    }
