"""The report's map: an SVG drawn in the district's metric CRS (true to scale), with the
communities shaded by their share of residents within the widest circle (the planner
map's classes and colour-blind-safe colours), the gap compounds outlined, the centres,
a scale bar, a north arrow and a legend. No script, no tiles: it prints as vectors.
"""

from __future__ import annotations

from html import escape

import geopandas as gpd
import numpy as np
import shapely

#: The planner map's classes of the share within the widest circle (ColorBrewer RdYlBu).
SHARE_BREAKS = (0.25, 0.5, 0.75, 0.9)
SHARE_COLOURS = ("#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6")
SHARE_LABELS = ("≤25%", "25–50%", "50–75%", "75–90%", "90–100%")
WIDTH, HEIGHT, MARGIN = 640.0, 420.0, 12.0


class _Frame:
    """Metres of the metric CRS → SVG pixels, the same scale on both axes."""

    def __init__(self, bounds: np.ndarray):
        minx, miny, maxx, maxy = bounds
        span_x, span_y = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        self.scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
        self.x0 = minx - (WIDTH / self.scale - span_x) / 2
        self.y1 = maxy + (HEIGHT / self.scale - span_y) / 2

    def path(self, geometry: shapely.Geometry) -> str:
        parts = []
        for polygon in shapely.get_parts(geometry):
            rings = (
                [polygon.exterior, *polygon.interiors]
                if polygon.geom_type == "Polygon"
                else [polygon]
            )
            for ring in rings:
                xy = np.asarray(ring.coords)[:, :2]
                px = (xy[:, 0] - self.x0) * self.scale
                py = (self.y1 - xy[:, 1]) * self.scale
                closed = "Z" if polygon.geom_type == "Polygon" else ""
                points = "L".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py, strict=True))
                parts.append(f"M{points}{closed}")
        return " ".join(parts)

    def point(self, geometry: shapely.Geometry) -> tuple[float, float]:
        return (geometry.x - self.x0) * self.scale, (self.y1 - geometry.y) * self.scale


def _share_colour(share: float) -> str:
    if share is None or share != share:
        return "#cccccc"
    return SHARE_COLOURS[int(np.searchsorted(SHARE_BREAKS, share, side="left"))]


def _scale_bar(frame: _Frame) -> str:
    """A bar of a round length about a fifth of the map's width."""
    target = WIDTH / 5 / frame.scale
    length = max(
        v for v in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000) if v <= max(target, 50)
    )
    pixels = length * frame.scale
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    x, y = MARGIN, HEIGHT - MARGIN
    return (
        f"<g class='scale-bar'><rect x='{x}' y='{y - 6}' width='{pixels:.1f}' height='6' "
        f"fill='#222'/><text x='{x}' y='{y - 10}' font-size='11'>{label}</text></g>"
    )


def _north_arrow() -> str:
    x, y = WIDTH - MARGIN - 14, MARGIN + 4
    return (
        f"<g class='north-arrow' aria-label='north'><path d='M{x},{y + 28} L{x + 8},{y} "
        f"L{x + 16},{y + 28} L{x + 8},{y + 22} Z' fill='#222'/>"
        f"<text x='{x + 8}' y='{y + 42}' font-size='12' text-anchor='middle'>N 北</text></g>"
    )


def report_map(
    layers: dict[str, gpd.GeoDataFrame],
    metric_crs: object,
    *,
    widest_minutes: int,
    outline: shapely.Geometry | None = None,
    label: str = "map",
) -> str:
    """The map of ``layers`` (``communities`` with ``share_<widest>``, ``gaps``,
    ``centres``; EPSG:4326) in ``metric_crs``, around ``outline`` (EPSG:4326) if given."""
    metric = {k: v.to_crs(metric_crs) for k, v in layers.items() if len(v)}
    focus = (
        gpd.GeoSeries([outline], crs=4326).to_crs(metric_crs)
        if outline is not None
        else gpd.GeoSeries(
            np.concatenate([f.geometry.to_numpy() for f in metric.values()]), crs=metric_crs
        )
    )
    frame = _Frame(focus.total_bounds)
    shapes = []
    share = f"share_{widest_minutes}"
    for _, row in metric.get("communities", gpd.GeoDataFrame()).iterrows():
        shapes.append(
            f"<path d='{frame.path(row.geometry)}' fill='{_share_colour(row[share])}' "
            "stroke='#555' stroke-width='0.6'/>"
        )
    for geometry in metric.get("gaps", gpd.GeoDataFrame(geometry=[])).geometry:
        shapes.append(
            f"<path d='{frame.path(geometry)}' fill='none' stroke='#000' stroke-width='1.4'/>"
        )
    for geometry in metric.get("centres", gpd.GeoDataFrame(geometry=[])).geometry:
        x, y = frame.point(geometry.representative_point())
        shapes.append(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3.2' fill='#6a3d9a' stroke='#fff'/>")
    if outline is not None:
        shapes.append(
            f"<path d='{frame.path(focus.iloc[0])}' fill='none' stroke='#000' "
            "stroke-width='2' stroke-dasharray='6 3'/>"
        )
    return (
        f"<svg class='report-map' role='img' aria-label='{escape(label)}' "
        f"viewBox='0 0 {WIDTH:g} {HEIGHT:g}' font-family='Noto Sans CJK SC, sans-serif' "
        "xmlns='http://www.w3.org/2000/svg'>"
        f"<rect width='{WIDTH:g}' height='{HEIGHT:g}' fill='#f7fbff'/>"
        f"{''.join(shapes)}{_scale_bar(frame)}{_north_arrow()}"
        "</svg>"
    )


def legend(widest_minutes: int, centre_term: dict) -> list[tuple[str, str]]:
    """The map's legend: (colour, or ``gap`` / ``centre``, label zh/en); ``centre_term``
    names the district's centres (zh/en)."""
    rows = [
        (colour, f"{label} 居民{widest_minutes}分钟可达 · residents within {widest_minutes} min")
        for colour, label in zip(SHARE_COLOURS, SHARE_LABELS, strict=True)
    ]
    return [
        *rows,
        ("gap", "服务盲区小区（黑框） · gap compounds (black outline)"),
        ("centre", f"{centre_term['zh']} · {centre_term['en']} (purple dots)"),
    ]
