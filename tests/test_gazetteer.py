"""The locator's gazetteer: pinyin of place names, search and ranking, public layers only,
and ``/locator/places``."""

from __future__ import annotations

import pytest
import shapely

from geo_service.data.catalog import Catalog
from geo_service.data.gazetteer import (
    MAX_QUERY_CHARS,
    Gazetteer,
    Place,
    Romaniser,
    build_gazetteer,
    default_romaniser,
    gazetteer_layers,
    load_place_pinyin,
)
from geo_service.data.stores import FileStore
from geo_service.errors import InvalidQuery
from tests.support import DATA_DIR

NAMED_PUBLIC = {
    "roads",
    "communities",
    "subdistricts",
    "compounds",
    "service_centres",
    "landmarks",
    "pocket_parks",
    "trails",
}


@pytest.fixture(scope="module")
def store(catalog) -> FileStore:
    return FileStore(catalog, DATA_DIR)


@pytest.fixture(scope="module")
def gazetteer(catalog, store) -> Gazetteer:
    return build_gazetteer(catalog, store)


def names(places: list[Place]) -> list[tuple[str, str]]:
    return [(p.layer, p.name_zh) for p in places]


# --- pinyin ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pinyin", "initials"),
    [
        ("长广溪", "chang guang xi", "cgx"),
        ("长广溪湿地", "chang guang xi shi di", "cgxsd"),
        ("河埒街道", "he lie jie dao", "hljd"),
        ("蠡湖街道", "li hu jie dao", "lhjd"),
        ("蠡园示例03社区", "li yuan shi li 03 she qu", "lysl03sq"),
        ("胡埭镇", "hu dai zhen", "hdz"),
        ("荣巷社区", "rong xiang she qu", "rxsq"),
        ("华庄", "hua zhuang", "hz"),
        ("大浮", "da fu", "df"),
        ("漆塘", "qi tang", "qt"),
        ("马山", "ma shan", "ms"),
        ("太湖", "tai hu", "th"),
        ("雪浪", "xue lang", "xl"),
        ("示例小区 HL01-01", "shi li xiao qu hl01 01", "slxqhl0101"),
        ("示例小区 ＨＬ０１", "shi li xiao qu hl01", "slxqhl01"),  # full-width letters
    ],
)
def test_place_names_get_tone_less_pinyin_and_initials(name, pinyin, initials):
    assert default_romaniser()(name) == (pinyin, initials)


def test_longest_phrase_reading_wins():
    romanise = Romaniser({"长": ["zhang"], "长广溪": ["chang", "guang", "xi"]})
    assert romanise("长广溪社区") == ("chang guang xi she qu", "cgxsq")
    assert romanise("长大") == ("zhang da", "zd")


def test_the_readings_file_has_one_syllable_per_character():
    readings = load_place_pinyin()
    assert readings["长广溪"] == ("chang", "guang", "xi")
    assert readings["胡埭"] == ("hu", "dai")
    for phrase, syllables in readings.items():
        assert len(syllables) == len(phrase)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("长广溪: [chang, guang]\n", "one syllable per character"),
        ("长广溪: [Chang, guang, xi]\n", "lower-case letters"),
        ("abc: [a, b, c]\n", "not a phrase of Chinese characters"),
    ],
)
def test_a_malformed_reading_is_refused(tmp_path, text, message):
    path = tmp_path / "readings.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_place_pinyin(path)


# --- which places ---------------------------------------------------------------------


def test_only_named_public_source_layers_are_indexed(catalog, gazetteer, demo):
    assert set(gazetteer_layers(catalog)) == NAMED_PUBLIC
    assert {p.layer for p in gazetteer.places} == NAMED_PUBLIC
    assert all(catalog.get(p.layer).access == "public" for p in gazetteer.places)
    assert not any(catalog.get(p.layer).derived for p in gazetteer.places)
    streets = demo["roads"]["name"].dropna().nunique()  # one place a street, not a segment
    assert len(gazetteer) == streets + sum(len(demo[layer]) for layer in NAMED_PUBLIC - {"roads"})
    assert "central_households" not in {p.kind for p in gazetteer.places}


