"""One reader per file format, each giving the file's table as read and what the file
says about itself (its CRS, text encoding, layer), before any mapping or reprojection.

Vector formats and XLSX (as text cells) are read by GDAL through pyogrio; CSV is decoded
here (UTF-8 with or without a byte-order mark, GBK/GB18030 fallback) and parsed by pandas.
A zipped Shapefile is unpacked into a temporary folder under fixed names, so the names
inside the zip (often GBK, sometimes with folders) never reach the file system.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
import pyogrio
import pyogrio.errors
from pyproj import CRS

from geo_service.crs import STORAGE_CRS
from geo_service.errors import ImportFailed
from geo_service.importing.archive import DEFAULT_LIMITS, ArchiveLimits, check_archive
from geo_service.importing.encodings import Encoding, check_codec, dbf_encoding, decode_text
from geo_service.importing.mapping import is_blank

#: File name endings read, and the format each is read as.
FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "Shapefile",
    ".kml": "KML",
    ".fgb": "FlatGeobuf",
    ".csv": "CSV",
    ".xlsx": "XLSX",
}
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
#: The parts without which a Shapefile is not one (GDAL would guess or drop the rest).
_REQUIRED_PARTS = (".shp", ".shx", ".dbf")
#: The KML drivers' own fields, dropped when they hold nothing but their defaults.
_KML_FIELDS = {
    "Name": None,
    "description": None,
    "Description": None,
    "timestamp": None,
    "begin": None,
    "end": None,
    "altitudeMode": None,
    "tessellate": -1,
    "extrude": 0,
    "visibility": -1,
    "drawOrder": None,
    "icon": None,
}
_GEOJSON_CRS_MEMBER = re.compile(rb'"crs"\s*:\s*\{')


@dataclass
class RawRead:
    """A file's table as read (a GeoDataFrame, or a DataFrame for CSV and XLSX) and what
    the file says about itself; ``declared`` is its CRS (None if it has none)."""

    frame: pd.DataFrame
    encoding: Encoding | None
    layer: str | None = None
    declared: CRS | None = None
    rfc7946: bool = False
    tabular: bool = False
    notes: list[str] = field(default_factory=list)


def _read_dataframe(path: Path, source: str, fmt: str, **kwargs: Any) -> pd.DataFrame:
    try:
        return pyogrio.read_dataframe(path, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ImportFailed(f"{source} cannot be read as {fmt}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            f"{source}: text is not {exc.encoding}; state the encoding with encoding="
        ) from exc


def _choose_layer(path: Path, wanted: str | None, source: str, notes: list[str]) -> str:
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise ImportFailed(f"{source} cannot be read: {exc}") from exc
    names = [str(name) for name, _ in layers]
    if wanted is not None:
        if wanted not in names:
            raise ImportFailed(f"{source} has no layer {wanted!r}; it has: {', '.join(names)}")
        return wanted
    if not names:
        raise ImportFailed(f"{source} holds no layers")
    chosen = ([str(name) for name, kind in layers if kind is not None] or names)[0]
    if len(names) > 1:
        notes.append(
            f"{source} holds layers {', '.join(names)}; read {chosen!r} (choose with layer=)"
        )
    return chosen


def _read_geojson(path: Path, *, layer: str | None, encoding: str | None, source: str) -> RawRead:
    frame = _read_dataframe(path, source, "GeoJSON")
    with path.open("rb") as handle:
        declares = bool(_GEOJSON_CRS_MEMBER.search(handle.read(65536)))
    fixed = Encoding("UTF-8", "fixed by the format (RFC 7946)")
    if declares:
        return RawRead(frame, fixed, declared=frame.crs)
    return RawRead(frame, fixed, declared=STORAGE_CRS, rfc7946=True)


def _read_layer(
    path: Path, *, layer: str | None, encoding: str | None, source: str, fmt: str
) -> RawRead:
    """GeoPackage, FlatGeobuf or KML: one layer, its CRS from the file."""
    notes: list[str] = []
    chosen = _choose_layer(path, layer, source, notes)
    frame = _read_dataframe(path, source, fmt, layer=chosen)
    if fmt == "KML":
        frame = frame.drop(columns=[c for c in _KML_FIELDS if _kml_boilerplate(frame, c)])
    fixed = Encoding("UTF-8", "fixed by the format")
    return RawRead(frame, fixed, layer=chosen, declared=frame.crs, notes=notes)


def _kml_boilerplate(frame: pd.DataFrame, column: str) -> bool:
    if column not in frame.columns:
        return False
    default = _KML_FIELDS[column]
    return bool(frame[column].map(lambda v: is_blank(v) or v == default).all())


def _check_parts(found: set[str], source: str, name: str) -> None:
    missing = [suffix for suffix in _REQUIRED_PARTS if suffix not in found]
    if missing:
        raise ImportFailed(
            f"{source}: the Shapefile {name!r} has no {' or '.join(missing)} file; a "
            "Shapefile needs its .shp, .shx and .dbf (and .prj for its CRS) side by side"
        )


def _read_shapefile(shp: Path, *, encoding: str | None, source: str) -> RawRead:
    parts = {p.suffix.lower(): p for p in shp.parent.iterdir() if p.stem == shp.stem}
    _check_parts(set(parts), source, shp.stem)
    kwargs: dict[str, str] = {}
    found: Encoding | None = None
    if encoding is not None:
        found = Encoding(encoding.upper(), "stated by the caller")
        kwargs["encoding"] = check_codec(encoding)
    elif ".cpg" in parts:  # GDAL reads the .cpg itself
        name = parts[".cpg"].read_text(encoding="ascii", errors="replace").strip()
        found = Encoding(name, "from the .cpg file")
    elif ".dbf" in parts:
        found = dbf_encoding(parts[".dbf"].read_bytes())
        kwargs["encoding"] = found.name
    frame = _read_dataframe(shp, source, "Shapefile", **kwargs)
    return RawRead(frame, found, layer=None, declared=frame.crs)


def _read_plain_shapefile(
    path: Path, *, layer: str | None, encoding: str | None, source: str
) -> RawRead:
    raw = _read_shapefile(path, encoding=encoding, source=source)
    raw.layer = path.stem
    return raw


def _member_name(member: zipfile.ZipInfo) -> str:
    """A zip member's name: zips made on Chinese Windows store GBK names without the
    UTF-8 flag, which Python reads as code page 437."""
    if member.flag_bits & 0x800:
        return member.filename
    raw = member.filename.encode("cp437")
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return member.filename


def _read_zipped_shapefile(
    path: Path,
    *,
    layer: str | None,
    encoding: str | None,
    source: str,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> RawRead:
    check_archive(path, source=source, limits=limits)
    with (
        zipfile.ZipFile(path) as archive,
        tempfile.TemporaryDirectory(prefix="geo-service-import-") as folder,
    ):
        members = {
            _member_name(m): m
            for m in archive.infolist()
            if not m.is_dir()
            and "__MACOSX/" not in m.filename
            and not PurePosixPath(m.filename).name.startswith("._")
        }
        shapefiles = sorted(n[:-4] for n in members if n.lower().endswith(".shp"))
        if not shapefiles:
            listed = ", ".join(members) or "nothing"
            raise ImportFailed(f"{source}: the zip holds no .shp file (it holds {listed})")
        names = [PurePosixPath(s).name for s in shapefiles]
        notes: list[str] = []
        if layer is not None and layer not in names:
            raise ImportFailed(f"{source} has no Shapefile {layer!r}; it has: {', '.join(names)}")
        stem = shapefiles[names.index(layer)] if layer is not None else shapefiles[0]
        if layer is None and len(shapefiles) > 1:
            notes.append(
                f"{source} holds Shapefiles {', '.join(names)}; read {names[0]!r} "
                "(choose with layer=)"
            )
        parts = {
            name[len(stem) :].lower(): member
            for name, member in members.items()
            if name.startswith(stem) and name[len(stem) :].lower() in _SHAPEFILE_PARTS
        }
        _check_parts(set(parts), source, PurePosixPath(stem).name)
        for suffix, member in parts.items():
            (Path(folder) / f"layer{suffix}").write_bytes(archive.read(member))
        raw = _read_shapefile(Path(folder) / "layer.shp", encoding=encoding, source=source)
    raw.layer, raw.notes = PurePosixPath(stem).name, notes
    return raw


def _read_csv(path: Path, *, layer: str | None, encoding: str | None, source: str) -> RawRead:
    text, found = decode_text(path.read_bytes(), encoding, source=source)
    header = text.split("\n", 1)[0]
    separator = max((",", "\t", ";"), key=header.count)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=separator, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportFailed(f"{source} cannot be read as CSV: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawRead(frame, found, tabular=True)


def _read_xlsx(
    path: Path,
    *,
    layer: str | None,
    encoding: str | None,
    source: str,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> RawRead:
    check_archive(path, source=source, limits=limits)  # a workbook is a zip
    notes: list[str] = []
    sheet = _choose_layer(path, layer, source, notes)
    frame = _read_dataframe(
        path, source, "XLSX", layer=sheet, HEADERS="FORCE", FIELD_TYPES="STRING"
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    fixed = Encoding("UTF-8", "fixed by the format")
    return RawRead(pd.DataFrame(frame), fixed, layer=sheet, tabular=True, notes=notes)


def read_raw(
    path: Path,
    *,
    layer: str | None,
    encoding: str | None,
    source: str,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> RawRead:
    """Read ``path`` in the format its name ends in (see :data:`FORMATS`).

    ``layer`` picks the GeoPackage/KML layer, XLSX sheet or Shapefile in a zip (default
    the first, noted when there are others); ``encoding`` is the caller's for CSV and DBF
    text; ``limits`` bound what a zip (Shapefile, XLSX) may unpack to. Raises
    :class:`ImportFailed` when the file cannot be read or is refused.
    """
    suffix = path.suffix.lower()
    readers: dict[str, Callable[..., RawRead]] = {
        ".zip": partial(_read_zipped_shapefile, limits=limits),
        ".shp": _read_plain_shapefile,
        ".csv": _read_csv,
        ".xlsx": partial(_read_xlsx, limits=limits),
        ".geojson": _read_geojson,
        ".json": _read_geojson,
    }
    reader = readers.get(suffix) or partial(_read_layer, fmt=FORMATS[suffix])
    return reader(path, layer=layer, encoding=encoding, source=source)
