"""``/``: the landing page, listing the layers the caller may see (HTML or JSON)."""

from __future__ import annotations

from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from geo_service import __version__
from geo_service.api.deps import StoreDep, VisibleLayersDep
from geo_service.data.catalog import LayerSpec

router = APIRouter(tags=["landing"])

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem;
max-width:60rem;color:#222}
.notice{background:#fff3cd;border:1px solid #e0c060;padding:.6rem 1rem;border-radius:4px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;
border-bottom:1px solid #ddd}a{color:#0b5394}
"""


def wants_html(request: Request, f: str | None) -> bool:
    """HTML unless ``f=json`` or the Accept header prefers JSON over HTML."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "json" not in accept


def _rows(layers: list[LayerSpec], counts: dict[str, int]) -> str:
    return "".join(
        f"<tr><td><a href='layers/{escape(s.id)}'>{escape(s.id)}</a></td>"
        f"<td>{escape(s.title.zh)}<br><small>{escape(s.title.en)}</small></td>"
        f"<td>{escape(s.geometry_type)}</td><td>{counts[s.id]}</td>"
        f"<td><a href='layers/{escape(s.id)}.geojson'>GeoJSON</a></td></tr>"
        for s in layers
    )


@router.get("/", summary="Landing page", response_model=None)
def landing(
    request: Request,
    layers: VisibleLayersDep,
    store: StoreDep,
    f: Annotated[Literal["json", "html"] | None, Query(description="Output format.")] = None,
) -> HTMLResponse | dict:
    """The service's title, a synthetic-data notice when it applies, and its layers."""
    counts = {s.id: store.count(s.id) for s in layers}
    synthetic = any(s.provenance.synthetic for s in layers)
    if not wants_html(request, f):
        return {
            "title": "geo_service",
            "version": __version__,
            "synthetic_demo_data": synthetic,
            "layers": [
                {
                    "id": s.id,
                    "title": s.title.model_dump(),
                    "count": counts[s.id],
                    "href": f"{request.base_url}layers/{s.id}",
                }
                for s in layers
            ],
            "links": [
                {"rel": "data", "href": f"{request.base_url}layers"},
                {"rel": "service-doc", "href": f"{request.base_url}docs"},
                {"rel": "service-desc", "href": f"{request.base_url}openapi.json"},
            ],
        }
    notice = (
        "<p class='notice' role='note'><strong>合成示例数据</strong> — "
        "本服务加载的是合成的演示数据，并非真实调查数据。<br>"
        "<strong>Synthetic demo data</strong> — the layers served here are "
        "invented for demonstration, not surveyed.</p>"
        if synthetic
        else ""
    )
    html = (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>geo_service</title><style>{_STYLE}</style></head><body>"
        "<h1>geo_service <small>服务覆盖地图 · service coverage</small></h1>"
        f"{notice}<h2>图层 Layers</h2><table><thead><tr><th>id</th><th>名称 Title</th>"
        f"<th>几何 Geometry</th><th>要素 Features</th><th>下载 Data</th></tr></thead><tbody>"
        f"{_rows(layers, counts)}</tbody></table>"
        "<p><a href='summary'>组织数据 Organisation figures</a> · "
        "<a href='docs'>API 文档 API docs</a> · <a href='healthz'>health</a></p></body></html>"
    )
    return HTMLResponse(html)