def test_a_layer_that_is_not_public_is_left_out(catalog, store):
    communities = catalog.get("communities")
    subdistricts = catalog.get("subdistricts")
    for access in ("internal", "restricted"):
        hidden = communities.model_copy(update={"access": access})
        places = build_gazetteer(Catalog([hidden, subdistricts]), store).places
        assert {p.layer for p in places} == {"subdistricts"}
        assert len(places) == 7


def test_points_lie_inside_their_features(gazetteer, demo):
    for layer in ("communities", "compounds", "subdistricts"):
        frame = demo[layer].set_index("id")
        for place in (p for p in gazetteer.places if p.layer == layer):
            point = shapely.Point(place.lon, place.lat)
            assert frame.geometry[place.feature_id].buffer(1e-7).contains(point)
    trails = demo["trails"].set_index("id")
    for place in (p for p in gazetteer.places if p.layer == "trails"):
        assert (
            trails.geometry[place.feature_id].distance(shapely.Point(place.lon, place.lat)) < 1e-7
        )
    centres = demo["service_centres"].set_index("id")
    centre = next(p for p in gazetteer.places if p.name_zh == "大箕山社区党群服务中心")
    point = centres.geometry[centre.feature_id]
    assert (centre.lon, centre.lat) == (round(point.x, 7), round(point.y, 7))


# --- search ---------------------------------------------------------------------------

DAJISHAN = [
    ("communities", "大箕山社区"),
    ("service_centres", "大箕山社区党群服务中心"),
    ("pocket_parks", "大箕山社区党建小游园"),
    ("trails", "大箕山社区党建步道"),
]


@pytest.mark.parametrize(
    "query", ["大箕山", "大箕山 ", "dajishan", "da ji shan", "DaJiShan", "djs", "DJS", "dajish"]
)
def test_search_by_characters_pinyin_or_initials(gazetteer, query):
    assert names(gazetteer.search(query)) == DAJISHAN


def test_search_by_english_name_ignores_case_and_spaces(gazetteer):
    assert names(gazetteer.search("DAJISHAN community")) == DAJISHAN
    found = gazetteer.search("party-building POCKET park", limit=50)
    assert len(found) == 36
    assert {p.layer for p in found} == {"pocket_parks"}
    xiyuan = gazetteer.search("xiyuan community party")
    assert names(xiyuan) == [
        ("service_centres", "西园社区党群服务中心"),
        ("pocket_parks", "西园社区党建小游园"),
        ("trails", "西园社区党建步道"),
    ]


def test_search_corrected_readings(gazetteer):
    assert names(gazetteer.search("hudaizhen", limit=1)) == [("subdistricts", "胡埭镇")]
    assert names(gazetteer.search("heliejiedao", limit=1)) == [("subdistricts", "河埒街道")]
    assert names(gazetteer.search("lhjd", limit=1)) == [("subdistricts", "蠡湖街道")]


def test_pinyin_with_tone_marks_is_found(gazetteer):
    assert names(gazetteer.search("Hú Dài Zhèn", limit=1)) == [("subdistricts", "胡埭镇")]
    assert names(gazetteer.search("róngxiàng shèqū", limit=1)) == [("communities", "荣巷社区")]


def test_exact_before_prefix_before_substring_on_real_names(gazetteer):
    found = gazetteer.search("西园社区")
    assert names(found) == [
        ("communities", "西园社区"),
        ("service_centres", "西园社区党群服务中心"),
        ("pocket_parks", "西园社区党建小游园"),
        ("trails", "西园社区党建步道"),
    ]
    assert found[0].feature_id == "LY02"
    rongxiang = gazetteer.search("荣巷", limit=50)
    assert names(rongxiang[:2]) == [("communities", "荣巷社区"), ("communities", "荣巷示例03社区")]
    kinds = [p.layer for p in rongxiang]
    assert kinds.index("subdistricts") > max(i for i, k in enumerate(kinds) if k == "communities")


