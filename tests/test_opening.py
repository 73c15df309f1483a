"""Opening hours as they matter to a resident on the way: "closes soon" judged on the time
of arrival, "opens at" for a closed centre, the centre that opens first when none is open,
and public holidays from the district's calendar. Expected times come from the
``opening_hours`` library on the demo's own hours, not typed in."""

from __future__ import annotations

from datetime import datetime, timedelta

import opening_hours
import pytest

from geo_service.analysis.opening import CLOSES_SOON, opening, parse_hours

#: A Wednesday evening, and the small hours of the next day (local time, Wuxi).
EVENING, NIGHT = "2026-12-02T19:45", "2026-12-03T04:30"
#: Hele sub-district, where centres close at 20:00 on weekdays.
NEAR_HELE = {"lon": 120.255, "lat": 31.577}


def test_closes_soon_is_judged_on_the_arrival():
    hours = parse_hours("Mo-Sa 08:30-20:00")
    at = datetime.fromisoformat(EVENING)
    earlier = opening(hours, at - timedelta(minutes=30), 2.0)  # arrives 19:17
    assert earlier.open_now and not earlier.closes_soon
    assert earlier.closes_at == datetime(2026, 12, 2, 20, 0)
    near = opening(hours, at, 2.0)  # arrives 19:47, 13 minutes before closing
    assert near.closes_soon and near.open_on_arrival
    assert near.closes_at - (at + timedelta(minutes=2)) < CLOSES_SOON
    late = opening(hours, at, 20.0)  # arrives 20:05
    assert late.closes_soon and late.open_on_arrival is False
    night = opening(hours, datetime.fromisoformat(NIGHT), 5.0)
    assert night.open_now is False and night.opens_at == datetime(2026, 12, 3, 8, 30)
    assert night.to_dict()["opens_at"] == "2026-12-03T08:30"
    always = opening(parse_hours("24/7"), at, 30.0)
    assert always.open_now and always.closes_at is None and not always.closes_soon
    unknown = opening(parse_hours("not hours"), at, 3.0)
    assert unknown.open_now is None and unknown.to_dict()["opens_at"] is None


def test_public_holidays_follow_the_district_calendar():
    text = "Mo-Su 08:00-17:00; PH off"
    national_day, after = datetime(2026, 10, 1, 10), datetime(2026, 10, 9, 10)
    chinese = parse_hours(text, "CN")
    assert opening(chinese, national_day, 5).open_now is False
    assert opening(chinese, after, 5).open_now is True
    assert opening(parse_hours(text), national_day, 5).open_now is True  # no calendar
    assert opening(parse_hours(text, "ZZ"), national_day, 5).open_now is True  # unknown one


def _hours(demo) -> dict[str, str]:
    centres = demo["service_centres"]
    return dict(zip(centres["id"], centres["opening_hours"], strict=True))


def _expected(text: str, at: datetime, minutes: float) -> dict:
    hours = opening_hours.OpeningHours(text)
    now = hours.is_open(at)
    change = hours.next_change(at)
    arrival = at + timedelta(minutes=minutes)
    return {
        "open_now": now,
        "open_on_arrival": hours.is_open(arrival),
        "closes_at": change.isoformat(timespec="minutes") if now and change else None,
        "opens_at": change.isoformat(timespec="minutes") if not now and change else None,
        "closes_soon": bool(now and change and change - arrival < CLOSES_SOON),
    }


def test_the_evening_answer_warns_of_centres_closing_soon(client, demo):
    body = client.get("/locator/nearest", params={**NEAR_HELE, "n": 10, "at": EVENING}).json()
    hours = _hours(demo)
    at = datetime.fromisoformat(EVENING)
    for feature in body["features"]:
        p = feature["properties"]
        expected = _expected(hours[feature["id"]], at, p["minutes"])
        assert {k: p[k] for k in expected} == pytest.approx(expected, abs=0), feature["id"]
    assert any(f["properties"]["closes_soon"] for f in body["features"])


def test_at_night_open_now_names_the_centre_that_opens_first(client, demo):
    params = {**NEAR_HELE, "n": 5, "at": NIGHT, "open_now": "true"}
    body = client.get("/locator/nearest", params=params).json()
    assert body["features"] == [] and body["numberReturned"] == 0
    first = body["opening_next"]
    assert 1 <= len(first) <= 3
    hours = _hours(demo)
    at = datetime.fromisoformat(NIGHT)
    for centre in first:
        opens = opening_hours.OpeningHours(hours[centre["id"]]).next_change(at)
        assert centre["opens_at"] == opens.isoformat(timespec="minutes")
    assert [c["opens_at"] for c in first] == sorted(c["opens_at"] for c in first)
    assert first[0]["opens_at"].startswith("2026-12-03T0")  # this morning, not a day away
