"""``/collections/{id}/uploads``: GIS staff replace a layer with a file, in two steps —
the check (the dry-run report of ``geo-service import file``), then the commit, onto the
version the check was made against (``If-Match``)."""

from __future__ import annotations

import json
from typing import Annotated

import yaml
from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from geo_service.api.deps import CallerDep, CollectionDep, StoreDep, editor, record_write
from geo_service.api.preconditions import if_match_version, version_etag
from geo_service.data.values import json_plain
from geo_service.data.yaml_text import load_yaml
from geo_service.errors import InvalidParameter, UnsupportedMediaType
from geo_service.importing.file_import import FileOptions
from geo_service.importing.uploading import check_upload, commit_upload
from geo_service.importing.uploads import PendingUpload

router = APIRouter(prefix="/collections", tags=["uploads"])

UploadId = Annotated[str, Path(alias="uploadId", description="The id the check gave.")]
_WRITE_ERRORS = {
    412: {"description": "The layer changed since the check, or If-Match names another"},
    422: {"description": "The report forbids the commit (rejected rows, failed checks)"},
    428: {"description": "If-Match is required"},
}


def _mapping(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        mapping = load_yaml(text)
    except yaml.YAMLError as exc:
        raise InvalidParameter(f"mapping: not YAML or JSON: {str(exc)[:200]}") from None
    if not isinstance(mapping, dict):
        raise InvalidParameter("mapping: give an object of column names (YAML or JSON)")
    return mapping


def _document(request: Request, upload: PendingUpload) -> dict:
    base = str(request.url_for("upload_status", collectionId=upload.layer, uploadId=upload.id))
    return {
        **upload.to_dict(),
        "committable": upload.refusal is None,
        "links": [
            {"rel": "self", "type": "application/json", "href": base},
            {"rel": "commit", "method": "POST", "href": f"{base}/commit"},
        ],
    }


def _answer(request: Request, upload: PendingUpload, status: int = 200) -> JSONResponse:
    document = _document(request, upload)
    headers = {"ETag": version_etag(upload.base_version)}
    if status == 201:
        headers["Location"] = document["links"][0]["href"]
    return JSONResponse(document, status_code=status, headers=headers)


@router.post(
    "/{collectionId}/uploads",
    summary="Check a file to replace the layer with (dry run)",
    status_code=201,
    responses={201: {"description": "Checked; the report, and the commit link"}},
)
async def upload_file(
    request: Request,
    spec: CollectionDep,
    caller: CallerDep,
    store: StoreDep,
    file: Annotated[
        UploadFile | None,
        File(
            description="The file: "
            + ", ".join((".geojson", ".gpkg", ".zip (Shapefile)", ".kml", ".fgb", ".csv", ".xlsx"))
        ),
    ] = None,
    crs: Annotated[str | None, Form(description="CRS if the file has none.")] = None,
    mapping: Annotated[str | None, Form(description="Column mapping, YAML or JSON.")] = None,
    x: Annotated[str | None, Form(description="CSV/XLSX column of x.")] = None,
    y: Annotated[str | None, Form(description="CSV/XLSX column of y.")] = None,
    encoding: Annotated[str | None, Form(description="Text encoding.")] = None,
    layer: Annotated[str | None, Form(description="Layer, sheet or Shapefile inside.")] = None,
) -> JSONResponse:
    """Check the file against the layer as ``geo-service import file`` does — features
    accepted and rejected with reasons, what would change, plausibility findings — and keep
    it for a commit. Nothing is written to the layer. The answer's ``ETag`` is the layer
    version the check was made against: send it as ``If-Match`` to commit."""
    author = editor(spec, caller)
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMediaType("send the file as multipart/form-data, in the field 'file'")
    if file is None:
        raise InvalidParameter("no file: send it in the multipart field 'file'")
    options = FileOptions(
        crs=crs, mapping=_mapping(mapping), x=x, y=y, encoding=encoding, layer=layer
    )
    settings = request.app.state.settings
    upload = await run_in_threadpool(
        check_upload,
        settings,
        store,
        spec,
        request.app.state.uploads,
        stream=file.file,
        filename=file.filename or "",
        content_type=file.content_type,
        options=options,
        author=author,
    )
    return _answer(request, upload, status=201)


@router.get("/{collectionId}/uploads/{uploadId}", summary="A checked upload and its report")
def upload_status(
    request: Request, spec: CollectionDep, caller: CallerDep, upload_id: UploadId
) -> JSONResponse:
    """The report of a pending upload, and the version it was checked against (ETag)."""
    editor(spec, caller)
    return _answer(request, request.app.state.uploads.get(spec.id, upload_id))


@router.delete(
    "/{collectionId}/uploads/{uploadId}", summary="Discard a checked upload", status_code=204
)
def discard_upload(
    request: Request, spec: CollectionDep, caller: CallerDep, upload_id: UploadId
) -> Response:
    """Forget a pending upload without writing it."""
    editor(spec, caller)
    uploads = request.app.state.uploads
    uploads.discard(uploads.get(spec.id, upload_id).id)
    return Response(status_code=204)


@router.post(
    "/{collectionId}/uploads/{uploadId}/commit",
    summary="Write a checked upload as the layer's new version",
    responses=_WRITE_ERRORS,
)
def commit_file(
    request: Request,
    spec: CollectionDep,
    caller: CallerDep,
    store: StoreDep,
    upload_id: UploadId,
    partial: Annotated[
        bool, Query(description="Write the accepted rows though others were rejected.")
    ] = False,
    force: Annotated[
        bool, Query(description="Write though a plausibility check found an error.")
    ] = False,
) -> JSONResponse:
    """Replace the layer by the checked file, as a new version — only if ``If-Match`` is
    the upload's ETag and the layer is still that version (else 412: check the file
    again), and the report allows it (else 422, nothing written)."""
    author = editor(spec, caller)
    uploads = request.app.state.uploads
    upload = uploads.get(spec.id, upload_id)
    record, report = commit_upload(
        request.app.state.settings,
        store,
        spec,
        uploads,
        upload,
        if_match=if_match_version(request),
        author=author,
        force=force,
        partial=partial,
    )
    record_write(request, caller, spec, record, action="upload")
    document = {"layer": spec.id, "version": record.to_dict(), "report": report.to_dict()}
    return JSONResponse(
        json.loads(json.dumps(document, default=json_plain)),
        headers={"ETag": version_etag(record.version)},
    )