def test_match_quality_outranks_kind():
    def place(layer: str, name_zh: str, name_en: str) -> Place:
        pinyin, initials = default_romaniser()(name_zh)
        return Place(layer, name_zh, name_zh, name_en, 120.2, 31.5, pinyin, initials)

    gazetteer = Gazetteer(
        [
            place("communities", "北湖景社区", "Beihujing Community"),  # substring
            place("trails", "湖景", "Hujing"),  # exact
            place("communities", "湖景社区", "Hujing Community"),  # prefix
            place("subdistricts", "湖景街道", "Hujing Subdistrict"),  # prefix
            place("compounds", "西园", "Xiyuan"),  # no match
        ]
    )
    expected = ["湖景", "湖景社区", "湖景街道", "北湖景社区"]
    for query in ("湖景", "hujing", "hu jing", "HUJING"):
        assert [p.name_zh for p in gazetteer.search(query)] == expected
    assert [p.name_zh for p in gazetteer.search("hj")] == ["湖景", "湖景社区", "湖景街道"]
    assert [p.name_zh for p in gazetteer.search("湖景", limit=2)] == expected[:2]
    assert gazetteer.search("太湖") == []


@pytest.mark.parametrize("query", ["", "   ", "-", "·!?", "x" * (MAX_QUERY_CHARS + 1)])
def test_empty_or_over_long_queries_are_refused(gazetteer, query):
    with pytest.raises(InvalidQuery):
        gazetteer.search(query)


def test_a_limit_below_one_is_refused(gazetteer):
    with pytest.raises(InvalidQuery, match="limit"):
        gazetteer.search("湖", limit=0)


# --- /locator/places ------------------------------------------------------------------


def test_places_endpoint_returns_points_in_the_district(api, demo):
    response = api.get("/locator/places", params={"q": "dajishan"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    assert "大箕山社区".encode() in response.content  # UTF-8, not \\u escapes
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == len(body["features"]) == 4
    first = body["features"][0]
    assert first["id"] == "communities/RX02"
    assert first["properties"] == {
        "layer": "communities",
        "feature_id": "RX02",
        "name_zh": "大箕山社区",
        "name_en": "Dajishan Community",
        "pinyin": "da ji shan she qu",
        "initials": "djssq",
        "aliases": [],
    }
    community = demo["communities"].set_index("id").geometry["RX02"]
    assert community.contains(shapely.Point(first["geometry"]["coordinates"]))
    west, south, east, north = demo["district"].total_bounds
    for feature in body["features"]:
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert west <= lon <= east and south <= lat <= north
        layer, feature_id = feature["id"].split("/")
        assert feature_id in set(demo[layer]["id"])


def test_places_endpoint_limit(api):
    body = api.get("/locator/places", params={"q": "rx", "limit": 3}).json()
    assert [f["properties"]["name_zh"] for f in body["features"]] == [
        "荣巷社区",
        "荣巷示例03社区",
        "荣巷示例04社区",
    ]
    many = api.get("/locator/places", params={"q": "社区", "limit": 50}).json()
    assert len(many["features"]) == 50
    assert api.get("/locator/places", params={"q": "no such place"}).json()["features"] == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * (MAX_QUERY_CHARS + 1)},
        {"q": "湖", "limit": 0},
        {"q": "湖", "limit": 1000},
        {"q": "湖", "limit": "ten"},
        {"q": "湖", "kind": "communities"},
    ],
)
def test_places_endpoint_refuses_bad_queries(api, params):
    response = api.get("/locator/places", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "description"}
    assert body["description"]


