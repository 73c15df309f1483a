"""When a centre is open, for a resident on the way there: open now, open when they
arrive, when it closes or opens next, whether it closes soon after they arrive, and its
hours day by day for the week ahead — in the district's local time (naive datetimes),
with its public holidays (``PH`` in OSM ``opening_hours``) from the district's holiday
calendar (:mod:`~geo_service.analysis.holiday_hours`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import opening_hours

from geo_service.analysis.holiday_hours import (
    CalendarHours,
    HolidayCalendar,
    has_public_holidays,
    holiday_calendar,
    parse_calendar_hours,
)

#: A centre that closes less than this after the resident arrives "closes soon".
CLOSES_SOON = timedelta(minutes=15)


def parse_hours(
    text: str | None, holidays: str | HolidayCalendar | None = None
) -> opening_hours.OpeningHours | CalendarHours | None:
    """OSM ``opening_hours`` ``text`` with public holidays (``PH``) from ``holidays``: a
    :class:`~geo_service.analysis.holiday_hours.HolidayCalendar`, or a country code for
    :func:`~geo_service.analysis.holiday_hours.holiday_calendar` (None, or a country
    without a calendar: ``PH`` never matches); None for text that is missing or not
    valid."""
    if not isinstance(text, str) or not text:
        return None
    calendar = holiday_calendar(holidays) if isinstance(holidays, str) else holidays
    try:
        hours = opening_hours.OpeningHours(text)
        if calendar is None or not has_public_holidays(text):
            return hours
        on_calendar = parse_calendar_hours(text, calendar)
        if on_calendar is None:  # PH with a day offset: the parser's own calendar
            return opening_hours.OpeningHours(text, country=calendar.country)
        return on_calendar
    except opening_hours.UnknownCountryError:
        return hours
    except (opening_hours.ParserError, ValueError, SyntaxError):
        return None


def open_at(hours: opening_hours.OpeningHours | CalendarHours | None, at: datetime) -> bool | None:
    """Whether ``hours`` are open at local time ``at`` (None: unknown)."""
    if hours is None:
        return None
    try:
        return bool(hours.is_open(at))
    except (opening_hours.ParserError, ValueError):
        return None


@dataclass(frozen=True)
class Opening:
    """A centre's hours as they matter to someone setting out at ``at``."""

    open_now: bool | None
    open_on_arrival: bool | None
    closes_at: datetime | None  # open now: when it closes next
    opens_at: datetime | None  # closed now: when it opens next
    closes_soon: bool  # open now, and closes before arrival + CLOSES_SOON

    def to_dict(self) -> dict:
        """JSON-ready form (local times to the minute)."""
        return {
            "open_now": self.open_now,
            "open_on_arrival": self.open_on_arrival,
            "closes_at": _minute(self.closes_at),
            "opens_at": _minute(self.opens_at),
            "closes_soon": self.closes_soon,
        }


def _minute(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(tzinfo=None).isoformat(timespec="minutes")


def opening(
    hours: opening_hours.OpeningHours | CalendarHours | None, at: datetime, walk_minutes: float
) -> Opening:
    """The :class:`Opening` of ``hours`` for someone leaving at local time ``at`` on a walk
    of ``walk_minutes`` (unrounded)."""
    now = open_at(hours, at)
    if now is None:
        return Opening(None, None, None, None, False)
    arrival = at + timedelta(minutes=walk_minutes)
    change = hours.next_change(at)  # None: it never changes (24/7, or always closed)
    change = None if change is None else change.replace(tzinfo=None)
    closes_at = change if now else None
    return Opening(
        open_now=now,
        open_on_arrival=open_at(hours, arrival),
        closes_at=closes_at,
        opens_at=None if now else change,
        closes_soon=bool(now and closes_at is not None and closes_at - arrival < CLOSES_SOON),
    )


def week_hours(
    hours: opening_hours.OpeningHours | CalendarHours | None, first_day: date, *, days: int = 7
) -> list[dict] | None:
    """The open intervals of ``hours`` on each of ``days`` local days from ``first_day``.

    Parameters
    ----------
    hours
        Parsed opening hours (:func:`parse_hours`); their public holidays (``PH``) follow
        the calendar they were parsed with. None: unknown.
    first_day
        The first day, a date in the district's local time.
    days
        How many consecutive days (default: a week).

    Returns
    -------
    list of dict or None
        One ``{"date": "YYYY-MM-DD", "intervals": [["HH:MM", "HH:MM"], ...]}`` per day,
        in order: local clock times to the minute, from the library's own intervals
        (:meth:`opening_hours.OpeningHours.intervals`); an empty list is a day closed
        throughout. Hours that run past midnight are cut there: the day's part ends at
        ``"24:00"``, the rest starts the next day at ``"00:00"``. Stretches whose state
        is unknown are not listed as open. None when ``hours`` are unknown or cannot be
        evaluated.
    """
    if hours is None:
        return None
    start = datetime.combine(first_day, time())
    stop = start + timedelta(days=days)
    try:
        spans = [
            (max(begin.replace(tzinfo=None), start), min(end.replace(tzinfo=None), stop))
            for begin, end, state, _ in hours.intervals(start, stop)
            if state == opening_hours.State.OPEN
        ]
    except (opening_hours.ParserError, ValueError):
        return None
    by_day: dict[date, list[list[datetime]]] = {
        first_day + timedelta(days=k): [] for k in range(days)
    }
    for begin, end in spans:
        while begin < end:  # cut at each midnight
            cut = min(end, datetime.combine(begin.date() + timedelta(days=1), time()))
            intervals = by_day[begin.date()]
            if intervals and intervals[-1][1] == begin:  # open across a change of comment
                intervals[-1][1] = cut
            else:
                intervals.append([begin, cut])
            begin = cut
    return [
        {
            "date": day.isoformat(),
            "intervals": [[_clock(t, day) for t in interval] for interval in intervals],
        }
        for day, intervals in by_day.items()
    ]


def _clock(moment: datetime, day: date) -> str:
    """``moment`` as "HH:MM" on ``day`` ("24:00" for the midnight that ends it)."""
    minutes = int((moment - datetime.combine(day, time())) // timedelta(minutes=1))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
