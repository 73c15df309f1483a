"""A local gazetteer of public place names for the locator's search box.

Each named feature of a public, non-derived layer becomes a :class:`Place` with a point
inside it and its name in Chinese, English, tone-less pinyin and pinyin initials, and its
other names (``aliases``: 区政府 for 滨湖区人民政府), each searchable the same ways. Pinyin
comes from ``pypinyin``, corrected by the phrase readings in ``place_pinyin.yaml``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pypinyin import Style, lazy_pinyin
from rapidfuzz.distance import DamerauLevenshtein
from rapidfuzz.process import cdist

from geo_service.data.catalog import Catalog
from geo_service.data.stores.base import LayerStore
from geo_service.data.yaml_text import load_yaml
from geo_service.errors import InvalidQuery

#: Phrase readings that override pypinyin.
PLACE_PINYIN_FILE = Path(__file__).with_name("place_pinyin.yaml")
#: Order of kinds (layer ids) among equally good matches; other kinds come after.
KIND_PRIORITY = (
    "communities",
    "subdistricts",
    "compounds",
    "service_centres",
    "landmarks",
    "pocket_parks",
    "trails",
    "roads",
)
#: Named public layers that are not places to look for: the whole map and its lakes.
SKIPPED_LAYERS = frozenset({"district", "water"})
#: The walking network's layer: its segments are found by street name, one place a street.
STREETS_LAYER = "roads"
MAX_QUERY_CHARS = 100
#: The column of a layer's other names, separated by ALIAS_SEPARATOR.
ALIASES_COLUMN, ALIAS_SEPARATOR = "aliases", ";"

_HAN_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_ASCII_TOKEN = re.compile(r"[a-z0-9]+")
_SYLLABLE = re.compile(r"^[a-z]+$")
_NOT_WORD = re.compile(r"[\W_]+")


def load_place_pinyin(path: Path = PLACE_PINYIN_FILE) -> dict[str, tuple[str, ...]]:
    """Phrase readings that override pypinyin.

    Parameters
    ----------
    path
        YAML mapping of a phrase of Chinese characters to its syllables, one per character.

    Returns
    -------
    dict
        Phrase → tuple of lower-case, tone-less syllables.

    Raises
    ------
    ValueError
        Naming the file and phrase if an entry is malformed.
    """
    raw = load_yaml(path.read_text(encoding="utf-8")) or {}
    readings: dict[str, tuple[str, ...]] = {}
    for phrase, syllables in raw.items():
        if not (isinstance(phrase, str) and _HAN_RUN.fullmatch(phrase)):
            raise ValueError(f"{path}: {phrase!r} is not a phrase of Chinese characters")
        if not isinstance(syllables, list) or len(syllables) != len(phrase):
            raise ValueError(f"{path}: {phrase!r} needs one syllable per character")
        if not all(isinstance(s, str) and _SYLLABLE.match(s) for s in syllables):
            raise ValueError(f"{path}: {phrase!r}: syllables must be lower-case letters")
        readings[phrase] = tuple(syllables)
    return readings


def _pypinyin(text: str) -> list[str]:
    return lazy_pinyin(text, style=Style.NORMAL, errors="ignore")


class Romaniser:
    """Tone-less pinyin of place names: phrase readings first (longest first), then
    pypinyin (``Style.NORMAL``, one reading per character) for the other characters."""

    def __init__(self, readings: Mapping[str, Sequence[str]]):
        self.readings = {phrase: tuple(syllables) for phrase, syllables in readings.items()}
        phrases = sorted(self.readings, key=len, reverse=True)
        self._phrases = re.compile("|".join(map(re.escape, phrases)) or r"(?!)")

    def _han(self, run: str) -> list[str]:
        syllables: list[str] = []
        start = 0
        for match in self._phrases.finditer(run):
            syllables += [*_pypinyin(run[start : match.start()]), *self.readings[match[0]]]
            start = match.end()
        return syllables + _pypinyin(run[start:])

    def __call__(self, name: str) -> tuple[str, str]:
        """Pinyin and initials of a name.

        Parameters
        ----------
        name
            A place name; runs of Latin letters and digits in it are kept whole.

        Returns
        -------
        tuple of str
            ``(pinyin, initials)``: lower-case syllables joined by spaces, e.g.
            ``"chang guang xi"``, and their first letters, e.g. ``"cgx"``.
        """
        words: list[str] = []
        initials: list[str] = []
        for k, run in enumerate(_HAN_RUN.split(unicodedata.normalize("NFKC", name))):
            if k % 2:  # a run of Chinese characters
                syllables = self._han(run)
                words += syllables
                initials += [s[0] for s in syllables]
            else:
                tokens = _ASCII_TOKEN.findall(run.casefold())
                words += tokens
                initials += tokens
        return " ".join(words), "".join(initials)


@lru_cache(maxsize=1)
def default_romaniser() -> Romaniser:
    """The romaniser with the readings of :data:`PLACE_PINYIN_FILE`."""
    return Romaniser(load_place_pinyin())


def squash(text: str) -> str:
    """``text`` as searched: without tone marks (``cháng`` → ``chang``), NFKC, case-folded,
    without whitespace or punctuation."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", bare).casefold())


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer entry: a named feature and a point (WGS 84) inside it."""

    layer: str
    feature_id: str
    name_zh: str
    name_en: str
    lon: float
    lat: float
    pinyin: str
    initials: str
    aliases: tuple[str, ...] = ()  # other names: short, official or colloquial

    @property
    def kind(self) -> str:
        """What the place is: its layer id."""
        return self.layer


def _rank_key(place: Place) -> tuple[int, str, str, str]:
    kind = KIND_PRIORITY.index(place.kind) if place.kind in KIND_PRIORITY else len(KIND_PRIORITY)
    return kind, place.pinyin, place.name_zh, place.feature_id


class Gazetteer:
    """Places searchable by Chinese or English name, pinyin and pinyin initials."""

    #: Rank of a match: exact, prefix, substring, near (a typo); no match is NO_MATCH.
    EXACT, PREFIX, SUBSTRING, NEAR, NO_MATCH = 0, 1, 2, 3, 4

    def __init__(self, places: Iterable[Place], romaniser: Romaniser | None = None):
        self.places = sorted(places, key=_rank_key)
        romaniser = romaniser or default_romaniser()
        # One row per name of a place: its own, then each alias; _owner[row] is the place.
        rows, owners = [], []
        for k, place in enumerate(self.places):
            rows.append((place.name_zh, place.name_en, place.pinyin, place.initials))
            for alias in place.aliases:
                han = bool(_HAN_RUN.search(alias))
                rows.append((alias if han else "", "" if han else alias, *romaniser(alias)))
            owners += [k] * (1 + len(place.aliases))
        self._owner = np.array(owners, dtype=int)
        self._fields = pd.DataFrame(
            {
                "zh": [squash(zh) for zh, *_ in rows],
                "en": [squash(en) for _, en, *_ in rows],
                "pinyin": [pinyin.replace(" ", "") for *_, pinyin, _ in rows],
                "initials": [initials for *_, initials in rows],
            },
            dtype=str,
        )

    def __len__(self) -> int:
        return len(self.places)

    def _ranks(self, column: str, text: str, substring: bool = True) -> np.ndarray:
        values = self._fields[column]
        rank = np.full(len(values), self.NO_MATCH)
        if substring:
            rank[values.str.contains(text, regex=False).to_numpy(dtype=bool)] = self.SUBSTRING
        rank[values.str.startswith(text).to_numpy(dtype=bool)] = self.PREFIX
        rank[(values == text).to_numpy(dtype=bool)] = self.EXACT
        return rank

    def search(self, query: str, limit: int = 10) -> list[Place]:
        """Places whose name matches ``query``, best first.

        Parameters
        ----------
        query
            Chinese or English name, pinyin with or without spaces, or pinyin initials;
            case, whitespace and punctuation are ignored. Names and pinyin match as a
            whole, a prefix or a substring; initials as a whole or a prefix; failing
            those all, a name or pinyin whose start is a typo away (see :meth:`_typos`).
        limit
            The most places to return (at least 1).

        Returns
        -------
        list of Place
            Exact matches, then prefixes, then substrings, then near ones (fewest edits
            first); ties in order of kind (:data:`KIND_PRIORITY`), then pinyin.

        Raises
        ------
        InvalidQuery
            For a query with no letter, digit or Chinese character, one over
            :data:`MAX_QUERY_CHARS` characters, or a limit below 1.
        """
        if len(query) > MAX_QUERY_CHARS:
            raise InvalidQuery(f"q must be at most {MAX_QUERY_CHARS} characters")
        text = squash(query)
        if not text:
            raise InvalidQuery("q must contain a letter, digit or Chinese character")
        if limit < 1:
            raise InvalidQuery("limit must be at least 1")
        rank = self._per_place(
            np.minimum.reduce(
                [
                    self._ranks("zh", text),
                    self._ranks("en", text),
                    self._ranks("pinyin", text),
                    self._ranks("initials", text, substring=False),
                ]
            )
        )
        typos = np.zeros(len(self.places), dtype=int)
        if not (rank < self.NO_MATCH).any():  # nothing as typed: forgive a typo
            typos = self._per_place(self._typos(text))
            rank[typos < self.NO_MATCH] = self.NEAR
        hits = np.flatnonzero(rank < self.NO_MATCH)
        hits = hits[np.lexsort((typos[hits], rank[hits]))][:limit]
        return [self.places[i] for i in hits]

    def _per_place(self, per_name: np.ndarray) -> np.ndarray:
        """The best (lowest) of each place's values over its names."""
        best = np.full(len(self.places), self.NO_MATCH)
        np.minimum.at(best, self._owner, per_name)
        return best

    def _typos(self, text: str) -> np.ndarray:
        """Per name, the fewest edits (insert, delete, substitute, swap two neighbours)
        between ``text`` and the start of its pinyin, English or Chinese name of the same
        length — NO_MATCH where more than a typo allows: one edit in up to 6 letters, two
        beyond; Chinese names from 3 characters on, one edit."""
        best = np.full(len(self._owner), self.NO_MATCH)
        han = bool(_HAN_RUN.search(text))
        if han:
            allowed = 1 if len(text) >= 3 else 0
        else:
            allowed = 0 if len(text) < 4 else (1 if len(text) <= 6 else 2)
        if not allowed:
            return best
        columns = ("zh",) if han else ("pinyin", "en", "zh")
        for column in columns:
            starts = [value[: len(text)] for value in self._fields[column]]
            edits = cdist([text], starts, scorer=DamerauLevenshtein.distance, workers=1)[0]
            best = np.minimum(best, np.where(edits <= allowed, edits, self.NO_MATCH))
        return best


