"""The run history without a crawl: what a run stores of its hosts, the stats file's counters, the rows and lines of
`newsmirror runs`, the data behind each plot of the report, the metrics, and bad input (an older state, a killed
run, an empty or damaged state) through the command line."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime, timedelta, timezone

import lxml.html
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from crawler.clean.pipelines import BoilerplateRuleCleaner, ProfileTextCleaner, TemplateCleaner
from crawler.dedup.identity import BY_ID, BY_NEAR_TEXT, BY_TEXT
from crawler.distributed.store import RedisState, summed
from crawler.fetch.blockpages import block_rules
from crawler.output.report import ReportData, SiteRecords, render, shown_source
from crawler.reporting import stats as keys
from crawler.reporting.history import INTERRUPTED, NO_COUNTS, NO_END, header_line, history_rows, run_line, run_row
from crawler.reporting.metrics import MetricsFile, RunHistoryCollector, SiteRuns
from crawler.reporting.outcome import EXIT_STATE, SEIZED, host_states, run_totals
from crawler.reporting.trends import Segment, articles_per_day, events_over_time, flag_counts, host_timeline, shares
from crawler.sites.profiles import SiteProfile
from crawler.state.sqlite import SqliteState

from .conftest import run_cli

HOSTS = ["www.harbornews.ir", "www.harbornews.co.uk", "www.harbornews.tv"]
PROFILE = SiteProfile(id="harbor", name="Harbor News", hosts=HOSTS)
START = datetime(2026, 12, 1, tzinfo=timezone.utc)


def summary(new: int = 3, states: dict | None = None, exit_status: int = 0, **counts) -> dict:
    """A stored run summary (``run_summary``'s layout)."""
    states = states or dict.fromkeys(HOSTS, "up")
    return {"listed": 20, "new": new, "known": 17, "revised": 0, "duplicates": 0, "pending": 0, "lost": 0,
            "throttled": 0, "failed_requests": 0, "failovers": 0, "archive_fetches": 0, **counts,
            "hosts_up": [h for h, s in states.items() if s == "up"],
            "hosts_down": {h: "connection refused" for h, s in states.items() if s == "down"},
            "mirrors_admitted": [], "hosts": states, "on_hold": None, "stale": None, "exit_status": exit_status}


def stored(hours: float, summary_: dict | None, minutes: float = 2, status: str | None = "finished") -> dict:
    """A run as ``StateStore.run_history`` gives it, started ``hours`` after START (a run that never ended, or that
    the next run found interrupted, has no end)."""
    started = START + timedelta(hours=hours)
    ended = status not in (None, "interrupted")
    return {"run_id": started.strftime("%Y%m%dT%H%M%S%fZ"), "started_at": started.isoformat(timespec="seconds"),
            "finished_at": (started + timedelta(minutes=minutes)).isoformat(timespec="seconds") if ended else None,
            "status": status, "summary": summary_}


# -- what a run stores of its hosts, and the stats file ---------------------------------------------------
def test_each_host_has_one_state_per_run():
    stats = {
        keys.host_ok(HOSTS[0]): 12, keys.throttled_by(HOSTS[0]): 2,  # served, but asked to slow down
        keys.host_failed(HOSTS[1], "connection refused"): 1, keys.host_failed(HOSTS[1], SEIZED): 3,
        keys.host_skipped(HOSTS[2]): 4,  # circuit open from the start
        keys.mirror_verdict("joined", "www.harbornews.net"): 1, keys.host_ok("www.harbornews.net"): 3,
    }
    assert host_states(stats, PROFILE) == {HOSTS[0]: "throttled", HOSTS[1]: "seized", HOSTS[2]: "down",
                                           "www.harbornews.net": "up"}
    held = {keys.host_ok(HOSTS[0]): 5, keys.host_held(HOSTS[0]): "banned"}  # the run stopped: the rest never asked
    assert host_states(held, PROFILE) == {HOSTS[0]: "banned", HOSTS[1]: "not asked", HOSTS[2]: "not asked"}


def test_the_seized_state_is_the_seizure_pages_label():
    assert SEIZED in {rule.label for rule in block_rules() if rule.kind == "seizure"}


def test_the_stats_file_names_every_counter_once():
    spelt = {value for name, value in vars(keys).items() if isinstance(value, str) and value.startswith(keys.PREFIX)}
    prefixes = {value for value in spelt if value.endswith("/")}
    assert spelt - set(keys.COUNTERS) - set(keys.NOTES) - prefixes == {keys.STATS_FILE}  # written after the file
    assert len(set(keys.COUNTERS)) == len(keys.COUNTERS)
    assert keys.DUPLICATE_LAYERS == (BY_ID, BY_TEXT, BY_NEAR_TEXT)
    assert keys.CLEANING_LAYERS == tuple(c.layer for c in (ProfileTextCleaner, BoilerplateRuleCleaner, TemplateCleaner))
    full = keys.every_counter({keys.ARTICLES_NEW: 4, keys.failed_request(HOSTS[2], "HTTP 503"): 2}, HOSTS)
    assert full[keys.ARTICLES_NEW] == 4 and full[keys.ARCHIVE_FAILED] == 0 and full[keys.host_ok(HOSTS[2])] == 0
    assert full[keys.failed_request(HOSTS[2], "HTTP 503")] == 2 and full[keys.STALE] is None
    assert all(full[key] == 0 for key in keys.COUNTERS if key != keys.ARTICLES_NEW)


def test_workers_summaries_add_up_and_keep_what_any_worker_saw_of_a_host():
    one = summary(new=2, states={HOSTS[0]: "up", HOSTS[1]: "down", HOSTS[2]: "not asked"})
    other = summary(new=3, states={HOSTS[0]: "not asked", HOSTS[1]: "down", HOSTS[2]: "up"}, exit_status=3)
    both = summed({"a": one, "b": other})
    assert both["new"] == 5 and both["exit_status"] == 3
    assert both["hosts"] == {HOSTS[0]: "up", HOSTS[1]: "down", HOSTS[2]: "up"}
    assert both["hosts_up"] == [HOSTS[0], HOSTS[2]] and both["hosts_down"] == {HOSTS[1]: "connection refused"}


# -- rows and lines ------------------------------------------------------------------------------------------
def test_rows_say_what_a_run_left_unsaid():
    older = {"listed": 5, "new": 5, "hosts_up": [HOSTS[0]], "hosts_down": {HOSTS[1]: SEIZED, HOSTS[2]: "HTTP 503"},
             "exit_status": 0}  # kept before host states were
    runs = [stored(3, None, status=None), stored(2, None, status="interrupted"), stored(1, None), stored(0, older)]
    killed, interrupted, uncounted, old = (run_row("harbor", run) for run in runs)
    assert killed["missing"] == NO_END and killed["duration_seconds"] is None and killed["new"] is None
    assert interrupted["missing"] == INTERRUPTED
    assert uncounted["missing"] == NO_COUNTS and uncounted["duration_seconds"] == 120.0
    assert old["missing"] is None and old["hosts"] == {HOSTS[0]: "up", HOSTS[1]: "seized", HOSTS[2]: "down"}
    assert old["revised"] is None  # not kept then: null, not 0
    rebuilt = {**stored(4, None), "started_at": "20261201T040000000000Z", "finished_at": "20261201T040000000000Z",
               "run_id": "20261201T040000000000Z"}
    assert run_row("harbor", rebuilt)["duration_seconds"] is None  # `state rebuild`: its id stands for its times
    assert [row["run_id"] for row in history_rows("harbor", runs)] == [run["run_id"] for run in reversed(runs)]


def test_a_line_per_run_under_its_header():
    down = summary(new=12, states={HOSTS[0]: "up", HOSTS[1]: "up", HOSTS[2]: "down"}, failed_requests=4)
    down["mirrors_admitted"] = ["www.harbornews.net"]
    rows = history_rows("harbor", [stored(1, None, status=None), stored(0, down, minutes=3.5)])
    header, line, killed = header_line(6), run_line(rows[0], 6), run_line(rows[1], 6)
    assert line.split()[:5] == ["harbor", "2026-12-01", "00:00:00", "3m30s", "12"]
    assert line.index(" 12 ") + len(" 12") == header.index("new") + len("new")  # counts align right under their heading
    assert line.endswith(f"0 done        {HOSTS[2]} down (connection refused); mirrors admitted: www.harbornews.net")
    assert killed.split()[3:13] == ["-"] * 10 and killed.endswith(NO_END)


# -- the data behind the plots ------------------------------------------------------------------------------
def rows_of(site: str, runs: list[dict]) -> list[dict]:
    return history_rows(site, list(reversed(runs)))


def test_articles_per_day_leave_days_without_runs_empty():
    harbor = rows_of("harbor", [stored(1, summary(new=4)), stored(13, summary(new=6)), stored(50, summary(new=1))])
    gulf = rows_of("gulf", [stored(2, summary(new=9)), stored(26, None)])  # a killed run keeps no count
    days, counts = articles_per_day({"harbor": harbor, "gulf": gulf})
    assert days == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert counts == {"harbor": [10, None, 1], "gulf": [9, None, None]}
    assert articles_per_day({"harbor": []}) == ([], {"harbor": []})


def test_the_host_timeline_merges_runs_in_one_state():
    up, down = dict.fromkeys(HOSTS, "up"), {**dict.fromkeys(HOSTS, "up"), HOSTS[2]: "down"}
    runs = [stored(hour, summary(states=down if hour in (2, 3, 4) else up)) for hour in range(6)]
    runs[5] = stored(5, None)  # ended without its counts: a gap
    runs.append(stored(6, summary(states={**up, "www.harbornews.net": "up"})))  # a mirror joins
    lanes = host_timeline({"harbor": rows_of("harbor", runs)})
    assert [(lane.site, lane.host) for lane in lanes] == [("harbor", h) for h in [*HOSTS, "www.harbornews.net"]]
    third = lanes[2].segments
    assert [(s.state, s.first_run, s.last_run) for s in third] == [("up", 1, 2), ("down", 3, 5), ("up", 7, 7)]
    assert third[1] == Segment(START + timedelta(hours=2), START + timedelta(hours=5), "down", 3, 5)
    assert third[2].end == START + timedelta(hours=7)  # the latest run lasts until a usual next run
    assert [(s.first_run, s.last_run) for s in lanes[3].segments] == [(7, 7)]


def test_events_per_run_then_per_day_over_longer_spans():
    runs = [stored(0, summary(failovers=3)), stored(6, summary(archive_fetches=2, throttled=5)), stored(7, None)]
    bucket, events = events_over_time({"harbor": rows_of("harbor", runs)})
    assert bucket == "run"
    assert events["failovers"]["harbor"] == [(START, 3), (START + timedelta(hours=6), 0)]
    assert events["throttled"]["harbor"] == [(START, 0), (START + timedelta(hours=6), 5)]
    runs.append(stored(24 * 4, summary(failovers=1)))
    bucket, events = events_over_time({"harbor": rows_of("harbor", runs)})
    assert bucket == "day" and events["failovers"]["harbor"] == [(START, 3), (START + timedelta(days=4), 1)]


def test_flag_shares_know_when_a_field_is_not_recorded():
    old = [{"id": "a", "truncated": True}, {"id": "b", "truncated": False}, {"id": "c"}, {"id": "d", "truncated": None}]
    assert flag_counts(old) == {"records": 4, "truncated": 1, "paywalled": None, "short": None}
    assert shares(flag_counts(old)) == {"truncated": 0.25, "paywalled": None, "short": None}
    new = [{"id": "a", "paywalled": True, "word_count": 80}, {"id": "b", "paywalled": False, "word_count": 600},
           {"id": "c", "paywalled": None, "word_count": None}]
    assert flag_counts(new) == {"records": 3, "truncated": 0, "paywalled": 1, "short": 1}
    assert shares(flag_counts([])) == {"truncated": None, "paywalled": None, "short": None}


# -- metrics -------------------------------------------------------------------------------------------------
def metrics_of(histories: dict) -> dict[tuple, float]:
    sites = {site: SiteRuns(runs, run_totals(runs)) for site, runs in histories.items()}
    text = generate_latest(RunHistoryCollector(sites)).decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_of_every_site():
    harbor = [stored(3, None, status=None),  # running, or killed: not the latest run that ended
              stored(2, summary(new=0, exit_status=4, failovers=2), minutes=1),
              stored(1, summary(new=5, states={**dict.fromkeys(HOSTS, "up"), HOSTS[1]: "seized"}, throttled=3)),
              stored(0, summary(new=7, failovers=1))]
    never = [stored(0, summary(exit_status=1, states=dict.fromkeys(HOSTS, "down")))]
    metrics = metrics_of({"harbor": harbor, "gulf": never})
    site = (("site", "harbor"),)
    assert metrics["newsmirror_last_run_exit_status", site] == 4
    assert metrics["newsmirror_last_run_timestamp_seconds", site] == (START + timedelta(hours=2, minutes=1)).timestamp()
    assert metrics["newsmirror_last_success_timestamp_seconds", site] == (START + timedelta(hours=1, minutes=2)).timestamp()
    assert metrics["newsmirror_last_success_timestamp_seconds", (("site", "gulf"),)] == 0
    assert metrics["newsmirror_last_run_duration_seconds", site] == 60
    assert metrics["newsmirror_runs_total", site] == 3
    assert metrics["newsmirror_articles_total", (("kind", "new"), *site)] == 12
    assert metrics["newsmirror_failovers_total", site] == 3 and metrics["newsmirror_throttled_requests_total", site] == 3
    assert metrics["newsmirror_last_run_hosts", (*site, ("state", "up"))] == 3
    assert metrics["newsmirror_last_run_hosts", (("site", "gulf"), ("state", "down"))] == 3
    assert metrics["newsmirror_host_up", (("host", HOSTS[1]), ("site", "gulf"))] == 0
    assert metrics["newsmirror_host_state", (("host", HOSTS[1]), *site, ("state", "up"))] == 1


def test_a_metrics_file_that_cannot_be_written_is_one_error_line(tmp_path, caplog):
    state = SqliteState(tmp_path / "state.sqlite3")
    state.start_run("20261201T000000000000Z", "harbor", START.isoformat())
    state.finish_run("20261201T000000000000Z", START.isoformat(), "finished", summary())
    (tmp_path / "gone").mkdir()
    extension = MetricsFile(tmp_path / "gone" / "newsmirror.prom")
    (tmp_path / "gone").rmdir()  # removed while the crawl ran
    with caplog.at_level(logging.ERROR):
        extension.run_recorded(state)
    assert [record.getMessage() for record in caplog.records] == [
        f"cannot write the metrics file {tmp_path / 'gone' / 'newsmirror.prom'}: No such file or directory; the run "
        "itself is recorded"]
    written = MetricsFile(tmp_path / "newsmirror.prom")
    written.run_recorded(state)
    assert 'newsmirror_runs_total{site="harbor"} 1.0' in (tmp_path / "newsmirror.prom").read_text()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith("newsmirror.prom")] == ["newsmirror.prom"]


# -- the page escapes what came from the web ---------------------------------------------------------------
def test_the_page_shows_markup_from_the_web_as_text():
    evil = '<img src=x onerror="alert(1)">'
    states = {f"www.{evil}.ir": "up", "www.harbornews.tv": "down"}
    stored_summary = {**summary(states=states), "stale": f"no listing named {evil}",
                      "hosts_down": {"www.harbornews.tv": f"redirected off the site to http://{evil}/"}}
    row = run_row("harbor", stored(0, stored_summary))
    records = SiteRecords({"records": 2, "truncated": 1, "paywalled": None, "short": None}, [
        {"title": evil, "url": "javascript:alert(1)", "published": None},
        {"title": "A fair title", "url": 'http://www.harbornews.ir/a?b="><script>x</script>', "published": None}])
    page = render(ReportData({"harbor": [row]}, {"harbor": records}, [f"missing {evil}"], START, START),
                  "redis://:hunter2@redis.example:6379/0", START)
    document = lxml.html.fromstring(page)
    assert document.xpath("//script") == [] and document.xpath("//img") == [] and document.xpath("//@onerror") == []
    assert evil in document.get_element_by_id("newest-articles-data").text_content()
    assert document.xpath("//a/@href") == ['http://www.harbornews.ir/a?b="><script>x</script>']  # no javascript: link
    latest = document.get_element_by_id("latest-runs-data").text_content()
    assert f"www.{evil}.ir: up" in latest and f"www.harbornews.tv: down (redirected off the site to http://{evil}/)" in latest
    assert f"no listing named {evil}" in latest
    assert "hunter2" not in page and "redis://***@redis.example:6379/0" in page
    assert shown_source("/srv/output/state.sqlite3") == "/srv/output/state.sqlite3"
    svg = document.get_element_by_id("host-timeline").xpath(".//*[local-name()='svg']")[0]
    assert "<img" not in lxml.html.tostring(svg).decode()  # the host's name in the plot is text too


