"""Opening hours in Japan time: whether a line or a desk answers now, and when it next opens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .models import OpeningHours
from .storage import JST

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def is_open(schedule: Sequence[OpeningHours], now: dt.datetime, always_open: bool = False) -> bool | None:
    """Return whether the hours include `now`, or None when no hours are confirmed."""
    if always_open:
        return True
    if not schedule:
        return None
    local = now.astimezone(JST)
    day, minute = WEEKDAYS[local.weekday()], local.hour * 60 + local.minute
    return any(day in hours.days and _minutes(hours.open) <= minute < _minutes(hours.close) for hours in schedule)


def next_opening(schedule: Sequence[OpeningHours], now: dt.datetime) -> tuple[int, str, str] | None:
    """Return (days from today, weekday, opening time) of the next opening after `now`, or None."""
    local = now.astimezone(JST)
    minute = local.hour * 60 + local.minute
    for ahead in range(8):
        day = WEEKDAYS[(local.weekday() + ahead) % 7]
        openings = sorted(_minutes(hours.open) for hours in schedule if day in hours.days)
        for opening in openings:
            if ahead > 0 or opening > minute:
                return ahead, day, f"{opening // 60}:{opening % 60:02d}"
    return None
