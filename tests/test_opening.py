"""Opening hours as they matter to a resident on the way: "closes soon" judged on the time
of arrival, "opens at" for a closed centre, the centre that opens first when none is open,
public holidays from the district's calendar, and the week's hours day by day. Expected
times come from the ``opening_hours`` library on the demo's own hours, not typed in."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import holidays
import opening_hours
import pytest

from geo_service.analysis.holiday_hours import holiday_calendar
from geo_service.analysis.opening import CLOSES_SOON, opening, parse_hours, week_hours

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


def _cn_holidays(year: int) -> set[date]:
    return set(holidays.country_holidays("CN", years=year))


def test_public_holidays_follow_the_district_calendar():
    text = "Mo-Su 08:00-17:00; PH off"
    chinese = parse_hours(text, "CN")
    calendar = _cn_holidays(2026)
    day = date(2026, 1, 1)
    while day.year == 2026:  # every day of the year at noon, against the holidays library
        noon = datetime.combine(day, time(12))
        assert opening(chinese, noon, 5).open_now is (day not in calendar), day
        day += timedelta(days=1)
    assert date(2026, 10, 2) in calendar  # the week's second day, which the parser misses
    assert opening_hours.OpeningHours(text, country="CN").is_open(datetime(2026, 10, 2, 12))
    assert len(calendar) > 20  # substituted days off included
    national_day = datetime(2026, 10, 1, 10)
    assert opening(parse_hours(text), national_day, 5).open_now is True  # no calendar
    assert opening(parse_hours(text, "ZZ"), national_day, 5).open_now is True  # unknown one


def test_closed_for_the_holiday_says_when_it_opens_after_it():
    hours = parse_hours("Mo-Fr 08:30-17:30; PH off", "CN")
    evening = datetime(2026, 9, 30, 18)  # the eve of National Day
    calendar = _cn_holidays(2026)
    reopens = evening.date() + timedelta(days=1)
    while reopens in calendar or reopens.weekday() >= 5:
        reopens += timedelta(days=1)
    answer = opening(hours, evening, 10)
    assert answer.open_now is False and answer.opens_at == datetime.combine(reopens, time(8, 30))
    assert reopens > date(2026, 10, 7)
    friday_noon = datetime(2026, 9, 25, 12)  # Mid-Autumn Festival: closed, opens on Monday
    assert friday_noon.date() in calendar
    assert opening(hours, friday_noon, 5).opens_at == datetime(2026, 9, 28, 8, 30)


@pytest.mark.parametrize(
    ("text", "on_holiday", "usual"),
    [
        ("Mo-Fr 09:00-17:00; Sa,PH 10:00-12:00", [["10:00", "12:00"]], [["09:00", "17:00"]]),
        ("Mo-Fr 09:00-17:00; PH,Sa 10:00-12:00", [["10:00", "12:00"]], [["09:00", "17:00"]]),
        ("Mo-Fr 09:00-17:00; PH Sa 10:00-12:00", [["09:00", "17:00"]], [["09:00", "17:00"]]),
        ('Mo-Fr 09:00-17:00 "PH: call first"; PH off', [], [["09:00", "17:00"]]),
    ],
)
def test_every_form_of_the_holiday_selector(text, on_holiday, usual):
    hours = parse_hours(text, "CN")
    week = {d["date"]: d["intervals"] for d in week_hours(hours, date(2026, 9, 29))}
    assert week["2026-10-01"] == on_holiday  # a Thursday, National Day
    assert week["2026-09-29"] == week["2026-09-30"] == usual  # Tuesday, Wednesday
    _minute_by_minute(hours, week_hours(hours, date(2026, 9, 29)), date(2026, 9, 29))


def test_a_holiday_with_a_day_offset_keeps_the_parsers_calendar():
    text = "Mo-Fr 09:00-17:00; PH +1 day off"
    hours = parse_hours(text, "CN")
    parser = opening_hours.OpeningHours(text, country="CN")
    for day in range(1, 8):
        moment = datetime(2026, 10, day, 12)
        assert hours.is_open(moment) == parser.is_open(moment)


def test_a_districts_own_holidays_and_a_subdivisions_calendar():
    closure = date(2026, 12, 3)
    calendar = holiday_calendar("CN", extra=(closure,))
    hours = parse_hours("Mo-Fr 08:30-17:30; PH off", calendar)
    assert not hours.is_open(datetime(2026, 12, 3, 12))
    assert hours.is_open(datetime(2026, 12, 4, 12))
    assert hours.next_change(datetime(2026, 12, 2, 17, 30)) == datetime(2026, 12, 4, 8, 30)
    bavaria = parse_hours("Mo-Fr 08:00-16:00; PH off", "DE-BY")
    epiphany = datetime(2026, 1, 6, 12)  # a holiday in Bavaria, not in Berlin
    assert date(2026, 1, 6) in holidays.country_holidays("DE", subdiv="BY", years=2026)
    assert date(2026, 1, 6) not in holidays.country_holidays("DE", subdiv="BE", years=2026)
    assert not bavaria.is_open(epiphany)
    assert parse_hours("Mo-Fr 08:00-16:00; PH off", "DE-BE").is_open(epiphany)


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


def test_the_evening_answer_warns_of_centres_closing_soon(api, demo):
    body = api.get("/locator/nearest", params={**NEAR_HELE, "n": 10, "at": EVENING}).json()
    hours = _hours(demo)
    at = datetime.fromisoformat(EVENING)
    for feature in body["features"]:
        p = feature["properties"]
        expected = _expected(hours[feature["id"]], at, p["minutes"])
        assert {k: p[k] for k in expected} == pytest.approx(expected, abs=0), feature["id"]
    assert any(f["properties"]["closes_soon"] for f in body["features"])


def test_at_night_open_now_names_the_centre_that_opens_first(api, demo):
    params = {**NEAR_HELE, "n": 5, "at": NIGHT, "open_now": "true"}
    body = api.get("/locator/nearest", params=params).json()
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


def _minute_by_minute(hours: opening_hours.OpeningHours, week: list[dict], first: date):
    """Every minute of the week is inside one of its day's intervals exactly when the
    library says the hours are open then."""
    assert [day["date"] for day in week] == [
        (first + timedelta(days=k)).isoformat() for k in range(len(week))
    ]
    for day in week:
        midnight = datetime.fromisoformat(day["date"])
        minutes = [
            (int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:]))
            for a, b in day["intervals"]
        ]
        for minute in range(24 * 60):
            listed = any(start <= minute < end for start, end in minutes)
            moment = midnight + timedelta(minutes=minute)
            assert listed == hours.is_open(moment), (day["date"], moment.time())


def test_the_week_of_every_demo_centre_is_what_the_library_says_minute_by_minute(demo):
    first = date(2026, 11, 25)  # a Wednesday
    for text in sorted(set(demo["service_centres"]["opening_hours"])):
        hours = parse_hours(text, "CN")
        week = week_hours(hours, first)
        assert len(week) == 7
        _minute_by_minute(hours, week, first)


def test_a_public_holiday_is_closed_in_the_week_with_the_chinese_calendar():
    text = "Mo-Su 08:00-17:00; PH off"
    first = date(2026, 9, 28)  # Monday; National Day's holiday starts on Thursday
    chinese = parse_hours(text, "CN")
    week = {day["date"]: day["intervals"] for day in week_hours(chinese, first)}
    calendar = _cn_holidays(2026)
    for k in range(7):
        day = first + timedelta(days=k)
        expected = [] if day in calendar else [["08:00", "17:00"]]
        assert week[day.isoformat()] == expected, day
    assert week["2026-10-01"] == week["2026-10-02"] == []
    _minute_by_minute(chinese, week_hours(chinese, first), first)
    no_calendar = week_hours(parse_hours(text), first)
    assert no_calendar[3] == {"date": "2026-10-01", "intervals": [["08:00", "17:00"]]}


def test_hours_across_midnight_are_cut_at_midnight():
    hours = parse_hours("Fr 18:00-02:00")
    friday = date(2026, 10, 2)
    week = week_hours(hours, friday)
    assert week[0]["intervals"] == [["18:00", "24:00"]]
    assert week[1]["intervals"] == [["00:00", "02:00"]]  # Saturday's small hours
    assert all(day["intervals"] == [] for day in week[2:-1])
    assert week[-1] == {"date": "2026-10-08", "intervals": []}  # Thursday
    _minute_by_minute(hours, week, friday)
    # A week that starts on Saturday begins with what is left of Friday night.
    saturday = week_hours(hours, date(2026, 10, 3))
    assert saturday[0]["intervals"] == [["00:00", "02:00"]]
    assert saturday[-1]["intervals"] == [["18:00", "24:00"]]
    always = week_hours(parse_hours("24/7"), friday)
    assert [day["intervals"] for day in always] == [[["00:00", "24:00"]]] * 7


def test_the_week_joins_what_the_library_splits_and_knows_when_it_does_not_know():
    # Two rules with their own comments: the library gives two open intervals in a row.
    hours = parse_hours('Mo 08:00-12:00 "morning", Mo 12:00-14:00 "lunch"')
    monday = date(2026, 9, 28)
    split = list(hours.intervals(datetime(2026, 9, 28), datetime(2026, 9, 29)))
    assert [i[2] for i in split].count(opening_hours.State.OPEN) == 2
    week = week_hours(hours, monday, days=3)
    assert [day["intervals"] for day in week] == [[["08:00", "14:00"]], [], []]
    _minute_by_minute(hours, week, monday)
    assert week_hours(parse_hours("not hours"), monday) is None
    assert week_hours(None, monday) is None