# --- forgiving search ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "meant"),
    [
        ("shuixui", "水秀社区"),  # two letters swapped
        ("shuixu", "水秀社区"),  # one left out
        ("shuiixiu", "水秀社区"),  # one too many
        ("水绣社区", "水秀社区"),  # a wrong character (绣 for 秀)
        ("dajishen", "大箕山社区"),  # one wrong letter
    ],
)
def test_a_typo_still_finds_the_place(gazetteer, query, meant):
    found = gazetteer.search(query, limit=5)
    assert found and found[0].name_zh == meant, names(found)


@pytest.mark.parametrize("query", ["水绣", "zzzzzzzz", "qqqqq", "hxyz"])
def test_short_or_far_queries_are_not_stretched(gazetteer, query):
    assert gazetteer.search(query, limit=5) == []


@pytest.mark.parametrize(
    "query", ["蠡湖大道", "蠡湖大", "蠡湖大到", "lihudadao", "li hu da dao", "lhdd", "lihudadoa"]
)
def test_a_street_is_not_taken_for_the_subdistrict_that_shares_its_name(query):
    romaniser = default_romaniser()

    def place(layer: str, name: str) -> Place:
        pinyin, initials = romaniser(name)
        return Place(layer, name, name, "", 120.28, 31.53, pinyin, initials, ())

    gazetteer = Gazetteer(
        [place("subdistricts", "蠡湖街道"), place("roads", "蠡湖大道"), place("roads", "湖滨路")],
        romaniser,
    )
    assert names(gazetteer.search(query, limit=3))[0] == ("roads", "蠡湖大道")


def test_streets_are_found_by_name_once_each(gazetteer, demo):
    name = demo["roads"]["name"].dropna().iloc[0]
    found = [p for p in gazetteer.search(name, limit=10) if p.layer == "roads"]
    assert [p.name_zh for p in found][:1] == [name]
    assert len([p for p in gazetteer.places if p.name_zh == name]) == 1
    segments = demo["roads"][demo["roads"]["name"] == name]
    point = shapely.Point(found[0].lon, found[0].lat)
    assert shapely.distance(segments.geometry.to_numpy(), point).min() < 1e-6  # on the street
    typed = gazetteer.search(found[0].pinyin.replace(" ", "")[:-1] + "x", limit=3)
    assert typed and typed[0].name_zh == name  # its pinyin with a typo


# --- landmarks and other names -----------------------------------------------------------


def _seat(demo, code: str):
    return demo["landmarks"].set_index("id").loc[code]


@pytest.mark.parametrize("query", ["区政府", "quzhengfu", "qzf", "district government"])
def test_a_landmark_is_found_by_its_other_names(gazetteer, demo, query):
    seat = _seat(demo, "L00")
    found = gazetteer.search(query, limit=3)
    assert found and (found[0].layer, found[0].feature_id) == ("landmarks", "L00"), names(found)
    assert found[0].name_zh == seat["name_zh"]  # shown by its own name, not the alias
    assert shapely.Point(found[0].lon, found[0].lat).equals_exact(seat.geometry, 1e-7)


def test_an_alias_ranks_like_a_name_and_forgives_typos_too(gazetteer, demo):
    short = _seat(demo, "L-HL")["aliases"].split(";")[0]  # 河埒街道办
    found = gazetteer.search(short, limit=3)
    assert (found[0].layer, found[0].feature_id) == ("landmarks", "L-HL"), names(found)
    near = gazetteer.search("区正府", limit=3)  # 正 for 政: a typo of an alias only
    assert near and near[0].feature_id == "L00", names(near)


def test_aliases_are_one_place_not_several():
    romaniser = Romaniser({})
    pinyin, initials = romaniser("滨湖区人民政府")
    aliases = ("区政府", "滨湖区政府")
    place = Place("landmarks", "L1", "滨湖区人民政府", "", 120.0, 31.0, pinyin, initials, aliases)
    gazetteer = Gazetteer([place], romaniser)
    assert len(gazetteer) == 1
    assert [p.feature_id for p in gazetteer.search("政府", limit=5)] == ["L1"]  # matched 3 times
