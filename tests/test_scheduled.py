"""Scheduled, incremental and resumable crawls: new articles, revisions, conditional feeds, SIGKILL, locking."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.farm.proxy import MirrorFarm
from crawler.farm.sites import FarmSite, harbor_news, make_articles
from crawler.reporting.progress import progress_line

from .conftest import FarmRun, assert_none_survive, process_tree


def article_requests(run):
    return [r for r in run.farm.requests if r.path.startswith("/Detail/")]


def test_new_article_between_runs_is_the_only_one_emitted(farm_run):
    assert farm_run.crawl().returncode == 0
    added = make_articles(1, seed=99, first_id=990000)[0]
    added.channel = "news"
    farm_run.site.articles.insert(0, added)
    farm_run.farm.requests.clear()
    second = farm_run.crawl()
    assert second.returncode == 0
    [newest] = [path for path in farm_run.run_files()][1:]
    records = [json.loads(line) for line in newest.read_text().splitlines()]
    assert [r["title"] for r in records] == [added.title]
    assert [r.path for r in article_requests(farm_run)] == [added.path]


def test_unchanged_feeds_answer_not_modified_on_the_next_run(farm_run):
    assert farm_run.crawl().returncode == 0
    farm_run.farm.requests.clear()
    assert farm_run.crawl().returncode == 0
    feeds = [r for r in farm_run.farm.requests if r.path in ("/rss.xml", "/atom.xml", "/sitemap-news.xml",
                                                             "/sitemap-articles.xml.gz")]
    assert len(feeds) == 12 and all(r.status == 304 for r in feeds)
    # a sitemap index is read every run (an unchanged index may list changed sitemaps), its sitemaps conditionally
    assert {r.status for r in farm_run.farm.requests if r.path == "/sitemap.xml"} == {200}
    assert article_requests(farm_run) == []


def test_text_changed_inside_the_update_window_is_a_new_revision(farm_run):
    recent = farm_run.site.articles[0]
    recent.published = datetime.now(timezone.utc) - timedelta(hours=3)  # inside the 48 h window
    assert farm_run.crawl().returncode == 0
    first = {r["title"]: r for r in farm_run.records()}[recent.title]
    assert first["revision"] == 1
    farm_run.farm.requests.clear()
    assert farm_run.crawl().returncode == 0  # re-fetched, unchanged: nothing emitted
    assert {r.path for r in article_requests(farm_run)} == {recent.path}
    assert len(farm_run.run_files()) == 1
    recent.paragraphs.append("Update: officials later confirmed the figures, which were revised upwards.")
    farm_run.site._pages.clear()
    assert farm_run.crawl().returncode == 0
    revised = [r for r in farm_run.records() if r["id"] == first["id"]]
    assert [r["revision"] for r in revised] == [1, 2]
    assert revised[1]["text"].endswith("which were revised upwards.")
    export = farm_run.cli("export", "--output", str(farm_run.output))
    latest = [json.loads(line) for line in export.stdout.splitlines() if json.loads(line)["id"] == first["id"]]
    assert [r["revision"] for r in latest] == [2]


def test_corrections_are_fetched_again_whatever_the_listing_order(farm_factory):
    run = farm_factory(articles=25)
    run.site.sections_list_all = True  # every article is also linked, without a date, from the section pages
    corrected = run.site.articles[:10]
    for article in corrected:
        article.channel = "sitemap"
    assert run.crawl().returncode == 0
    assert len(run.records()) == 25
    for article in corrected:  # corrected now: the sitemaps give a <lastmod> of now
        article.paragraphs.append(f"Correction: an earlier version of report {article.id} misstated the tonnage.")
        article.modified = datetime.now(timezone.utc).replace(microsecond=0)
    run.site._pages.clear()
    second = run.crawl()
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    revisions = [r for r in run.records() if r["revision"] == 2]
    assert sorted(r["title"] for r in revisions) == sorted(a.title for a in corrected)  # 10 of 10, nothing else
    assert all(r["text"].endswith("misstated the tonnage.") for r in revisions)
    assert len(run.records()) == 35


@pytest.mark.parametrize("kill_after", [1, 7, 18])
def test_sigkill_at_any_point_loses_nothing_and_emits_nothing_twice(farm_factory, kill_after):
    run = farm_factory(articles=30)
    worker = run.start_crawl("-s", "DOWNLOAD_DELAY=0.05", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker.poll() is None and run.lines_written() < kill_after:
        time.sleep(0.005)
    crawl_processes = process_tree(worker.pid)  # the crawl, its extraction pool and resource tracker
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    assert_none_survive(crawl_processes)
    assert run.crawl().returncode == 0
    ids = [r["id"] for r in run.records()]
    assert len(ids) == len(set(ids)) == len(run.site.articles)


def test_kill_9_leaves_no_extraction_worker_behind(farm_factory):
    run = farm_factory(articles=30)
    crawl = run.start_crawl("-s", "DOWNLOAD_DELAY=0.2", "-s", "NEWSMIRROR_EXTRACT_WORKERS=2")
    deadline = time.monotonic() + 60
    while len(process_tree(crawl.pid)) < 4 and time.monotonic() < deadline:  # crawl + 2 workers + tracker
        time.sleep(0.05)
    crawl_processes = process_tree(crawl.pid)
    assert len(crawl_processes) >= 4
    os.kill(crawl.pid, signal.SIGKILL)
    crawl.wait()
    assert_none_survive(crawl_processes, within=5.0)


def test_a_second_crawl_on_the_same_state_exits_75_and_leaves_it_intact(farm_run):
    first = farm_run.start_crawl("-s", "DOWNLOAD_DELAY=0.1")
    lock = farm_run.output / "state.sqlite3.harbor.lock"
    deadline = time.monotonic() + 30
    while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    second = farm_run.crawl()
    assert second.returncode == 75
    assert f"another crawl holds {lock} (pid {first.pid} since".encode() in second.stderr
    assert first.wait(timeout=120) == 0
    ids = [r["id"] for r in farm_run.records()]
    assert len(ids) == len(set(ids)) == len(farm_run.site.articles)
    assert farm_run.crawl().returncode == 0  # the lock went with the first crawl


def test_the_lock_holds_for_the_same_state_reached_through_a_symlink(farm_run):
    first = farm_run.start_crawl("-s", "DOWNLOAD_DELAY=0.1")
    lock = farm_run.output / "state.sqlite3.harbor.lock"
    deadline = time.monotonic() + 30
    while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    alias = farm_run.workdir / "alias"
    alias.symlink_to(farm_run.output, target_is_directory=True)
    second = farm_run.crawl("--state", str(alias / "state.sqlite3"))
    assert second.returncode == 75 and f"another crawl holds {lock.resolve()}".encode() in second.stderr
    assert first.wait(timeout=120) == 0
    ids = [r["id"] for r in farm_run.records()]
    assert len(ids) == len(set(ids)) == len(farm_run.site.articles)


def wal_holds_pages(state: Path) -> bool:
    """The live state's last pages are in its WAL only: the main file is shorter than the database."""
    wal = Path(f"{state}-wal")
    if not (state.exists() and state.stat().st_size and wal.exists() and wal.stat().st_size):
        return False
    with sqlite3.connect(f"{state.as_uri()}?mode=ro", uri=True) as db:
        pages, size = (db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_count", "page_size"))
    return state.stat().st_size < pages * size


def test_a_live_state_file_reached_through_a_symlink_is_busy_never_damaged(farm_factory):
    run = farm_factory(articles=120)
    first = run.start_crawl("-s", "DOWNLOAD_DELAY=0.1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    state = run.output / "state.sqlite3"
    deadline = time.monotonic() + 60
    while not (wal_holds_pages(state) and run.lines_written() >= 3):
        assert time.monotonic() < deadline and first.poll() is None, "the first crawl never wrote its state"
        time.sleep(0.02)
    link = run.workdir / "link.sqlite3"
    link.symlink_to(state)
    second = run.crawl("--state", str(link))
    assert second.returncode == 75, second.stderr.decode()
    assert b"another crawl holds" in second.stderr and b"damaged" not in second.stderr
    for command in (("sites", "--sites", str(run.profile), "--state", str(link)),
                    ("export", "--sites", str(run.profile), "--output", str(run.output), "--state", str(link)),
                    ("state", "backup", "--state", str(link), "-o", str(run.workdir / "copy.sqlite3"))):
        result = run.cli(*command)
        assert result.returncode == 0 and b"damaged" not in result.stderr and b"unreadable" not in result.stderr, \
            (command[0], result.stderr.decode())
    assert first.wait(timeout=120) == 0
    ids = [r["id"] for r in run.records()]
    assert len(ids) == len(set(ids)) == 120


def test_stats_file_and_progress(farm_run):
    result = farm_run.crawl("-s", "NEWSMIRROR_PROGRESS_INTERVAL=0.2", "-s", "DOWNLOAD_DELAY=0.02")
    [stats_file] = (farm_run.output / "harbor").glob("*.stats.json")
    stats = json.loads(stats_file.read_text())
    assert stats["finish_reason"] == "finished" and stats["newsmirror/articles/new"] == len(farm_run.site.articles)
    assert stats_file.name.removesuffix(".stats.json") == farm_run.run_files()[0].stem
    assert b"[crawler.reporting.progress] INFO: harbor: " in result.stderr and b"pages/s" in result.stderr
    line = progress_line("harbor", {"response_received_count": 30, "newsmirror/articles/new": 12,
                                    "newsmirror/failed/h/HTTP 503": 2, "newsmirror/failovers": 1}, 75)
    assert line == "harbor: 30 pages, 12 new, 0 duplicate, 2 failed, 1 failovers, 0.4 pages/s, 1:15"


def test_live_status_line_on_a_terminal(farm_run):
    result = farm_run.crawl("-s", "NEWSMIRROR_LIVE_STATUS=True", "-s", "DOWNLOAD_DELAY=0.05", "-q")
    assert result.returncode == 0
    assert b"\r\x1b[Kharbor: " in result.stderr and result.stderr.count(b"\r\x1b[K") >= 2


def test_paused_run_resumes_from_its_jobdir_without_fetching_twice(farm_factory):
    run = farm_factory(articles=40)
    worker = run.start_crawl("-s", "DOWNLOAD_DELAY=0.1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while run.lines_written() < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGINT)  # Ctrl-C: Scrapy's graceful shutdown
    _, log = worker.communicate(timeout=60)
    job_dir = run.output / "harbor" / ".jobdir"
    assert (job_dir / "requests.seen").exists() and (job_dir / "spider.state").exists(), log.decode()[-2000:]
    first_fetches = [r.path for r in article_requests(run)]
    emitted_first = len(run.records())
    assert 5 <= emitted_first < len(run.site.articles)
    resumed = run.crawl()
    assert resumed.returncode == 0
    assert b"resuming the paused run from" in resumed.stderr
    ids = [r["id"] for r in run.records()]
    assert len(ids) == len(set(ids)) == len(run.site.articles)
    fetches = [r.path for r in article_requests(run)]
    assert len(fetches) == len(set(fetches)) == len(run.site.articles)  # the resumed run fetched only the rest
    assert len(first_fetches) < len(fetches)
    assert not (job_dir / "requests.seen").exists() or (job_dir / "requests.seen").stat().st_size > 0
    farm_run_after = run.crawl()  # the finished run's job dir is discarded: a fresh frontier, nothing new
    assert farm_run_after.returncode == 0 and b"resuming" not in farm_run_after.stderr


def test_a_run_resumed_after_sigterm_does_not_report_a_finished_site_as_down(tmp_path):
    harbor = harbor_news(articles=40)
    quick = FarmSite("realnews", "Real News", ["www.realnews.ir", "www.realnews.co.uk"],
                     make_articles(5, seed=3, first_id=880100))
    farm = MirrorFarm([harbor, quick]).start()
    try:
        run = FarmRun(farm, harbor, tmp_path)
        run.profile.write_text(harbor.profile_toml() + "\n" + quick.profile_toml())
        args = ["crawl", "harbor", "realnews", "--sites", str(run.profile), "--output", str(run.output),
                "-s", "AUTOTHROTTLE_ENABLED=False"]
        first = subprocess.Popen([sys.executable, "-m", "crawler.cli", *args, "-s", "DOWNLOAD_DELAY=0.15"],
                                 cwd=tmp_path, env=run.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not list((run.output / "realnews").glob("*.stats.json")) and time.monotonic() < deadline:
            time.sleep(0.05)  # realnews is done and closed; harbor is still crawling
        assert first.poll() is None, "harbor finished too soon for the test"
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
        second = run.cli(*args)
        log = second.stderr.decode()
        assert second.returncode == 0, log[-2000:]
        assert "FAILED" not in log and "realnews: 0 new articles" in log
        records = [record for site in ("harbor", "realnews") for path in sorted((run.output / site).glob("*.jsonl"))
                   for record in map(json.loads, path.read_text().splitlines())]
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids)) == 45
    finally:
        farm.stop()
