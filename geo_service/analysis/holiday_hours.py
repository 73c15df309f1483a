"""Opening hours whose public holidays (``PH``) follow the district's holiday calendar.

opening-hours-py reads ``PH`` from a calendar compiled into it, which holds one day per
Chinese holiday (1 October only, where the State Council's National Day holiday runs
for a week). The ``holidays`` library keeps each country's calendar as published,
substituted days off included. :class:`CalendarHours` evaluates an OSM
``opening_hours`` text against such a calendar: each local day follows the text read as
if ``PH`` matched every day (a public holiday) or none (any other day). Hours that run
past midnight into a day of the other kind follow that day's reading. A text whose
``PH`` has a day offset (``PH +1 day``) cannot be read that way and keeps the library's
own calendar (:func:`parse_calendar_hours` returns None for it).

All times are the district's local time, as naive datetimes.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cache

import holidays as holiday_calendars
import opening_hours

#: ``PH`` as a holiday selector, outside the text's quoted comments.
_PH = re.compile(r'"[^"]*"|(?<![A-Za-z])PH(?![A-Za-z])(?P<offset>\s*[+-]\s*\d+\s*days?)?')
#: ``PH`` directly followed by weekdays: the rule holds on holidays that fall on them.
_WEEKDAY = re.compile(r" (?:Mo|Tu|We|Th|Fr|Sa|Su)\b")
#: How many switches between holidays and other days :meth:`CalendarHours.next_change`
#: crosses before it says the hours never change.
MAX_SWITCHES = 120


class HolidayCalendar:
    """The public holidays of a country (and subdivision) from the ``holidays`` library,
    plus the district's own ``extra`` days."""

    def __init__(self, country: str, subdivision: str | None = None, extra: Iterable[date] = ()):
        self.country, self.subdivision = country, subdivision
        self.extra = frozenset(extra)
        self._years: dict[int, tuple[date, ...]] = {}

    def days(self, year: int) -> tuple[date, ...]:
        """The holidays of ``year`` in date order."""
        days = self._years.get(year)
        if days is None:
            listed = holiday_calendars.country_holidays(
                self.country, subdiv=self.subdivision, years=year
            )
            days = tuple(sorted(set(listed) | {d for d in self.extra if d.year == year}))
            self._years[year] = days
        return days

    def __contains__(self, day: date) -> bool:
        days = self.days(day.year)
        k = bisect.bisect_left(days, day)
        return k < len(days) and days[k] == day

    def next_switch(self, day: date) -> date | None:
        """The first day after ``day`` that is a holiday when ``day`` is not, or not one
        when it is; None when none comes within two years."""
        if day in self:
            after = day + timedelta(days=1)
            while after in self:
                after += timedelta(days=1)
            return after
        for year in (day.year, day.year + 1, day.year + 2):
            days = self.days(year)
            k = bisect.bisect_right(days, day)
            if k < len(days):
                return days[k]
        return None


@cache
def holiday_calendar(code: str | None, extra: tuple[date, ...] = ()) -> HolidayCalendar | None:
    """The calendar of ``code``, an ISO 3166-1 alpha-2 country (``"CN"``) or a country and
    subdivision (``"DE-BY"``), with the ``extra`` days; None when the ``holidays`` library
    has no calendar for it (``PH`` then never matches)."""
    if not code:
        return None
    country, _, subdivision = code.partition("-")
    try:
        holiday_calendars.country_holidays(country, subdiv=subdivision or None)
    except NotImplementedError:
        return None
    return HolidayCalendar(country, subdivision or None, extra)


def has_public_holidays(text: str) -> bool:
    """Whether ``text`` names public holidays (``PH``) outside its comments."""
    return any(match.group(0) == "PH" or match["offset"] for match in _PH.finditer(text))


def as_holiday(text: str) -> str | None:
    """``text`` read on a public holiday: every ``PH`` selector made one that matches every
    day (``Mo-Su``; ``PH Sa`` becomes ``Sa``); None when a ``PH`` has a day offset."""
    pieces, last = [], 0
    for match in _PH.finditer(text):
        if match.group(0).startswith('"'):
            continue
        if match["offset"]:
            return None
        pieces.append(text[last : match.start()])
        followed_by_weekday = _WEEKDAY.match(text, match.end()) is not None
        pieces.append("" if followed_by_weekday else "Mo-Su")
        last = match.end() + (1 if followed_by_weekday else 0)
    return "".join(pieces) + text[last:]


class CalendarHours:
    """Opening hours evaluated day by day against a :class:`HolidayCalendar`: the same
    methods as :class:`opening_hours.OpeningHours` that the locator uses."""

    def __init__(
        self,
        usual: opening_hours.OpeningHours,
        on_holiday: opening_hours.OpeningHours,
        calendar: HolidayCalendar,
    ):
        self.usual, self.on_holiday, self.calendar = usual, on_holiday, calendar

    def _on(self, day: date) -> opening_hours.OpeningHours:
        return self.on_holiday if day in self.calendar else self.usual

    def state(self, at: datetime) -> opening_hours.State:
        """The state at local time ``at``."""
        return self._on(at.date()).state(at)

    def is_open(self, at: datetime) -> bool:
        """Whether open at local time ``at``."""
        return self._on(at.date()).is_open(at)

    def next_change(self, at: datetime) -> datetime | None:
        """The first local time after ``at`` when the state changes; None if it never
        does (within :data:`MAX_SWITCHES` switches of day kind)."""
        state, moment = self.state(at), at
        for _ in range(MAX_SWITCHES):
            hours = self._on(moment.date())
            switch = self.calendar.next_switch(moment.date())
            if switch is None:
                change = hours.next_change(moment)
                return None if change is None else change.replace(tzinfo=None)
            boundary = datetime.combine(switch, time())
            # the first change before the switch, looked for up to it only (the library's
            # own next_change searches years ahead for hours that never change: seconds)
            spans = hours.intervals(moment, boundary)
            first_end = next(iter(spans), (None, None))[1]
            if first_end is not None and first_end.replace(tzinfo=None) < boundary:
                return first_end.replace(tzinfo=None)
            if self._on(switch).state(boundary) != state:
                return boundary
            moment = boundary
        return None

    def intervals(
        self, start: datetime, stop: datetime
    ) -> list[tuple[datetime, datetime, opening_hours.State, str]]:
        """The ``(begin, end, state, comment)`` spans from ``start`` to ``stop``, as
        :meth:`opening_hours.OpeningHours.intervals` gives them (spans of one state and
        comment merged across the days' switches)."""
        spans: list[tuple[datetime, datetime, opening_hours.State, str]] = []
        begin = start
        while begin < stop:
            switch = self.calendar.next_switch(begin.date())
            end = stop if switch is None else min(stop, datetime.combine(switch, time()))
            for first, last, state, comment in self._on(begin.date()).intervals(begin, end):
                first = max(first.replace(tzinfo=None), begin)
                last = end if last is None else min(last.replace(tzinfo=None), end)
                if spans and spans[-1][1] == first and spans[-1][2:] == (state, comment):
                    spans[-1] = (spans[-1][0], last, state, comment)
                elif first < last:
                    spans.append((first, last, state, comment))
            begin = end
        return spans


def parse_calendar_hours(text: str, calendar: HolidayCalendar) -> CalendarHours | None:
    """``text`` (valid OSM ``opening_hours`` naming ``PH``) against ``calendar``; None when
    its ``PH`` has a day offset."""
    holiday_text = as_holiday(text)
    if holiday_text is None:
        return None
    return CalendarHours(
        opening_hours.OpeningHours(text), opening_hours.OpeningHours(holiday_text), calendar
    )
