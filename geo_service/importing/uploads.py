"""Files uploaded to a layer over HTTP: refused at the door when they are not what they
say (:func:`check_upload_type`), received into a private folder, checked by the same dry
run as ``geo-service import file``, and kept as a *pending upload* until a second call
commits it — or it expires.

A pending upload is a folder ``UPLOADS/<id>/`` holding the file and ``upload.json`` (the
layer, the options it was read with, the version it was checked against, who sent it and
its report). Anything refused is removed with the request's own folder, so a refused file
leaves nothing behind.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO, Any

from geo_service.data.geojson_io import write_atomic
from geo_service.data.values import json_plain
from geo_service.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from geo_service.importing.file_import import FileOptions
from geo_service.importing.readers import FORMATS

#: Media types a client may send each file type as (besides application/octet-stream).
MEDIA_TYPES = {
    ".geojson": {"application/geo+json", "application/json", "text/plain"},
    ".json": {"application/geo+json", "application/json", "text/plain"},
    ".gpkg": {"application/geopackage+sqlite3", "application/x-sqlite3", "application/vnd.sqlite3"},
    ".zip": {"application/zip", "application/x-zip-compressed", "application/x-zip"},
    ".kml": {"application/vnd.google-earth.kml+xml", "application/xml", "text/xml"},
    ".fgb": {"application/flatgeobuf", "application/vnd.flatgeobuf"},
    ".csv": {"text/csv", "text/plain", "application/csv", "application/vnd.ms-excel"},
    ".xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
}
_ANY_TYPE = {"", "application/octet-stream"}
#: How binary formats begin.
_MAGIC = {
    ".gpkg": b"SQLite format 3\x00",
    ".fgb": b"fgb\x03",
    ".zip": b"PK\x03\x04",
    ".xlsx": b"PK\x03\x04",
}
#: How text formats begin, after a byte-order mark and white space.
_TEXT_START = {".geojson": b"{", ".json": b"{", ".kml": b"<"}
#: A folder without its record this old was left by a crash (no request lasts a day).
_ABANDONED_S = 24 * 3600
_UPLOAD_ID = re.compile(r"^[0-9a-f]{16}$")
_CHUNK = 1024**2


def check_upload_type(filename: str, content_type: str | None, head: bytes) -> str:
    """The file type (its name's ending) of an upload called ``filename``, sent as
    ``content_type``, whose first bytes are ``head`` — once the three agree.

    Raises
    ------
    UnsupportedMediaType
        The ending is not one we import (a lone ``.shp`` cannot be: its parts travel as a
        zip), the declared media type is another format's, or the bytes are not the format
        the name claims.
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".shp":
        raise UnsupportedMediaType(
            f"{filename}: a Shapefile is several files; upload its .shp, .shx, .dbf and "
            ".prj together as one .zip"
        )
    if suffix not in FORMATS:
        raise UnsupportedMediaType(
            f"{filename or 'the file'}: upload one of {', '.join(sorted(MEDIA_TYPES))}"
        )
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in _ANY_TYPE | MEDIA_TYPES[suffix]:
        raise UnsupportedMediaType(
            f"{filename} was sent as {media_type}; a {suffix} file is "
            f"{' or '.join(sorted(MEDIA_TYPES[suffix]))} (or application/octet-stream)"
        )
    magic = _MAGIC.get(suffix)
    if magic is not None and not head.startswith(magic):
        raise UnsupportedMediaType(f"{filename} is not a {FORMATS[suffix]} file (wrong signature)")
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    start = _TEXT_START.get(suffix)
    if start is not None and not text.startswith(start):
        raise UnsupportedMediaType(f"{filename} does not begin like a {FORMATS[suffix]} file")
    if magic is None and b"\x00" in head:
        raise UnsupportedMediaType(f"{filename} holds binary data; a {suffix} file is text")
    return suffix


def safe_name(filename: str) -> str:
    """``filename`` as a plain name to keep the file under: its last part (either slash),
    letters (any script), digits, ``.``, ``-`` and ``_`` only, not hidden, at most 100
    characters, its ending kept."""
    name = PureWindowsPath(PurePosixPath(filename).name).name
    suffix = Path(name).suffix.lower()
    stem = re.sub(r"[^\w.-]", "_", name[: len(name) - len(suffix)]).lstrip(".")[:100]
    return (stem or "upload") + suffix


def copy_bounded(stream: IO[bytes], path: Path, max_bytes: int) -> int:
    """Copy ``stream`` to ``path``, at most ``max_bytes`` (:class:`PayloadTooLarge`
    beyond). Returns the bytes copied."""
    copied = 0
    with path.open("wb") as out:
        while chunk := stream.read(_CHUNK):
            copied += len(chunk)
            if copied > max_bytes:
                raise PayloadTooLarge(f"the file is over {max_bytes:,} bytes")
            out.write(chunk)
    return copied


@dataclass(frozen=True)
class PendingUpload:
    """A checked upload waiting for its commit."""

    id: str
    layer: str
    filename: str
    suffix: str
    options: dict[str, Any]
    base_version: str
    author: str
    created: str
    expires: str
    report: dict[str, Any]
    refusal: str | None

    def file_options(self) -> FileOptions:
        """The options the file was read with."""
        return FileOptions(**self.options)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class PendingUploads:
    """The folder of pending uploads; expired ones are swept on every new upload."""

    def __init__(self, folder: Path, hours: float):
        self.folder = Path(folder)
        self.hours = hours

    @contextmanager
    def receiving(self) -> Iterator[Path]:
        """A private folder for one upload on its way in, removed on the way out."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".incoming-", dir=self.folder) as folder:
            yield Path(folder)

    def keep(self, received: Path, **fields: Any) -> PendingUpload:
        """Keep the file ``received`` as a pending upload described by ``fields`` (the
        :class:`PendingUpload` fields but id, created and expires); expired ones go."""
        self.sweep()
        now = datetime.now(UTC).replace(microsecond=0)
        upload = PendingUpload(
            id=secrets.token_hex(8),
            created=now.isoformat(),
            expires=(now + timedelta(hours=self.hours)).isoformat(),
            **fields,
        )
        folder = self.folder / upload.id
        folder.mkdir()
        shutil.move(received, folder / safe_name(upload.filename))
        text = json.dumps(upload.to_dict(), ensure_ascii=False, default=json_plain)
        write_atomic(folder / "upload.json", text)
        return upload

    def _folder(self, upload_id: str) -> Path:
        folder = self.folder / upload_id
        if not _UPLOAD_ID.match(upload_id) or not (folder / "upload.json").is_file():
            raise NotFound(f"no pending upload {upload_id!r} (committed, discarded or expired)")
        return folder

    def get(self, layer: str, upload_id: str) -> PendingUpload:
        """The pending upload ``upload_id`` to ``layer`` (:class:`NotFound` if none)."""
        folder = self._folder(upload_id)
        upload = PendingUpload(**json.loads((folder / "upload.json").read_text("utf-8")))
        if upload.layer != layer:
            raise NotFound(f"no pending upload {upload_id!r} to layer {layer!r}")
        if upload.expires < datetime.now(UTC).isoformat():
            raise NotFound(f"the upload {upload_id!r} expired at {upload.expires}")
        return upload

    def file(self, upload: PendingUpload) -> Path:
        """Where the upload's file is kept."""
        return self.folder / upload.id / safe_name(upload.filename)

    def discard(self, upload_id: str) -> None:
        """Remove a pending upload (:class:`NotFound` if none)."""
        shutil.rmtree(self._folder(upload_id))

    def sweep(self) -> list[str]:
        """Remove expired uploads (and folders a crash left half-made); returns their ids."""
        if not self.folder.is_dir():
            return []
        now = datetime.now(UTC).isoformat()
        removed = []
        for folder in self.folder.iterdir():
            meta = folder / "upload.json"
            try:
                expired = json.loads(meta.read_text("utf-8"))["expires"] < now
            except (OSError, ValueError, KeyError):  # half made, or still coming in
                age_s = datetime.now(UTC).timestamp() - folder.stat().st_mtime
                expired = age_s > _ABANDONED_S
            if expired:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed
