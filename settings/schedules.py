"""Cron schedules: valid, firing, how far apart, and whether two overlap."""

from __future__ import annotations

import functools
import itertools
from typing import Annotated, Optional

from pydantic import (
    AfterValidator,
)

from settings.base import _custom_error

# Schedules are judged from a fixed start, so a result never depends on when
# it is computed; a schedule that finds no run within this many years never fires.
_CRON_EPOCH = (2026, 1, 1)
_CRON_HORIZON_YEARS = 8


def _cron_runs(schedule: str, start: float, seconds_field: bool = False):
    from datetime import datetime, timezone

    from croniter import croniter

    return croniter(
        schedule,
        datetime.fromtimestamp(start, tz=timezone.utc),
        max_years_between_matches=_CRON_HORIZON_YEARS,
        second_at_beginning=seconds_field,
    )


def _cron_epoch() -> float:
    from datetime import datetime, timezone

    return datetime(*_CRON_EPOCH, tzinfo=timezone.utc).timestamp()


def _check_cron(schedule: str) -> str:
    from croniter import croniter

    fields = schedule.split()
    if len(fields) != 5 or not croniter.is_valid(schedule):
        raise _custom_error(
            "bad_cron",
            "not a 5-field cron schedule (minute hour day-of-month month day-of-week), e.g. '0 * * * *'",
        )
    return _fires(" ".join(fields))


def _fires(schedule: str, seconds_field: bool = False) -> str:
    """The schedule, if it fires at all within the horizon."""
    from croniter import CroniterBadDateError

    try:
        _cron_runs(schedule, _cron_epoch(), seconds_field).get_next(float)
    except CroniterBadDateError:
        raise _custom_error(
            "cron_never_fires",
            "this schedule never fires (no such date, e.g. the 31st of February); pick a date that exists",
        ) from None
    return schedule


CronSchedule = Annotated[str, AfterValidator(_check_cron)]


def _check_seconds_cron(schedule: str) -> str:
    """CloudNativePG's ScheduledBackup schedule: robfig/cron with a leading
    seconds field (the CRD's description), so "0 0 3 * * *" is 03:00:00. A
    5-field schedule there would be read shifted by one field."""
    from croniter import croniter

    fields = schedule.split()
    if len(fields) != 6 or not croniter.is_valid(" ".join(fields), second_at_beginning=True):
        raise _custom_error(
            "bad_seconds_cron",
            "not a 6-field schedule (second minute hour day-of-month month day-of-week), e.g. '0 0 3 * * *' for "
            "03:00 every day; CloudNativePG's schedules start with a seconds field",
        )
    return _fires(" ".join(fields), seconds_field=True)


SecondsCronSchedule = Annotated[str, AfterValidator(_check_seconds_cron)]


def _repeat_horizon_seconds(schedule: str) -> Optional[int]:
    """How far ahead a schedule's runs must be followed to see every gap
    between them: it repeats daily when it names no day, weekly when it
    names only weekdays, and within a leap cycle (four years, until 2100)
    when it names no weekday. None: both day fields restrict it (cron runs
    it on either), so no short period is certain."""
    day_of_month, month, day_of_week = schedule.split()[-3:]
    if (day_of_month, month, day_of_week) == ("*", "*", "*"):
        return 2 * 86400
    if (day_of_month, month) == ("*", "*"):
        return 15 * 86400
    if day_of_week == "*":
        return (4 * 366 + 32) * 86400
    return None


@functools.lru_cache(maxsize=64)
def max_interval_seconds(schedule: str, samples: int = 400, seconds_field: bool = False) -> int:
    """Longest gap between two runs of a cron schedule (sampled from a fixed
    start, so the result does not depend on when it is computed; cached, as
    the same schedule is judged by several rules).

    Runs are followed over the schedule's repeat period (twice the day,
    twice the week, or a leap cycle), at most 3,000 of them, or `samples`
    runs when no period is certain. Every render judges the default
    schedules, so this matters: an hourly schedule is 49 runs, a monthly
    one 50, instead of 400 each."""
    horizon = _repeat_horizon_seconds(schedule)
    runs = _cron_runs(schedule, _cron_epoch(), seconds_field)
    times = [runs.get_next(float)]
    if horizon is None:
        times += [runs.get_next(float) for _ in range(samples - 1)]
    else:
        end = _cron_epoch() + horizon
        while times[-1] <= end and len(times) < max(samples, 3000):
            times.append(runs.get_next(float))
    return int(max(later - earlier for earlier, later in itertools.pairwise(times)))


# Between two pods using a ReadWriteOnce volume on different nodes, the volume
# must detach and attach again: allow for it.
VOLUME_HANDOVER_SECONDS = 300


@functools.lru_cache(maxsize=64)
def first_overlap(first: str, first_seconds: int, second: str, second_seconds: int, days: int = 366) -> Optional[float]:
    """The first run of `second` within a year that overlaps a run of `first`
    (each run lasting at most its deadline plus the volume handover), or None.
    Cached: a daily schedule is 366 runs to follow, and every render judges
    the same default schedules."""
    first_seconds += VOLUME_HANDOVER_SECONDS
    second_seconds += VOLUME_HANDOVER_SECONDS
    start = _cron_epoch()
    runs = _cron_runs(second, start)
    while True:
        second_start = runs.get_next(float)
        if second_start > start + days * 86400:
            return None
        # The first run of `first` after (second_start - first_seconds) is the
        # earliest one still running at second_start or starting during it.
        first_start = _cron_runs(first, second_start - first_seconds).get_next(float)
        if first_start < second_start + second_seconds:
            return second_start
