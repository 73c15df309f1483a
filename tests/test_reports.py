"""Handouts: the coverage report as PDF (text read back), Excel (read back) and HTML, for
the district, a community and a saved scenario — every figure equal to the API's."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from geo_service.api.app import create_app
from geo_service.settings import Settings
from tests.conftest import STORE_KINDS
from tests.support import InProcessClient, run_cli


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def _pdf_text(content: bytes) -> tuple[str, set[str]]:
    """The PDF's text (whitespace removed: lines break anywhere) and its fonts."""
    reader = PdfReader(io.BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages)
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    return "".join(text.split()), fonts


def _flat(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module", params=STORE_KINDS)
def api(request, tmp_path_factory, demo_store, seeded_derived):
    folder = tmp_path_factory.mktemp("reports")
    settings = Settings(
        derived_dir=seeded_derived(folder / "derived"),
        state_dir=folder / "state",
        scenario_writers="public",
        store=demo_store(request.param),
    )
    return InProcessClient(create_app(settings))


@pytest.fixture(scope="module")
def district_pdf(api):
    response = api.get("/reports/coverage.pdf")
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    return _pdf_text(response.content)


def test_the_district_pdf_says_what_the_api_says(api, district_pdf):
    text, fonts = district_pdf
    summary = api.get("/coverage/summary").json()
    for phrase in (
        "无锡市滨湖区步行覆盖报告",
        "合成示例数据",
        summary["criterion"]["rule_zh"],
        "生活圈配置",
        "敏感性",
    ):
        assert _flat(phrase) in text, phrase
    for minutes in (5, 10, 15):
        assert _percent(summary["district"][f"share_{minutes}"]) in text
    gaps = summary["gaps"]
    assert f"{gaps['compounds']:,}个小区compounds" in text
    assert f"{gaps['residents']:,}名居民residents" in text
    table = api.get("/coverage/life-circle").json()
    for row in table["types"]:
        assert f"{row['areas_lacking']}/{row['areas']}" in text
    # Chinese set in the Noto CJK font, embedded (a subset)
    assert any("Noto-Sans-CJK-SC" in font and "+" in font for font in fonts), fonts


def test_a_community_report(api):
    community = api.get(
        "/collections/community_coverage/items", params={"limit": 1, "sortby": "share_15"}
    ).json()["features"][0]["properties"]
    response = api.get("/reports/coverage.pdf", params={"area": community["id"]})
    assert response.status_code == 200
    assert f"coverage-report-{community['id']}.pdf" in response.headers["content-disposition"]
    text, _ = _pdf_text(response.content)
    assert _flat(community["name_zh"]) in text
    assert _percent(community["share_15"]) in text


def test_the_workbook_holds_values_with_titled_headers(api):
    response = api.get("/reports/coverage.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:2] == ["概况 Summary", "生活圈 Life circle"]
    summary = api.get("/coverage/summary").json()["district"]
    rows = {r[0]: r[1] for r in book["概况 Summary"].iter_rows(min_row=2, values_only=True)}
    assert rows["15分钟覆盖率 Share within 15 min"] == summary["share_15"]
    assert rows["居民 Residents"] == summary["residents"]
    share_cell = next(
        c
        for (c,) in book["概况 Summary"].iter_rows(min_col=1, max_col=1)
        if "15分钟覆盖率" in str(c.value)
    )
    assert book["概况 Summary"].cell(share_cell.row, 2).number_format == "0.0%"
    communities = api.get("/collections/community_coverage/items", params={"limit": 1000}).json()[
        "features"
    ]
    sheet = book["社区 Communities"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["编号 Id", "社区 Community", "Community (en)", "居民 Residents"]
    by_id = {f["properties"]["id"]: f["properties"] for f in communities}
    read = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(read) == len(communities)
    for row in read:
        assert row[1] == by_id[row[0]]["name_zh"] and row[3] == by_id[row[0]]["residents"]
        assert row[6] == pytest.approx(by_id[row[0]]["share_15"], abs=5e-5)
    life = api.get("/coverage/life-circle").json()["types"]
    shares = [r[4] for r in book["生活圈 Life circle"].iter_rows(min_row=2, values_only=True)]
    assert shares == [t["share"] for t in life]


def test_capacity_is_in_the_report_as_the_api_gives_it(api, district_pdf):
    capacity = api.get("/planning/capacity").json()
    scores = {a["id"]: a["score"] for a in capacity["areas"]["community_id"]}
    book = load_workbook(io.BytesIO(api.get("/reports/coverage.xlsx").content))
    rows = list(book["容量 Capacity"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(scores)
    for row in rows:
        assert row[4] == pytest.approx(scores[row[0]])
    ordered = [r[4] for r in rows]
    assert ordered == sorted(ordered)  # least served first
    text, _ = district_pdf
    assert _flat("Centre capacity per 1,000 residents (E2SFCA, weights 1 / 0.68 / 0.22") in text
    least = min(scores, key=lambda k: (scores[k], k))
    html = api.get("/reports/coverage.html").text
    assert "<h2>容量 Capacity</h2>" in html and f"{scores[least]:.2f}" in html


def test_a_scenario_report_states_its_effect(api):
    gap = api.get("/collections/coverage_gaps/items", params={"sortby": "rank", "limit": 1})
    ring = gap.json()["features"][0]["geometry"]["coordinates"][0]
    lon = sum(p[0] for p in ring) / len(ring)
    lat = sum(p[1] for p in ring) / len(ring)
    change = {
        "add": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"level": "community", "services": ["health"]},
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                }
            ],
        }
    }
    saved = api.post("/scenarios", json={"name": "报告方案", **change}).json()
    response = api.get("/reports/coverage.pdf", params={"scenario": "报告方案"})
    assert response.status_code == 200, response.text[:300]
    assert saved["id"] in response.headers["content-disposition"]
    text, _ = _pdf_text(response.content)
    answer = saved["answer"]
    assert "报告方案" in text and f"gained{answer['gain']['residents']:,}人" in text
    assert _percent(answer["after"]["district"]["share_15"]) in text
    health = next(t for t in answer["types"] if t["type"] == "svc_health")
    assert health["share_after"] > health["share_before"]
    book = load_workbook(
        io.BytesIO(api.get("/reports/coverage.xlsx", params={"scenario": saved["id"]}).content)
    )
    rows = list(book["方案类型 Scenario types"].iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[3]) for r in rows] == [
        (t["share_before"], t["share_after"]) for t in answer["types"]
    ]
    html = api.get("/reports/coverage.html", params={"scenario": saved["id"]})
    assert html.headers["content-type"].startswith("text/html") and "方案效果" in html.text


@pytest.mark.parametrize(
    "url, status",
    [
        ("/reports/coverage.pdf?area=NOPE", 404),
        ("/reports/coverage.xlsx?scenario=nope", 404),
        ("/reports/coverage.doc", 400),
    ],
)
def test_bad_report_requests(api, url, status):
    response = api.get(url)
    assert response.status_code == status and response.json()["description"]


@pytest.mark.slow
def test_the_cli_writes_the_three_files(tmp_path, api):
    community = api.get("/collections/communities/items", params={"limit": 1}).json()
    area = community["features"][0]["properties"]
    env = {
        "GEO_SERVICE_DERIVED_DIR": str(tmp_path / "derived"),
        "GEO_SERVICE_STATE_DIR": str(tmp_path / "state"),
    }
    done = run_cli("report", "--area", area["id"], "--out", str(tmp_path / "out"), env=env)
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"coverage-report-{area['id']}.{x}" for x in ("html", "pdf", "xlsx")]
    text, _ = _pdf_text((tmp_path / "out" / names[1]).read_bytes())
    assert _flat(area["name_zh"]) in text
    assert "[2/3] pdf" in done.stderr
