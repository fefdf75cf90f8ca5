"""Crawls a person can watch over weeks, end to end on the farm: ten scheduled runs of a site whose third host is
down in runs 3 to 5, whose second serves a seizure notice in run 6 and which is redesigned in run 8, seen through
`newsmirror runs`, the metrics file and the report."""

from __future__ import annotations

import json
import re
from datetime import datetime

import lxml.html
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crawler.farm.proxy import MirrorFarm
from crawler.farm.sites import harbor_news, make_articles
from crawler.reporting import stats as keys
from crawler.reporting.outcome import EXIT_OK, EXIT_STALE, EXIT_WRITE

from .conftest import FarmRun

SCRIPT_TITLE = "<script>alert(1)</script>"
RUNS = 10
DOWN, SEIZED, REDESIGNED = range(3, 6), 6, 8  # run numbers, from 1


@pytest.fixture(scope="module")
def ten_runs(tmp_path_factory):
    """The ten runs, the metrics file as each run left it, and each run's result."""
    site = harbor_news(articles=6)
    site.articles[0].title = SCRIPT_TITLE
    primary, mirror, third = site.hosts
    with MirrorFarm([site]) as farm:
        run = FarmRun(farm, site, tmp_path_factory.mktemp("ten-runs"))
        metrics = run.workdir / "metrics" / "newsmirror.prom"
        metrics.parent.mkdir()
        snapshots, results = [], []
        for number in range(1, RUNS + 1):
            if number > 1:  # one new article a run
                site.articles.insert(0, make_articles(1, seed=100 + number, first_id=990000 + number)[0])
            farm.set_fault(third, "refuse" if number in DOWN else None)
            farm.set_fault(mirror, "seized" if number == SEIZED else None)
            site.redesigned = number >= REDESIGNED
            result = run.crawl("-q", "--metrics", str(metrics))
            results.append(result)
            snapshots.append(metrics.read_text())
        yield run, results, snapshots


def samples(text: str, name: str) -> dict[tuple, float]:
    """A metric's samples from a metrics file, read back with prometheus-client's parser: {labels: value}."""
    return {tuple(sorted(sample.labels.items())): sample.value for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == name}


def test_runs_exit_as_the_site_behaved(ten_runs):
    run, results, _ = ten_runs
    statuses = [result.returncode for result in results]
    assert statuses == [EXIT_OK] * (REDESIGNED - 1) + [EXIT_STALE] * (RUNS - REDESIGNED + 1), \
        [result.stderr.decode()[-600:] for result in results]
    for result in results:  # the summary line starts with the time
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ harbor: \d+ new articles", result.stderr.decode().splitlines()[-1])


def test_runs_lists_each_run_with_its_hosts_and_exit_status(ten_runs):
    run, _, _ = ten_runs
    _, mirror, third = run.site.hosts
    listed = run.cli("runs", "--output", str(run.output), "--json")
    assert listed.returncode == 0, listed.stderr.decode()
    rows = [json.loads(line) for line in listed.stdout.decode().splitlines()]
    assert len(rows) == RUNS and all(row["site"] == "harbor" and row["missing"] is None for row in rows)
    assert [row["new"] for row in rows] == [6] + [1] * (REDESIGNED - 2) + [0] * (RUNS - REDESIGNED + 1)
    assert [row["hosts"][third] for row in rows] == ["down" if n in DOWN else "up" for n in range(1, RUNS + 1)]
    assert [row["hosts"][mirror] for row in rows] == ["seized" if n == SEIZED else "up" for n in range(1, RUNS + 1)]
    assert [row["exit_status"] for row in rows] == [0] * (REDESIGNED - 1) + [4] * (RUNS - REDESIGNED + 1)
    assert all(row["stale"] for row in rows[REDESIGNED - 1:]) and not any(row["stale"] for row in rows[:REDESIGNED - 1])
    assert all(row["duration_seconds"] > 0 and row["finished_at"] > row["started_at"] for row in rows)

    text = run.cli("runs", "--output", str(run.output), "--last", "5").stdout.decode().splitlines()
    assert text[0].split()[:3] == ["site", "started", "(UTC)"] and len(text) == 6  # the header, runs 6 to 10
    assert [line.split()[-2:] for line in text[-3:]] == [["4", "stale"]] * 3
    assert f"{mirror} seized (seizure notice)" in text[1]
    earlier = run.cli("runs", "harbor", "--output", str(run.output)).stdout.decode().splitlines()
    assert [f"{third} down" in line for line in earlier[1:]] == [n in DOWN for n in range(1, RUNS + 1)]


