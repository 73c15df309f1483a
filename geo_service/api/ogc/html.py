"""HTML views of the API for people, rendered from the Jinja templates in ``templates/``
(page shell ``base.html``, table and link macros ``macros.html``, one template a page).

Autoescaping is on for every template: a value from the data reaches a page only as text.
A missing variable fails the render (``StrictUndefined``). No script and no outside asset:
the map is an inline SVG drawing of the features, built here from their coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
import shapely
from markupsafe import Markup

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def cell(value: object) -> str:
    """A property value as table-cell text (empty for a missing value)."""
    missing = value is None or (isinstance(value, float) and value != value)
    return "" if missing else str(value)


TEMPLATES.filters["cell"] = cell


def render(template: str, **context: object) -> str:
    """The page ``template`` (a file in ``templates/``) rendered with ``context``."""
    return TEMPLATES.get_template(template).render(**context)


@dataclass(frozen=True)
class SvgMap:
    """Geometries drawn for an inline SVG: its size and its shapes (markup made of
    numbers and constants only; the template adds the ``<svg>`` element and its label)."""

    width: int
    height: int
    shapes: Markup


def svg_map(geometries: np.ndarray, *, width: int = 640, height: int = 380) -> SvgMap | None:
    """The geometries (lon/lat) drawn equirectangular at their latitude (None if there is
    nothing to draw)."""
    geometries = np.asarray(
        [g for g in geometries if g is not None and not g.is_empty], dtype=object
    )
    if not len(geometries):
        return None
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
    # Only numbers (formatted floats) and constant text above: safe as markup.
    return SvgMap(width, height, Markup("".join(shapes)))


def _path(points: np.ndarray) -> str:
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points)
