"""The file store's layer files: read one and check it against its catalog entry, a digest
of its bytes (its version), and write one — checked, beside the target, then renamed over
it — as a new version of the layer."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo_service.crs import STORAGE_CRS
from geo_service.data.catalog import Catalog, LayerSpec
from geo_service.data.geojson_io import read_geojson, write_geojson
from geo_service.data.stores.file_history import FileHistory
from geo_service.data.validation import Problem, validate_layer
from geo_service.data.versions import LayerVersion, new_version
from geo_service.errors import DataValidationError, PreconditionFailed, StoreFull

log = logging.getLogger(__name__)


def read_layer(
    spec: LayerSpec, folder: Path, *, whole_layer: bool = True
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """Read the layer's file from ``folder`` and check it against ``spec``
    (``whole_layer``: see :func:`validate_layer`)."""
    path = Path(folder) / spec.source
    if not path.is_file():
        return None, [Problem(spec.id, str(path), "(file)", "data file does not exist")]
    try:
        frame = read_geojson(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        return None, [Problem(spec.id, str(path), "(file)", f"cannot be read: {exc}")]
    problems = [
        Problem(p.layer, str(path), p.field, p.message)
        for p in validate_layer(spec, frame, whole_layer=whole_layer)
    ]
    if frame.empty:  # an empty file has no columns: give it the catalog's
        frame = gpd.GeoDataFrame(
            {name: pd.Series([], dtype=object) for name in spec.property_names},
            geometry=gpd.GeoSeries([], crs=STORAGE_CRS),
        )
    missing = [name for name in spec.property_names if name not in frame.columns]
    if missing:  # optional properties the file lacks are null, as in the PostGIS store
        geometry = frame.geometry.name
        frame = frame.assign(
            **{name: pd.Series(None, index=frame.index, dtype=object) for name in missing}
        )
        frame = frame[[*(c for c in frame.columns if c != geometry), geometry]]
    return frame, problems


def check_data(
    catalog: Catalog, data_dir: Path, derived_dir: Path | None = None
) -> dict[str, list[Problem]]:
    """Every layer's problems (an empty list for a clean layer); derived layers are
    checked when ``derived_dir`` is given."""
    return {
        spec.id: read_layer(spec, derived_dir if spec.derived else data_dir)[1]
        for spec in catalog
        if derived_dir is not None or not spec.derived
    }


def file_version(path: Path) -> str:
    """A digest of the file's bytes: the same content, the same version, wherever it is."""
    digest = hashlib.blake2b(digest_size=12)
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_layer_file(
    spec: LayerSpec,
    frame: gpd.GeoDataFrame,
    folder: Path,
    *,
    description: str,
    whole_layer: bool = True,
    checked: bool = False,
) -> gpd.GeoDataFrame:
    """Write ``frame`` as ``spec``'s file in ``folder``: written beside the target, read
    back and checked against ``spec``, and only then renamed over it, so a refused or failed
    write leaves the layer's file as it was. Returns the frame as read back.

    Raises :class:`DataValidationError` naming the problems if the result would not pass the
    layer's checks (``whole_layer``: see :func:`validate_layer`); ``checked``: the caller
    has checked ``frame`` already, only what is read back is.
    """
    if not checked:  # what is written, then what is read back
        _refuse(spec, validate_layer(spec, frame, whole_layer=whole_layer))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with _disk_full_undone(spec):
        fd, name = tempfile.mkstemp(prefix=_staged_prefix(spec), suffix=".geojson", dir=folder)
        os.close(fd)
        staged = Path(name)
        try:
            write_geojson(frame, staged, name=spec.id, description=description)
            written, problems = read_layer(
                spec.model_copy(update={"source": staged.name}), folder, whole_layer=whole_layer
            )
            _refuse(spec, problems)
            staged.replace(folder / spec.source)
        finally:
            staged.unlink(missing_ok=True)
    return written


def _staged_prefix(spec: LayerSpec) -> str:
    return f".{spec.source}.write-"