def test_the_metrics_file_tells_each_run_apart(ten_runs):
    run, _, snapshots = ten_runs
    _, mirror, third = run.site.hosts
    rows = [json.loads(line) for line in run.cli("runs", "--output", str(run.output), "--json").stdout.splitlines()]
    site = (("site", "harbor"),)

    def host(name, text):
        return samples(text, name)

    for number, text in enumerate(snapshots, 1):
        assert samples(text, "newsmirror_runs_total") == {site: number}
        assert samples(text, "newsmirror_last_run_exit_status") == {site: 0 if number < REDESIGNED else 4}
        up = host("newsmirror_host_up", text)
        assert up[(("host", third), *site)] == (0 if number in DOWN else 1)
        assert up[(("host", mirror), *site)] == (0 if number == SEIZED else 1)
        state = host("newsmirror_host_state", text)
        assert state[(("host", mirror), *site, ("state", "seized"))] == (1 if number == SEIZED else 0)
    last = snapshots[-1]
    seventh = rows[REDESIGNED - 2]
    assert samples(last, "newsmirror_last_success_timestamp_seconds")[site] == datetime.fromisoformat(seventh["finished_at"]).timestamp()
    assert samples(last, "newsmirror_last_run_timestamp_seconds")[site] > samples(last, "newsmirror_last_success_timestamp_seconds")[site]
    assert samples(last, "newsmirror_articles_total")[(("kind", "new"), *site)] == 6 + REDESIGNED - 2
    assert samples(last, "newsmirror_last_run_articles")[(("kind", "new"), *site)] == 0
    assert samples(last, "newsmirror_last_run_hosts")[(*site, ("state", "up"))] == 3
    assert samples(last, "newsmirror_failed_requests_total")[site] == sum(row["failed_requests"] for row in rows)


def test_the_report_shows_the_runs_and_escapes_the_web(ten_runs, tmp_path):
    run, _, _ = ten_runs
    _, mirror, third = run.site.hosts
    target = tmp_path / "report.html"
    made = run.cli("report", "--output", str(run.output), "-o", str(target))
    assert made.returncode == 0 and f"10 runs of 1 site -> {target}" in made.stderr.decode(), made.stderr.decode()
    page = lxml.html.parse(str(target)).getroot()

    def table(table_id: str) -> list[list[str]]:
        return [[cell.text_content().strip() for cell in row.xpath("td")] for row in page.get_element_by_id(table_id).xpath("tbody/tr")]

    for plot in ("articles-per-day", "host-timeline", "events", "flags"):
        assert len(page.get_element_by_id(plot).xpath(".//*[local-name()='svg']")) == 1, plot
    assert sum(int(row[1]) for row in table("articles-per-day-data")) == 6 + REDESIGNED - 2
    timeline = [(host, state, runs) for site, host, state, runs, *_ in table("host-timeline-data")]
    assert (third, f"{third}: down", "3–5") in timeline and (third, f"{third}: up", "6–10") in timeline
    assert (mirror, f"{mirror}: seized", "6") in timeline
    assert len(table("events-data")) == RUNS
    latest, note = table("latest-runs-data")
    assert latest[0] == "harbor" and latest[12] == "4 stale" and "no listing named an article URL" in note[1]
    flags = table("flags-data")
    assert flags[0][:3] == ["harbor", str(6 + REDESIGNED - 2), "0 (0.0%)"]
    # what came from the web is text, never markup: the article titled <script>... shows as its title, and the page
    # has no script, nothing to fetch
    titles = [row[2] for row in table("newest-articles-data")]
    assert SCRIPT_TITLE in titles
    assert page.xpath("//script") == [] and page.xpath("//@src") == [] and page.xpath("//link") == []
    assert SCRIPT_TITLE not in target.read_text() and "&lt;script&gt;alert(1)&lt;/script&gt;" in target.read_text()


def test_the_stats_file_has_every_counter(ten_runs):
    run, _, _ = ten_runs
    first = json.loads(min((run.output / "harbor").glob("*.stats.json")).read_text())
    assert first["stats_layout"] == keys.STATS_LAYOUT and first["finish_reason"] == "finished"
    assert all(isinstance(first[key], int) for key in keys.COUNTERS)
    assert first[keys.ARCHIVE_FAILED] == 0 and first[keys.ARTICLES_NEW] == 6 and first[keys.EXIT_STATUS] == EXIT_OK
    assert all(first[counter(host)] >= 0 for host in run.site.hosts for counter in keys.HOST_COUNTERS)
    assert first[keys.STALE] is None and first[keys.ON_HOLD] is None


def test_an_unwritable_metrics_path_is_one_line_before_any_request(farm_run, tmp_path):
    textfiles = tmp_path / "textfile_collector"  # node_exporter's directory, another user's
    textfiles.mkdir(mode=0o555)
    result = farm_run.cli_as_user(*farm_run.crawl_args("--metrics", str(textfiles / "newsmirror.prom")))
    error = result.stderr.decode()
    assert result.returncode == EXIT_WRITE and "Traceback" not in error
    assert error.strip().splitlines() == [f"newsmirror crawl: --metrics {textfiles / 'newsmirror.prom'}: cannot write to "
                                          f"{textfiles}: Permission denied; not starting"]
    assert farm_run.farm.requests == []
