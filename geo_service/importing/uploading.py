"""The two steps of an upload over HTTP, on a store: check a file (the dry run, kept as a
pending upload) and commit it — only onto the version it was checked against.

Both steps read files and build a walking network: callers run them off the event loop.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import IO

import geopandas as gpd

from geo_service.data.catalog import LayerSpec
from geo_service.data.stores.base import LayerStore
from geo_service.data.values import json_plain
from geo_service.data.versions import LayerVersion
from geo_service.errors import Conflict, PreconditionFailed, Unprocessable
from geo_service.importing.archive import ArchiveLimits
from geo_service.importing.file_import import (
    CurrentLayer,
    FileOptions,
    commit_refusal,
    plan_file_import,
)
from geo_service.importing.report import ImportReport, commit_import
from geo_service.importing.uploads import (
    PendingUpload,
    PendingUploads,
    check_upload_type,
    copy_bounded,
    safe_name,
)
from geo_service.settings import Settings

#: Bytes read to tell a file's type.
_HEAD_BYTES = 512


def current_in(store: LayerStore) -> CurrentLayer:
    """What an import compares with, read from ``store``."""

    def current(layer_id: str) -> gpd.GeoDataFrame | None:
        return store.query(layer_id) if store.has(layer_id) else None

    return current


def _plan(
    settings: Settings, store: LayerStore, spec: LayerSpec, path, options: FileOptions
) -> ImportReport:
    limits = ArchiveLimits(max_unpacked_bytes=settings.max_upload_unpacked_bytes)
    return plan_file_import(settings, spec, path, options, current_in(store), limits=limits)


def check_upload(
    settings: Settings,
    store: LayerStore,
    spec: LayerSpec,
    pending: PendingUploads,
    *,
    stream: IO[bytes],
    filename: str,
    content_type: str | None,
    options: FileOptions,
    author: str,
) -> PendingUpload:
    """Receive ``stream`` (the file called ``filename``) for layer ``spec``, check it as
    ``geo-service import file`` would against the layer as stored, and keep it as a
    pending upload with its report and the version it was checked against.

    Raises
    ------
    UnsupportedMediaType, PayloadTooLarge, ImportFailed
        The file is refused; nothing of it is kept.
    Conflict
        The store holds no data for the layer yet (import it first).
    """
    if not store.has(spec.id):
        raise Conflict(
            f"layer {spec.id!r} holds no data yet; load it first (geo-service import file)"
        )
    suffix = check_upload_type(filename, content_type, stream.read(_HEAD_BYTES))
    stream.seek(0)
    with pending.receiving() as folder:
        path = folder / safe_name(filename)
        copy_bounded(stream, path, settings.max_upload_bytes)
        base_version = store.version(spec.id)
        report = _plan(settings, store, spec, path, options)
        return pending.keep(
            path,
            layer=spec.id,
            filename=filename,
            suffix=suffix,
            options=asdict(options),
            base_version=base_version,
            author=author,
            report=json.loads(json.dumps(report.to_dict(), default=json_plain)),
            refusal=commit_refusal(report, force=False, partial=False),
        )


def commit_upload(
    settings: Settings,
    store: LayerStore,
    spec: LayerSpec,
    pending: PendingUploads,
    upload: PendingUpload,
    *,
    if_match: str,
    author: str,
    force: bool = False,
    partial: bool = False,
) -> tuple[LayerVersion, ImportReport]:
    """Write pending ``upload`` as the layer's new version, if ``if_match`` (the version
    the caller saw: the upload's ETag) is the version it was checked against and the layer
    is still that version. The file is checked again by the same code (the same report),
    the upload removed once written.

    Raises
    ------
    PreconditionFailed
        ``if_match`` is not the upload's version, or the layer changed since (check the
        file again).
    Unprocessable
        The report forbids the commit (:func:`commit_refusal`); nothing is written.
    """
    stale = (
        f"the upload was checked against version {upload.base_version!r} of {spec.id!r}; "
        "upload the file again to check it against the layer as it is now"
    )
    if if_match != upload.base_version:
        raise PreconditionFailed(f"If-Match names {if_match!r}; {stale}")
    if store.version(spec.id) != upload.base_version:
        raise PreconditionFailed(f"the layer changed since; {stale}")
    report = _plan(settings, store, spec, pending.file(upload), upload.file_options())
    refusal = commit_refusal(report, force=force, partial=partial)
    if refusal is not None:
        raise Unprocessable(f"not written: {refusal}")
    written = commit_import(
        report, spec, store, author=author, expected_version=upload.base_version, via="upload"
    )
    pending.discard(upload.id)
    record = next(v for v in reversed(store.history(spec.id)) if v.version == written)
    return record, report
