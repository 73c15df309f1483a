"""The HTML views (geo_service/api/ogc/templates) and the report's HTML
(geo_service/reports/templates) render from Jinja templates with autoescaping: names,
titles and property values from the data reach the pages only as escaped text, in element
content and in attributes, and a template missing a variable fails instead of rendering a
blank."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pytest
import yaml

from geo_service.api.app import create_app
from geo_service.api.ogc import html
from geo_service.reports import document
from geo_service.settings import Settings
from tests.support import InProcessClient, make_district

SCRIPT = "<script>alert(1)</script>"
SCRIPT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
#: A layer title with an ampersand, both quotes and a tag: breaks out of an attribute.
TITLE = 'Tom & "Jerry\'s" <i>layer</i>'
TITLE_ESCAPED = "Tom &amp; &#34;Jerry&#39;s&#34; &lt;i&gt;layer&lt;/i&gt;"
TITLE_ZH = "小区 <b>&</b>"
TITLE_ZH_ESCAPED = "小区 &lt;b&gt;&amp;&lt;/b&gt;"
IMAGE = "<img src=x onerror=alert(3)>"
IMAGE_ESCAPED = "&lt;img src=x onerror=alert(3)&gt;"
AREA = "<script>alert(4)</script>河埒"
AREA_ESCAPED = "&lt;script&gt;alert(4)&lt;/script&gt;河埒"
#: A feature id that would close the link's href and open an attribute of its own.
FEATURE_ID = "taihu' onclick='alert(5)"
FEATURE_ID_ESCAPED = "taihu&#39; onclick=&#39;alert(5)"


def _edit_features(path: Path, first: dict) -> None:
    """Set properties (and ``"id"``: the feature's id too) of the layer file's first feature."""
    layer = json.loads(path.read_text(encoding="utf-8"))
    feature = layer["features"][0]
    feature["properties"].update(first)
    if "id" in first:
        feature["id"] = first["id"]
    path.write_text(json.dumps(layer, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> InProcessClient:
    """The demo district with hostile text in a layer's title and description, in a
    compound's name, a sub-district's name and a lake's id."""
    folder = make_district(tmp_path_factory.mktemp("hostile"))
    entry_path = folder / "layers" / "compounds.yaml"
    entry = yaml.safe_load(entry_path.read_text(encoding="utf-8"))
    entry["title"] = {"zh": TITLE_ZH, "en": TITLE}
    entry["description"]["en"] = f"Compounds {IMAGE}"
    entry_path.write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    data = folder / "data" / "geojson"
    _edit_features(data / "compounds.geojson", {"name_zh": SCRIPT})
    _edit_features(data / "subdistricts.geojson", {"name_zh": AREA})
    _edit_features(data / "water.geojson", {"id": FEATURE_ID})
    app = create_app(Settings(district_dir=folder))
    yield InProcessClient(app)
    app.state.refresh.close()


def _page(api: InProcessClient, path: str, **params) -> str:
    response = api.get(path, params={"f": "html", **params})
    assert response.status_code == 200, (path, response.text[:500])
    assert response.headers["content-type"].startswith("text/html"), path
    text = response.text
    # Nothing from the data is markup: no script, no tag it brought, anywhere.
    for raw in ("<script", "<i>", "<b>", "<img", "onclick='", "Jerry's\""):
        assert raw not in text, (path, raw)
    return text


def test_layer_titles_and_descriptions_are_escaped(hostile):
    landing = _page(hostile, "/")
    assert f"<td>{TITLE_ZH_ESCAPED}<br><small>{TITLE_ESCAPED}</small></td>" in landing
    collections = _page(hostile, "/collections")
    assert f"<td>{TITLE_ZH_ESCAPED} · {TITLE_ESCAPED}</td>" in collections
    collection = _page(hostile, "/collections/compounds")
    assert f"<title>{TITLE_ZH_ESCAPED} · {TITLE_ESCAPED}</title>" in collection
    assert f"<h1>{TITLE_ZH_ESCAPED} · {TITLE_ESCAPED}</h1>" in collection
    assert f"<p>Compounds {IMAGE_ESCAPED}</p>" in collection


def test_property_values_are_escaped_on_the_items_and_feature_pages(hostile):
    items = _page(hostile, "/collections/compounds/items", limit=5)
    assert f"<td>{SCRIPT_ESCAPED}</td>" in items
    # The title as the map's label: an attribute, quotes escaped.
    assert f"aria-label='{TITLE_ESCAPED}'" in items
    feature = _page(hostile, "/collections/compounds/items/HL01-01")
    assert f"<td>name_zh</td><td>{SCRIPT_ESCAPED}</td>" in feature


def test_feature_ids_are_escaped_in_links(hostile):
    items = _page(hostile, "/collections/water/items")
    assert f"<a href='items/{FEATURE_ID_ESCAPED}?f=html'>{FEATURE_ID_ESCAPED}</a>" in items


def test_area_names_are_escaped_on_the_coverage_page(hostile):
    coverage = _page(hostile, "/coverage/summary")
    assert f"<td>{AREA_ESCAPED} · " in coverage


def test_names_are_escaped_in_the_report(hostile):
    response = hostile.get("/reports/coverage.html", params={"area": "HL"})
    assert response.status_code == 200, response.text[:500]
    report = response.text
    assert "<script" not in report
    assert f"{AREA_ESCAPED}步行覆盖报告<br>" in report  # the title
    assert f" · {AREA_ESCAPED} · Hele Subdistrict</p>" in report  # the area named


@pytest.mark.parametrize(
    "template",
    sorted(
        p.name
        for p in (Path(html.__file__).parent / "templates").glob("*.html")
        if p.name != "macros.html"
    ),
)
def test_a_missing_variable_fails_the_render(template):
    with pytest.raises(jinja2.UndefinedError):
        html.render(template)


def test_the_report_template_fails_on_a_missing_variable():
    # The report's environment: a plain missing name raises (a default Undefined is "").
    with pytest.raises(jinja2.UndefinedError):
        document._TEMPLATES.from_string("<p>{{ date }}</p>").render()
    with pytest.raises(jinja2.UndefinedError):
        document._TEMPLATES.get_template("report.html").render(title={"en": "t", "zh": "t"})


def test_templates_escape_what_they_are_given():
    page = html.render("conformance.html", classes=[SCRIPT], synthetic=True)
    assert f"<td>{SCRIPT_ESCAPED}</td>" in page and "<script" not in page
    assert "role='note'" in page and "Synthetic demo data" in page
    with pytest.raises(jinja2.UndefinedError):
        html.render("conformance.html", classes=[SCRIPT])
