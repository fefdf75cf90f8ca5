"""What the report plots, one pure function per plot: run rows (``crawler.reporting.history``) and article
records in, the data behind the plot out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from statistics import median
from typing import NamedTuple

from crawler.reporting.history import moment

WINDOW_DAYS = 30  # the report's default: the runs of the last 30 days (up to the newest run)
EVENTS = (("failovers", "failovers"), ("archive_fetches", "archive fallbacks"), ("throttled", "throttled requests"))
DAILY_AFTER = timedelta(days=3)  # runs spanning longer are plotted per day, not per run
SHORT_WORDS = 150  # a record with fewer words of text is short (a brief, or a page cut by a paywall)


class Segment(NamedTuple):
    """Consecutive runs in which a host was in one state: from the first run's start to the start of the run after
    the last (for the latest run, its end, or the usual time between runs)."""

    start: datetime
    end: datetime
    state: str
    first_run: int  # runs are numbered from 1, per site, oldest first
    last_run: int


class Lane(NamedTuple):
    site: str
    host: str
    segments: list[Segment]


def started(row: dict) -> datetime | None:
    return moment(row["started_at"])


def articles_per_day(rows_by_site: dict[str, list[dict]]) -> tuple[list[str], dict[str, list[int | None]]]:
    """The UTC days from the first run's to the last's, and per site the new articles of the runs that started on
    each day (None for a day without a run of the site that kept its counts: not crawled is not zero)."""
    counts: dict[str, dict[str, int]] = {}
    for site, rows in rows_by_site.items():
        per_day = counts.setdefault(site, {})
        for row in rows:
            if row["new"] is not None and (when := started(row)):
                day = when.date().isoformat()
                per_day[day] = per_day.get(day, 0) + row["new"]
    known = sorted({day for per_day in counts.values() for day in per_day})
    if not known:
        return [], {site: [] for site in rows_by_site}
    first, last = datetime.fromisoformat(known[0]), datetime.fromisoformat(known[-1])
    days = [(first + timedelta(days=n)).date().isoformat() for n in range((last - first).days + 1)]
    return days, {site: [per_day.get(day) for day in days] for site, per_day in counts.items()}


def host_timeline(rows_by_site: dict[str, list[dict]]) -> list[Lane]:
    """Each host's states run by run, as segments of consecutive runs in one state, per site then host (in the
    order the runs first name them). A run that kept no host states (killed, or from an older version) leaves a
    gap."""
    lanes = []
    for site, rows in rows_by_site.items():
        times = [started(row) for row in rows]
        gaps = [later - earlier for earlier, later in zip(times, times[1:]) if earlier and later and later > earlier]
        usual = median(gaps) if gaps else timedelta(minutes=1)
        hosts = list(dict.fromkeys(host for row in rows for host in row["hosts"]))
        for host in hosts:
            segments: list[Segment] = []
            for number, (row, start) in enumerate(zip(rows, times), 1):
                state = row["hosts"].get(host)
                if state is None or start is None:
                    continue
                end = next((t for t in times[number:] if t), None) or max(moment(row["finished_at"]) or start, start + usual)
                last = segments[-1] if segments else None
                if last and last.state == state and last.last_run == number - 1:
                    segments[-1] = last._replace(end=end, last_run=number)
                else:
                    segments.append(Segment(start, end, state, number, number))
            lanes.append(Lane(site, host, segments))
    return lanes


def events_over_time(rows_by_site: dict[str, list[dict]]) -> tuple[str, dict[str, dict[str, list[tuple[datetime, int]]]]]:
    """Failovers, archive fallbacks and throttled requests per site over time: per run (its start, its count), or
    per UTC day when the runs span more than ``DAILY_AFTER``; ("run" or "day", {event: {site: points}})."""
    times = [when for rows in rows_by_site.values() for row in rows if (when := started(row))]
    daily = bool(times) and max(times) - min(times) > DAILY_AFTER
    events: dict[str, dict[str, list[tuple[datetime, int]]]] = {}
    for field, _ in EVENTS:
        for site, rows in rows_by_site.items():
            points: dict[datetime, int] = {}
            for row in rows:
                if row[field] is None or (when := started(row)) is None:
                    continue
                x = datetime.combine(when.date(), datetime.min.time(), when.tzinfo) if daily else when
                points[x] = points.get(x, 0) + row[field]
            events.setdefault(field, {})[site] = sorted(points.items())
    return ("day" if daily else "run"), events


def flag_counts(records: Iterable[dict]) -> dict[str, int | None]:
    """How many records there are and how many are flagged truncated, paywalled and short (under
    ``SHORT_WORDS`` words); paywalled and short are None when no record has the field (before schema 1.3)."""
    counts: dict[str, int | None] = {"records": 0, "truncated": 0, "paywalled": None, "short": None}
    for record in records:
        counts["records"] += 1
        counts["truncated"] += bool(record.get("truncated"))
        if "paywalled" in record:
            counts["paywalled"] = (counts["paywalled"] or 0) + bool(record["paywalled"])
        if record.get("word_count") is not None:
            counts["short"] = (counts["short"] or 0) + (record["word_count"] < SHORT_WORDS)
    return counts


def shares(counts: dict[str, int | None]) -> dict[str, float | None]:
    """Each flag's share of the records (None when not known, or no records)."""
    total = counts["records"]
    return {flag: (counts[flag] / total if total and counts[flag] is not None else None)
            for flag in ("truncated", "paywalled", "short")}