@contextmanager
def _disk_full_undone(spec: LayerSpec) -> Iterator[None]:
    """Turn a full disk in the middle of a write into :class:`StoreFull` (the staged file
    is removed by the writer; the layer's file was never touched)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise StoreFull(
            f"{spec.source} is left unchanged: the disk is full ({exc.strerror})"
        ) from None


def _remove_leftovers(spec: LayerSpec, folder: Path, history: FileHistory) -> list[Path]:
    """Files a writer killed mid-write left (staged layer files, half-made copies and
    records); only called under the layer's lock, when no writer of it is running."""
    leftovers = [
        *folder.glob(f".{spec.source}.*"),
        *folder.glob(f"..{spec.source}.*"),
        *history.leftovers(spec.id),
    ]
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


def write_layer_version(
    spec: LayerSpec,
    frame: gpd.GeoDataFrame,
    folder: Path,
    *,
    description: str,
    author: str | None = None,
    source: str = "write",
    before: tuple[str, gpd.GeoDataFrame] | None = None,
    expected_version: str | None = None,
    keep_versions: int | None = None,
    whole_layer: bool = True,
) -> tuple[gpd.GeoDataFrame, LayerVersion, tuple | None]:
    """Write source layer ``spec``'s file in ``folder`` as a new version, holding the
    layer's lock (other processes wait): the file it replaces is kept first
    (``FOLDER/.history``), the file written as :func:`write_layer_file` does, then the
    version recorded. ``expected_version``: write only if the file is still that version,
    else :class:`PreconditionFailed`. ``before``: (version, frame) of the layer as the
    caller has it, used when still current (else the file is read). ``keep_versions``:
    prune older versions after; ``whole_layer``: see :func:`validate_layer`. Returns the
    frame as read back, the record and the written file's :func:`file_stat_key` — all
    taken under the lock, so they describe the same file even if another writer replaces
    it right after."""
    _refuse(spec, validate_layer(spec, frame, whole_layer=whole_layer))
    folder = Path(folder)
    history = FileHistory(folder)
    path = folder / spec.source
    with history.lock(spec.id), _disk_full_undone(spec):
        _remove_leftovers(spec, folder, history)
        current = file_version(path) if path.is_file() else None
        if expected_version is not None and expected_version != current:
            raise PreconditionFailed(
                f"layer {spec.id!r} is at version {current}, not {expected_version}: "
                "read it again and redo the change"
            )
        records = history.recorded(spec.id)
        previous = None
        if current is not None:
            previous = (
                before[1]
                if before and before[0] == current
                else read_layer(spec, folder, whole_layer=False)[0]
            )
            count = 0 if previous is None else len(previous)
            records = history.records(spec.id, path, current, count)
            history.keep_copy(spec.id, records[-1].number, path)
        written = write_layer_file(
            spec, frame, folder, description=description, whole_layer=whole_layer, checked=True
        )
        try:
            record = new_version(
                spec,
                previous,
                written,
                number=records[-1].number + 1 if records else 1,
                version=file_version(path),
                author=author,
                source=source,
                description=description,
            )
            stat = file_stat_key(path)  # of the file written, before another writer's turn
            history.keep_copy(spec.id, record.number, path)
            history.save(spec.id, [*records, record])
        except BaseException:  # written but not recorded (a full disk): put it back
            _put_back(path, history.copy_path(spec.id, records[-1].number) if current else None)
            raise
        if keep_versions:
            try:
                history.prune(spec.id, [*records, record], keep_versions)
            except OSError as exc:  # the version is written; pruning waits for the next
                log.warning("%s: could not prune old versions: %s", spec.id, exc)
    return written, record, stat


def _put_back(path: Path, previous_copy: Path | None) -> None:
    """Make ``previous_copy`` (the kept copy of the version a write replaced; None: there
    was none) the layer's file again — by a hard link and a rename, which need no space."""
    if previous_copy is None:
        path.unlink(missing_ok=True)
        return
    staged = path.with_name(f".{path.name}.back-{os.getpid()}")
    staged.unlink(missing_ok=True)
    os.link(previous_copy, staged)
    staged.replace(path)


def _refuse(spec: LayerSpec, problems: list[Problem]) -> None:
    if problems:
        raise DataValidationError(
            f"{spec.source} is left unchanged: "
            + "; ".join(f"{p.field}: {p.message}" for p in problems)
        )


def file_stat_key(path: Path) -> tuple | None:
    """What changes when a file is replaced: inode, size and modification time."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