def gazetteer_layers(catalog: Catalog) -> list[str]:
    """Ids of the layers the gazetteer reads: public, not derived, not skipped, named."""
    return [
        spec.id
        for spec in catalog
        if spec.access == "public"
        and not spec.derived
        and spec.id not in SKIPPED_LAYERS
        and {"name_zh", "name_en", "name"} & set(spec.property_names)
    ]


def _names(frame, column: str) -> list[str | None]:
    """The non-empty texts of ``column`` (None where empty or where the layer lacks it)."""
    values = frame[column] if column in frame.columns else [None] * len(frame)
    return [v if isinstance(v, str) and v else None for v in values]


def build_gazetteer(
    catalog: Catalog, store: LayerStore, romaniser: Romaniser | None = None
) -> Gazetteer:
    """The gazetteer of the named public places in ``store``.

    Parameters
    ----------
    catalog
        The catalog; only layers in :func:`gazetteer_layers` are read.
    store
        Where the features come from (EPSG:4326).
    romaniser
        Pinyin of names; :func:`default_romaniser` if not given.

    Returns
    -------
    Gazetteer
        One place per named feature, at a point on the surface of its polygon or line
        (the point itself for points), rounded to 1e-7 degree.
    """
    romaniser = romaniser or default_romaniser()
    places: list[Place] = []
    for layer_id in gazetteer_layers(catalog):
        frame = store.query(layer_id)
        if layer_id == STREETS_LAYER:
            frame = streets(frame)
        spec = catalog.get(layer_id)
        points = shapely.point_on_surface(frame.geometry.to_numpy())
        lons, lats = shapely.get_x(points), shapely.get_y(points)
        names = zip(
            frame[spec.id_property], _names(frame, "name_zh"), _names(frame, "name"),
            _names(frame, "name_en"), _names(frame, ALIASES_COLUMN), strict=True,
        )  # fmt: skip
        for (fid, zh, local, en, aliases), lon, lat in zip(names, lons, lats, strict=True):
            zh = zh or local or en  # the Chinese name, else the local one, else the English
            if not (zh and np.isfinite(lon) and np.isfinite(lat)):
                continue  # no name or no geometry: nothing to find or to show
            pinyin, initials = romaniser(zh)
            en = en or local or ""
            lon, lat = round(float(lon), 7), round(float(lat), 7)
            others = tuple(
                alias.strip() for alias in (aliases or "").split(ALIAS_SEPARATOR) if alias.strip()
            )
            places.append(Place(layer_id, str(fid), zh, en, lon, lat, pinyin, initials, others))
    return Gazetteer(places, romaniser)


def streets(segments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One feature per street name of the network's ``segments`` (EPSG:4326): id and
    names the street's, geometry its longest run of joined segments."""
    named = segments[segments["name"].map(lambda v: isinstance(v, str) and bool(v.strip()))]
    rows = []
    for name, group in named.groupby("name", sort=True):
        merged = shapely.line_merge(shapely.union_all(group.geometry.to_numpy()))
        parts = shapely.get_parts(merged)
        longest = parts[np.argmax(shapely.length(parts))] if len(parts) else None
        rows.append({"id": name, "name": name, "geometry": longest})
    return gpd.GeoDataFrame(rows, columns=["id", "name", "geometry"], crs=segments.crs)


def place_feature(place: Place) -> dict:
    """``place`` as a GeoJSON Point feature with id ``<layer>/<feature id>``."""
    return {
        "type": "Feature",
        "id": f"{place.layer}/{place.feature_id}",
        "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
        "properties": {
            "layer": place.layer,
            "feature_id": place.feature_id,
            "name_zh": place.name_zh,
            "name_en": place.name_en,
            "pinyin": place.pinyin,
            "initials": place.initials,
            "aliases": list(place.aliases),
        },
    }
