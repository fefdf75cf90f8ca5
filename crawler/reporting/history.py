"""A site's run history as people and programs read it: each stored run as one row in the documented layout
(``newsmirror runs --json``; docs/operations.md, "Run history"), and as one line of ``newsmirror runs``."""

from __future__ import annotations

from datetime import datetime, timezone

from crawler.reporting.outcome import EXIT_LABELS, NOT_ASKED, SEIZED

COUNTS = ("listed", "new", "known", "revised", "duplicates", "pending", "lost", "throttled", "failed_requests",
          "failovers", "archive_fetches")  # a run summary's counts (crawler.reporting.outcome.run_summary)
NO_END = "no end recorded: still running, or killed (the site's next run recovers what it wrote)"
INTERRUPTED = "interrupted: killed before it ended; a later run recovered what it wrote"
NO_COUNTS = "no counts: it ended before newsmirror kept them (an older version, or a state rebuilt from run files)"


def moment(text: str | None) -> datetime | None:
    """A time the state wrote (ISO 8601, or a run id such as ``20261206T010000000000Z``) in UTC, or None."""
    try:
        when = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return when if when is None or when.tzinfo else when.replace(tzinfo=timezone.utc)


def host_states_of(summary: dict) -> dict[str, str]:
    """Each host's state in a stored summary; a summary from before states were kept has them from its hosts up
    and down (a host it did not name was not asked)."""
    if "hosts" in summary:
        return summary["hosts"]
    states = dict.fromkeys(summary.get("hosts_up", []), "up")
    for host, why in (summary.get("hosts_down") or {}).items():
        states[host] = "seized" if why == SEIZED else "down"
    return states


def run_row(site: str, run: dict) -> dict:
    """One stored run (``StateStore.run_history``'s entry) in the documented layout: its site, id, times, how it
    ended, its counts (null when the run kept none), each host's state and what it left unsaid (``missing``)."""
    summary = run["summary"] or {}
    started, finished = moment(run["started_at"]), moment(run["finished_at"])
    if run["started_at"] == run["run_id"]:  # rebuilt from its run file (``state rebuild``): its id stands for its times
        finished = None
    missing = None
    if run["finished_at"] is None:
        missing = INTERRUPTED if run["status"] == "interrupted" else NO_END
    elif not summary:
        missing = NO_COUNTS
    return {
        "site": site, "run_id": run["run_id"], "started_at": run["started_at"], "finished_at": run["finished_at"],
        "duration_seconds": round((finished - started).total_seconds(), 1) if started and finished else None,
        "status": run["status"], "exit_status": summary.get("exit_status"),
        **{name: summary.get(name) for name in COUNTS},
        "hosts": host_states_of(summary), "hosts_down": summary.get("hosts_down", {}),
        "mirrors_admitted": summary.get("mirrors_admitted", []), "on_hold": summary.get("on_hold"),
        "stale": summary.get("stale"), "missing": missing,
    }


def history_rows(site: str, runs: list[dict]) -> list[dict]:
    """A site's stored runs (newest first, as the store gives them) as rows, oldest first."""
    return [run_row(site, run) for run in reversed(runs)]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def time_text(text: str | None) -> str:
    """A stored time as ``2026-12-06 01:00:00`` (UTC), or as stored when it cannot be read."""
    when = moment(text)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if when else str(text or "-")


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def exit_text(status: int | None) -> str:
    return "-" if status is None else f"{status} {EXIT_LABELS.get(status, '')}".rstrip()


def hosts_text(row: dict) -> str:
    """The hosts that did not serve the run, with their state and first failure: ``www.b down (HTTP 503)``."""
    return ", ".join(f"{host} {state}" + (f" ({row['hosts_down'][host]})" if host in row["hosts_down"] else "")
                     for host, state in row["hosts"].items() if state not in ("up", NOT_ASKED))


LINE_COLUMNS = (("started (UTC)", 19), ("took", 7), ("new", 5), ("known", 6), ("revised", 7), ("pending", 7),
                ("lost", 5), ("throttled", 9), ("failed", 6), ("archive", 7), ("exit", 12))
LINE_COUNTS = ("new", "known", "revised", "pending", "lost", "throttled", "failed_requests", "archive_fetches")


def aligned(site: str, site_width: int, cells: list[str], notes: str) -> str:
    """A line of ``LINE_COLUMNS``: the first and last cells (a time, a word) to the left, the counts to the right."""
    texts = [cell.ljust(width) if index in (0, len(cells) - 1) else cell.rjust(width)
             for index, (cell, (_, width)) in enumerate(zip(cells, LINE_COLUMNS))]
    return f"{site:<{site_width}}  {'  '.join(texts)}  {notes}".rstrip()


def header_line(site_width: int) -> str:
    return aligned("site", site_width, [name for name, _ in LINE_COLUMNS], "notes")


def run_line(row: dict, site_width: int) -> str:
    """One line of ``newsmirror runs``: site, start, duration, the counts, exit status, then the hosts that did not
    serve, the mirrors admitted and what the run left unsaid."""
    cells = [time_text(row["started_at"]), duration_text(row["duration_seconds"]),
             *("-" if row[name] is None else str(row[name]) for name in LINE_COUNTS), exit_text(row["exit_status"])]
    mirrors = ", ".join(row["mirrors_admitted"])
    notes = [hosts_text(row), f"mirrors admitted: {mirrors}" if mirrors else "", row["missing"] or ""]
    return aligned(row["site"], site_width, cells, "; ".join(note for note in notes if note))
