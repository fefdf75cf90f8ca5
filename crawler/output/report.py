"""``newsmirror report``: one self-contained HTML page on every site's runs (plots as inline SVG, no script, nothing
fetched), from the state's run history and the run files; every text that came from the web is escaped."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from crawler.output import plots
from crawler.reporting.history import duration_text, exit_text, history_rows, moment, plural, time_text
from crawler.reporting.outcome import HOST_STATES
from crawler.reporting.trends import (
    EVENTS, SHORT_WORDS, articles_per_day, events_over_time, flag_counts, host_timeline, shares,
)
from crawler.state.runfile import run_file_records, run_files

RUNS_PER_SITE = 20_000  # runs read per site: a run every 2 minutes for 30 days
NEWEST_ARTICLES = 10  # articles listed per site


@dataclass
class SiteRecords:
    """What a site's run files in the window hold: flag counts (``trends.flag_counts``) and the newest records."""

    flags: dict[str, int | None]
    newest: list[dict] = field(default_factory=list)


@dataclass
class ReportData:
    rows: dict[str, list[dict]]  # per site, the runs in the window, oldest first (``history.run_row``)
    records: dict[str, SiteRecords]
    missing: list[str]  # what the report cannot show, and why
    since: datetime | None = None
    until: datetime | None = None


def in_window(histories: dict[str, list[dict]], days: float) -> tuple[dict[str, list[dict]], datetime | None, datetime | None]:
    """Every site's runs that started in the ``days`` before the newest run of any site, as rows, oldest first; and
    when the first and the last of them started."""
    rows = {site: history_rows(site, runs) for site, runs in histories.items()}
    starts = [when for site_rows in rows.values() for row in site_rows if (when := moment(row["started_at"]))]
    if not starts:
        return rows, None, None
    until = max(starts)
    since = until - timedelta(days=days)
    kept = {site: [row for row in site_rows if (moment(row["started_at"]) or until) >= since] for site, site_rows in rows.items()}
    return kept, min(when for when in starts if when >= since), until


def run_id_of(path: Path) -> str:
    """The run id of ``<run-id>.jsonl`` or ``<run-id>-<worker>.jsonl`` (run ids have no dash)."""
    return path.stem.split("-", 1)[0]


def newest_first(record: dict) -> str:
    return record.get("published") or record.get("fetched_at") or ""


def site_records(output_dir: Path, site: str, run_ids: set[str], warn: Callable[[str], None]) -> SiteRecords:
    """Flag counts and the newest records of the site's run files of these runs."""
    newest: list[tuple[str, int, dict]] = []  # a heap of the newest NEWEST_ARTICLES
    files = [path for path in run_files(output_dir, site) if run_id_of(path) in run_ids]

    def records():
        every = (record for path in files for _, record in run_file_records(path, warn, strict=False))
        for order, record in enumerate(every):
            entry = (newest_first(record), order, {key: record.get(key) for key in ("title", "url", "published")})
            (heapq.heappush if len(newest) < NEWEST_ARTICLES else heapq.heappushpop)(newest, entry)
            yield record

    flags = flag_counts(records())
    return SiteRecords(flags, [entry for _, _, entry in sorted(newest, reverse=True)])


def report_data(histories: dict[str, list[dict]], output_dir: Path, days: float, warn: Callable[[str], None]) -> ReportData:
    """What the page shows: the runs of the last ``days`` (``histories``: each site's stored runs, newest first),
    what their run files hold, and what cannot be shown."""
    rows, since, until = in_window(histories, days)
    records = {site: site_records(output_dir, site, {row["run_id"] for row in site_rows}, warn)
               for site, site_rows in rows.items()}
    missing = []
    for site, site_rows in rows.items():
        uncounted = sum(1 for row in site_rows if row["exit_status"] is None)
        if uncounted:
            missing.append(f"{site}: {uncounted} of {len(site_rows)} runs kept no counts (killed or still running, or "
                           "from an older newsmirror): their points are missing from the plots")
        emitted = sum(row["new"] or 0 for row in site_rows) + sum(row["revised"] or 0 for row in site_rows)
        if emitted and not records[site].flags["records"]:
            missing.append(f"{site}: no run files of these runs under {output_dir / site} (moved, or another --output?): "
                           "no flagged-record shares, no newest articles")
    counted = [r.flags for r in records.values() if r.flags["records"]]
    if counted and all(flags["paywalled"] is None for flags in counted):
        missing.append("paywalled and short shares: no record has the paywalled and word_count fields (records "
                       "written before schema 1.3)")
    return ReportData(rows, records, missing, since, until)


# -- the page -----------------------------------------------------------------------------------------------
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#1b1b1b}
.wide{overflow-x:auto}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:13px} th,td{padding:.2em .5em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th,.t{white-space:nowrap} td.n{text-align:right;font-variant-numeric:tabular-nums} .meta{color:#555} figure{margin:0} svg{max-width:100%;height:auto}
.state{display:inline-block;padding:0 .4em;margin:.1em;border-radius:3px;color:#fff;white-space:nowrap}
.missing li,tr.note td{color:#8a4b00} details{margin:.3em 0 1em} summary{cursor:pointer;color:#555}
"""
STATE_BADGE_TEXT = {"not asked": "#37474f"}  # light background: dark text


def text(value) -> str:
    """Any value as escaped HTML text (None as a dash)."""
    return "-" if value is None else escape(str(value))


def cells_row(cells: list[str], numeric: set[int] = frozenset()) -> str:
    """A table row of cells that are already HTML (escaped by the caller); ``numeric`` columns align right."""
    return "<tr>" + "".join(f'<td class="n">{cell}</td>' if index in numeric else f"<td>{cell}</td>"
                            for index, cell in enumerate(cells)) + "</tr>"


def framed(table_id: str, headers: list[str], body: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f'<div class="wide"><table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def table(table_id: str, headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    return framed(table_id, headers, "".join(cells_row(row, numeric) for row in rows))


def moment_cell(value: str | None) -> str:
    return f'<span class="t">{text(time_text(value))}</span>'


def badge(host: str, state: str, why: str | None = None) -> str:
    """The host and its state in the state's colour, and why it failed when known."""
    colour = plots.STATE_COLOURS.get(state, "#777")
    ink = STATE_BADGE_TEXT.get(state, "#fff")
    label = f"{host}: {state}" + (f" ({why})" if why else "")
    return f'<span class="state" style="background:{colour};color:{ink}">{text(label)}</span>'


def link(url: str | None, label: str | None) -> str:
    """A link to a web page (http and https only; anything else is shown as text)."""
    shown = text(label or url)
    if url and urlsplit(url).scheme in ("http", "https"):
        return f'<a href="{escape(url, quote=True)}" rel="noreferrer noopener">{shown}</a>'
    return shown


def section(section_id: str, title: str, figure: str, caption: str, data: str) -> str:
    return (f'<section id="{section_id}"><h2>{escape(title)}</h2><figure>{figure}<figcaption class="meta">'
            f"{escape(caption)}</figcaption></figure><details><summary>The numbers</summary>{data}</details></section>")


LATEST_RUN_COUNTS = ("new", "known", "revised", "pending", "lost", "throttled", "failed_requests", "failovers",
                     "archive_fetches")


def latest_runs_section(data: ReportData) -> str:
    """A row per site (its latest run), and under it a row of what the run said of itself (stale, on hold, killed)."""
    headers = ["site", "started (UTC)", "took", "new", "known", "revised", "pending", "lost", "throttled", "failed",
               "failovers", "archive", "exit", "hosts", "mirrors admitted"]
    body = []
    for site, site_rows in data.rows.items():
        if not site_rows:
            continue
        row = site_rows[-1]
        cells = [text(site), moment_cell(row["started_at"]), text(duration_text(row["duration_seconds"])),
                 *(text(row[name]) for name in LATEST_RUN_COUNTS), f'<span class="t">{text(exit_text(row["exit_status"]))}</span>',
                 " ".join(badge(host, state, row["hosts_down"].get(host)) for host, state in row["hosts"].items()),
                 text(", ".join(row["mirrors_admitted"]) or None)]
        body.append(cells_row(cells, numeric=set(range(3, 12))))
        notes = [note for note in (row["stale"], row["on_hold"], row["missing"]) if note]
        if notes:
            body.append(f'<tr class="note"><td></td><td colspan="{len(headers) - 1}">{text("; ".join(notes))}</td></tr>')
    return f'<section id="latest-runs"><h2>The latest run of each site</h2>{framed("latest-runs-data", headers, "".join(body))}</section>'


def articles_section(data: ReportData) -> str:
    days, counts = articles_per_day(data.rows)
    if not days:
        return '<section id="articles-per-day"><h2>Articles per day</h2><p>No run kept its counts yet.</p></section>'
    rows = [[text(day), *(text(counts[site][index]) for site in counts)] for index, day in enumerate(days)]
    return section("articles-per-day", "Articles per day", plots.articles_per_day_svg(days, counts),
                   "New articles emitted by the runs that started each day (UTC); a gap is a day without a run.",
                   table("articles-per-day-data", ["day", *counts], rows, numeric=set(range(1, len(counts) + 1))))


def timeline_section(data: ReportData) -> str:
    lanes = host_timeline(data.rows)
    if not lanes:
        return '<section id="host-timeline"><h2>Hosts, run by run</h2><p>No run kept its hosts yet.</p></section>'
    rows = [[text(lane.site), text(lane.host), badge(lane.host, s.state),
             text(f"{s.first_run}" if s.first_run == s.last_run else f"{s.first_run}–{s.last_run}"),
             moment_cell(s.start.isoformat()), moment_cell(s.end.isoformat())]
            for lane in lanes for s in lane.segments]
    states = ", ".join(HOST_STATES)
    return section("host-timeline", "Hosts, run by run", plots.host_timeline_svg(lanes),
                   f"Each host's state in each run ({states}), until the next run; runs are numbered per site from "
                   "the oldest in the report.",
                   table("host-timeline-data", ["site", "host", "state", "runs", "from", "until"], rows))


def events_section(data: ReportData) -> str:
    bucket, events = events_over_time(data.rows)
    rows = []
    for site in data.rows:
        by_time: dict[datetime, list[int]] = {}
        for column, (name, _) in enumerate(EVENTS):
            for x, count in events[name][site]:
                by_time.setdefault(x, [0] * len(EVENTS))[column] = count
        rows += [[text(site), moment_cell(x.isoformat()), *map(text, counts)] for x, counts in sorted(by_time.items())]
    if not rows:
        return '<section id="events"><h2>Failovers, archive fallbacks and throttling</h2><p>No run kept its counts yet.</p></section>'
    return section("events", "Failovers, archive fallbacks and throttling", plots.events_svg(bucket, events),
                   f"Per {bucket}: requests re-issued on another host, articles fetched from a web archive because every "
                   "host failed them, and answers asking to slow down (429, 503 with Retry-After).",
                   table("events-data", ["site", bucket, *(label for _, label in EVENTS)], rows, numeric={2, 3, 4}))


def flags_section(data: ReportData) -> str:
    counted = {site: records.flags for site, records in data.records.items() if records.flags["records"]}
    if not counted:
        return '<section id="flags"><h2>Flagged records</h2><p>No run file holds a record yet.</p></section>'

    def cell(flags, flag):
        share = shares(flags)[flag]
        return "-" if share is None else f"{flags[flag]} ({100 * share:.1f}%)"

    rows = [[text(site), text(flags["records"]), *(text(cell(flags, flag)) for flag in ("truncated", "paywalled", "short"))]
            for site, flags in counted.items()]
    return section("flags", "Flagged records", plots.flag_shares_svg({site: shares(flags) for site, flags in counted.items()}),
                   f"Share of the records in the run files flagged truncated (the page was larger than extraction "
                   f"reads), paywalled, and short (under {SHORT_WORDS} words).",
                   table("flags-data", ["site", "records", "truncated", "paywalled", "short"], rows, numeric={1, 2, 3, 4}))


def newest_articles_section(data: ReportData) -> str:
    rows = [[text(site), f'<span class="t">{text(record["published"])}</span>', link(record["url"], record["title"])]
            for site, records in data.records.items() for record in records.newest]
    if not rows:
        return ""
    return (f'<section id="newest-articles"><h2>Newest articles</h2><p class="meta">Up to {NEWEST_ARTICLES} per site, '
            f"newest published first, from the run files.</p>{table('newest-articles-data', ['site', 'published', 'title'], rows)}</section>")


def shown_source(source: str) -> str:
    """Where the state is, without a password (``redis://:secret@host`` → ``redis://***@host``)."""
    parts = urlsplit(source)
    if parts.password is None:
        return source
    return parts._replace(netloc=f"***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")).geturl()


def render(data: ReportData, source: str, generated: datetime) -> str:
    """The page: the latest runs, the four plots (each with its numbers), the newest articles, what is missing."""
    sites = [site for site, rows in data.rows.items() if rows]
    runs = sum(len(rows) for rows in data.rows.values())
    if sites:
        scope = (f"{plural(runs, 'run')} of {plural(len(sites), 'site')}, started from {data.since:%Y-%m-%d %H:%M} to {data.until:%Y-%m-%d %H:%M} UTC")
        body = "".join((latest_runs_section(data), articles_section(data), timeline_section(data), events_section(data),
                        flags_section(data), newest_articles_section(data)))
    else:
        scope = "no runs"
        body = ('<section id="no-runs"><h2>No runs yet</h2><p>The state holds no run: run <code>newsmirror crawl '
                "SITE</code> first.</p></section>")
    missing = "".join(f"<li>{escape(note)}</li>" for note in data.missing)
    missing_section = f'<section id="missing"><h2>What this report cannot show</h2><ul class="missing">{missing}</ul></section>' if missing else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsmirror report</title>
<style>{CSS}</style>
</head>
<body>
<h1>newsmirror report</h1>
<p class="meta">{escape(scope)}; state {escape(shown_source(source))}; made {generated:%Y-%m-%d %H:%M:%S} UTC.</p>
{body}{missing_section}
</body>
</html>
"""