# -- bad input through the command line ---------------------------------------------------------------------
def old_state(path) -> None:
    """A state from before run summaries were kept: its runs table has no summary column."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, site TEXT NOT NULL, started_at TEXT NOT NULL, "
               "finished_at TEXT, status TEXT)")
    db.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?)", [
        ("20261130T000000000000Z", "harbor", "2026-11-30T00:00:00+00:00", "2026-11-30T00:01:00+00:00", "finished"),
        ("20261201T000000000000Z", "harbor", "2026-12-01T00:00:00+00:00", None, None)])
    db.commit()
    db.close()


def test_an_older_state_and_a_killed_run_say_what_is_missing(tmp_path):
    old_state(tmp_path / "state.sqlite3")
    before = (tmp_path / "state.sqlite3").read_bytes()
    listed = run_cli("runs", "--output", str(tmp_path), cwd=tmp_path)
    lines = listed.stdout.decode().splitlines()
    assert listed.returncode == 0 and len(lines) == 3 and lines[1].endswith(NO_COUNTS) and lines[2].endswith(NO_END)
    made = run_cli("report", "--output", str(tmp_path), cwd=tmp_path)
    assert made.returncode == 0 and "Traceback" not in made.stderr.decode()
    page = lxml.html.parse(str(tmp_path / "report.html")).getroot()
    assert "harbor: 2 of 2 runs kept no counts" in page.get_element_by_id("missing").text_content()
    assert "No run kept its counts yet." in page.get_element_by_id("articles-per-day").text_content()
    assert (tmp_path / "state.sqlite3").read_bytes() == before  # read, never migrated


def test_an_empty_state_is_one_line_or_a_report_that_says_so(tmp_path):
    listed = run_cli("runs", "--output", str(tmp_path), cwd=tmp_path)
    assert listed.returncode == 1 and listed.stdout == b""
    assert listed.stderr.decode() == (f"newsmirror runs: no runs in {tmp_path / 'state.sqlite3'} yet (run `newsmirror "
                                      "crawl SITE` first)\n")
    made = run_cli("report", "--output", str(tmp_path), cwd=tmp_path)
    assert made.returncode == 0 and made.stderr.decode() == f"newsmirror report: no runs yet -> {tmp_path / 'report.html'}\n"
    page = lxml.html.parse(str(tmp_path / "report.html")).getroot()
    assert "No runs yet" in page.get_element_by_id("no-runs").text_content()
    SqliteState(tmp_path / "state.sqlite3").close()  # a state with no run
    assert run_cli("runs", "harbor", "--output", str(tmp_path), cwd=tmp_path).stderr.decode() == \
        f"newsmirror runs: no runs of harbor in {tmp_path / 'state.sqlite3'}\n"


def test_a_damaged_or_missing_state_is_one_line(tmp_path):
    (tmp_path / "state.sqlite3").write_bytes(b"not a database, but a file someone wrote over it" * 100)
    for command in ("runs", "report"):
        result = run_cli(command, "--output", str(tmp_path), cwd=tmp_path)
        error = result.stderr.decode()
        assert result.returncode == EXIT_STATE and len(error.splitlines()) == 1 and "Traceback" not in error, error
        assert "cannot read the state" in error and "state rebuild" in error
    missing = run_cli("runs", "--state", str(tmp_path / "nowhere.sqlite3"), cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.decode() == (
        f"newsmirror runs: --state {tmp_path / 'nowhere.sqlite3'}: no such state file\n")


def test_runs_reads_a_distributed_crawls_runs(redis_url, tmp_path):
    import redis

    for site in ("harbor", "gulf"):
        state = RedisState(redis.Redis.from_url(redis_url), site)
        state.start_run(f"2026120{len(site)}T000000000000Z", site, START.isoformat())
        state.finish_run(f"2026120{len(site)}T000000000000Z", START.isoformat(), "finished", summary(new=len(site)))
    listed = run_cli("runs", "--redis", redis_url, "--json", cwd=tmp_path)
    rows = [json.loads(line) for line in listed.stdout.decode().splitlines()]
    assert listed.returncode == 0 and [(row["site"], row["new"]) for row in rows] == [("gulf", 4), ("harbor", 6)]
