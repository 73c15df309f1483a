"""HTML views of the API for people: page shell, tables and a small SVG map.

No script and no outside asset: the map is an inline SVG drawing of the features.
"""

from __future__ import annotations

from html import escape

import numpy as np
import shapely

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5rem auto;
max-width:62rem;padding:0 1rem;color:#222;line-height:1.45}
.notice{background:#fff3cd;border:1px solid #e0c060;padding:.6rem 1rem;border-radius:4px}
table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{text-align:left;
padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}a{color:#0b5394}
nav.crumbs{font-size:.9rem;margin-bottom:1rem}svg.map{border:1px solid #ccc;background:#f7fbff;
max-width:100%;height:auto}.paging a{margin-right:1rem}.scroll{overflow-x:auto}
code{background:#f3f3f3;padding:0 .2rem}
"""

SYNTHETIC_NOTICE = (
    "<p class='notice' role='note'><strong>合成示例数据</strong> — "
    "本服务加载的是合成的演示数据，并非真实调查数据。<br>"
    "<strong>Synthetic demo data</strong> — the layers served here are "
    "invented for demonstration, not surveyed.</p>"
)


def page(title: str, body: str, *, crumbs: list[tuple[str, str]] = (), synthetic: bool) -> str:
    """A whole HTML page."""
    trail = " › ".join(f"<a href='{escape(href)}'>{escape(text)}</a>" for text, href in crumbs)
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<nav class='crumbs' aria-label='breadcrumb'>{trail}</nav>"
        f"{SYNTHETIC_NOTICE if synthetic else ''}{body}</body></html>"
    )


def table(headers: list[str], rows: list[list[str]]) -> str:
    """An HTML table; cells are HTML already (escape text before)."""
    head = "".join(f"<th scope='col'>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        "</table></div>"
    )


def cell(value: object) -> str:
    """A property value as escaped table-cell text (empty for a missing value)."""
    missing = value is None or (isinstance(value, float) and value != value)
    return "" if missing else escape(str(value))


def link(href: str, text: str) -> str:
    """An escaped anchor."""
    return f"<a href='{escape(href)}'>{escape(text)}</a>"


def svg_map(
    geometries: np.ndarray, *, width: int = 640, height: int = 380, label: str = "map"
) -> str:
    """The geometries (lon/lat) drawn as an inline SVG, equirectangular at their latitude."""
    geometries = np.asarray(
        [g for g in geometries if g is not None and not g.is_empty], dtype=object
    )
    if not len(geometries):
        return ""
    minx, miny, maxx, maxy = shapely.total_bounds(geometries)
    aspect = np.cos(np.radians((miny + maxy) / 2))
    span_x = max((maxx - minx) * aspect, 1e-6)
    span_y = max(maxy - miny, 1e-6)
    scale = 0.94 * min(width / span_x, height / span_y)

    def xy(coords: np.ndarray) -> np.ndarray:
        x = (coords[:, 0] - minx) * aspect * scale + (width - span_x * scale) / 2
        y = height - ((coords[:, 1] - miny) * scale + (height - span_y * scale) / 2)
        return np.column_stack([x, y])

    shapes = []
    for geometry in shapely.get_parts(geometries):
        kind = geometry.geom_type
        if kind == "Point":
            x, y = xy(np.array(geometry.coords))[0]
            shapes.append(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='#c0392b'/>")
        elif kind == "LineString":
            shapes.append(
                f"<path d='{_path(xy(np.array(geometry.coords)))}' fill='none' "
                "stroke='#27ae60' stroke-width='1.5'/>"
            )
        elif kind == "Polygon":
            rings = [geometry.exterior, *geometry.interiors]
            d = " ".join(_path(xy(np.array(r.coords))) + "Z" for r in rings)
            shapes.append(
                f"<path d='{d}' fill='#2c7fb8' fill-opacity='0.35' stroke='#1d4f72' "
                "stroke-width='0.6' fill-rule='evenodd'/>"
            )
    return (
        f"<svg class='map' role='img' aria-label='{escape(label)}' viewBox='0 0 {width} "
        f"{height}' width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>"
        f"{''.join(shapes)}</svg>"
    )


def _path(points: np.ndarray) -> str:
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points)
