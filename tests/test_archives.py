"""Web archives as the last mirror: failover to the newest good snapshot when every live host fails an
article, and backfill of a dead site's history from the archives' CDX (tested against the farm's
Wayback-compatible archive: CDX JSON, resume keys, id_ snapshots, a 429 with Retry-After, a seizure snapshot)."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from crawler.farm.archive import Capture, FarmArchive
from crawler.farm.proxy import MirrorFarm
from crawler.farm.sites import harbor_news
from crawler.fetch.archive_politeness import retry_after
from crawler.fetch.archives import CdxError, Snapshot, cdx_query, parse_cdx

from .conftest import FarmRun, assert_none_survive, process_tree

RETIRED = "www.harbornews.com"


# -- the CDX API, at unit level --------------------------------------------------------------------------
def test_cdx_queries_follow_the_wayback_cdx_api():
    query = cdx_query("https://web.archive.org", "www.presstv.com/", prefix=True, collapse=True, since="20190101",
                      page_size=500, resume_key="com%2Cpresstv")
    assert query.startswith("https://web.archive.org/cdx/search/cdx?url=www.presstv.com%2F&output=json&")
    for part in ("fl=timestamp%2Coriginal%2Cstatuscode%2Cmimetype%2Cdigest", "filter=statuscode%3A200",
                 "matchType=prefix", "collapse=urlkey", "from=20190101", "limit=500", "showResumeKey=true",
                 "resumeKey=com%252Cpresstv"):
        assert part in query
    assert "limit=-5" in cdx_query("https://web.archive.org", "www.presstv.com/Detail/1", newest=5)


def test_cdx_answers_with_a_resume_key_and_bad_rows():
    body = json.dumps([["timestamp", "original", "statuscode", "mimetype", "digest"],
                       ["20200101120000", "http://www.presstv.com/Detail/2020/1/1/1/a", "200", "text/html", "X"],
                       ["20200102", "http://www.presstv.com/Detail/2020/1/2/2/b", "404", "text/html", "Y"],
                       ["junk"],
                       ["20200103120000", "mailto:x@y", "200", "text/html", "Z"],
                       [], ["com,presstv)/detail/2020 20200103120000"]]).encode()
    page = parse_cdx("https://web.archive.org", body)
    assert [s.original for s in page.snapshots] == ["http://www.presstv.com/Detail/2020/1/1/1/a"]
    assert page.resume_key == "com,presstv)/detail/2020 20200103120000"
    snapshot = page.snapshots[0]
    assert snapshot.url == "https://web.archive.org/web/20200101120000id_/http://www.presstv.com/Detail/2020/1/1/1/a"
    assert snapshot.archived_at == "2020-01-01T12:00:00+00:00"
    assert parse_cdx("https://web.archive.org", b"").snapshots == []
    with pytest.raises(CdxError):
        parse_cdx("https://web.archive.org", body[:57])  # truncated JSON
    assert Snapshot("http://a", "2020", "http://x/").archived_at == "2020-01-01T00:00:00+00:00"


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after(b"7") == 7.0
    assert retry_after(b"Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after(None) == 60.0 and retry_after(b"100000") == 900.0


# -- on the farm ------------------------------------------------------------------------------------------
@pytest.fixture
def archived_site(tmp_path):
    """Harbor News on two live hosts, formerly also on a retired host, with a web archive holding every article
    (on the retired host, and on the primary); one article's newest snapshot is a seizure notice."""
    site = harbor_news(articles=16, hosts=2)
    archive = FarmArchive()
    archive.capture_site(site, RETIRED)
    archive.capture_site(site, site.hosts[0])
    seized = site.articles[3]
    for host in (RETIRED, site.hosts[0]):
        archive.seize(f"http://{host}{seized.path}", "20261201000000")
        # bad archive data, each with a good copy behind it: a newer snapshot the archive answers 404 for,
        # a newer archived redirect (not a 200: never taken), and a CDX answer cut short for the primary
        archive.captures.append(Capture("20261202000000", f"http://{host}{site.articles[5].path}", None))
        archive.captures.append(Capture("20261202000000", f"http://{host}{site.articles[6].path}",
                                        b"<html><body>Moved</body></html>", status="302"))
    archive.truncated_cdx.add(f"{site.hosts[0]}{site.articles[7].path}")
    farm = MirrorFarm([site, archive]).start()
    run = FarmRun(farm, site, tmp_path)
    run.profile.write_text(site.profile_toml().replace(
        "\n\n[harbor.clean]", f'\narchives = ["{archive.base}"]\nretired = ["{RETIRED}"]\n\n[harbor.clean]'))
    run.archive, run.seized = archive, seized
    yield run
    farm.stop()


def test_articles_every_host_fails_come_from_the_archive_once(archived_site):
    run = archived_site
    run.site.article_status = 503  # listings answer, every article page fails on every host
    result = run.crawl("-s", "ARCHIVE_DELAY=0.05", "-s", "RETRY_TIMES=0")
    log = result.stderr.decode()
    assert result.returncode == 0, log[-3000:]
    records = run.records()
    by_title = {r["title"]: r for r in records}
    assert sorted(by_title) == sorted(a.title for a in run.site.articles) and len(records) == 16
    for article in run.site.articles:
        record = by_title[article.title]
        assert record["text"].split("\n") == article.paragraphs  # the page, not the seizure notice
        assert record["source"].startswith(f"{run.archive.base}/web/") and "id_/" in record["source"]
        assert record["archived_at"] and record["archived_at"] < "2026-12-01"
        assert record["url"] == f"http://{run.site.hosts[0]}{article.path}"
    for bad in (run.seized, *run.site.articles[5:8]):  # the older good snapshot, or another host's
        assert by_title[bad.title]["archived_at"] < "2026-12-01" and by_title[bad.title]["text"].split("\n") == bad.paragraphs
    assert "not CDX JSON" in log
    assert run.archive.throttled == 1 and "rate limited (429)" in log and "Traceback" not in log
    assert "0 lost" in log.splitlines()[-1]
    run.site.article_status = None  # the hosts come back: nothing is emitted twice
    again = run.crawl()
    assert again.returncode == 0 and "harbor: 0 new articles" in again.stderr.decode()


def test_scrape_of_an_article_every_host_fails_comes_from_the_archive(archived_site):
    run = archived_site
    run.site.article_status = 503
    seized = run.seized  # its newest snapshot is a seizure notice: the older good one is taken
    target = f"http://{run.site.hosts[0]}{seized.path}"
    never = f"http://{run.site.hosts[0]}/Detail/2026/1/1/999999/Never-archived"
    result = run.cli("scrape", "--sites", str(run.profile), target, never, "-s", "ARCHIVE_DELAY=0.05", "-s", "RETRY_TIMES=0")
    found, missing = (json.loads(line) for line in result.stdout.decode().splitlines())
    assert result.returncode == 1  # one target could not be had at all
    assert found["source"] == target and found["url"] == target and found["title"] == seized.title
    assert found["text"].split("\n") == seized.paragraphs and "2019" < found["archived_at"] < "2026-12-01"
    assert found["mirror_urls"] == [target]  # the snapshot taken is the primary's
    assert missing["source"] == never and "no archive has a good copy" in missing["error"]
    assert "HTTP 404" in missing["error"] and "Traceback" not in result.stderr.decode()


def test_backfill_of_a_site_whose_every_host_is_down(archived_site):
    run = archived_site
    for host in run.site.hosts:
        run.farm.set_fault(host, "refuse")
    result = run.crawl("--from-archive", "-s", "ARCHIVE_DELAY=0.02", "-s", "NEWSMIRROR_CDX_PAGE_SIZE=5")
    log = result.stderr.decode()
    assert result.returncode == 0, log[-3000:]
    records = run.records()
    assert sorted(r["title"] for r in records) == sorted(a.title for a in run.site.articles)
    assert len({r["id"] for r in records}) == 16 and all(r["archived_at"] for r in records)
    assert not [r for r in run.farm.requests if r.host == RETIRED]  # a retired host is never fetched live
    listings = [r for r in run.farm.requests if r.host == run.archive.hosts[0] and "matchType=prefix" in r.path]
    assert len(listings) > 3  # CDX pages, by resume key
    again = run.crawl("--from-archive", "-s", "ARCHIVE_DELAY=0.02")
    assert again.returncode == 0 and "harbor: 0 new articles" in again.stderr.decode()


def test_a_killed_backfill_resumes_without_loss_or_duplicate(archived_site):
    run = archived_site
    for host in run.site.hosts:
        run.farm.set_fault(host, "refuse")
    run.archive.throttle_once = False
    crawl = run.start_crawl("--from-archive", "-s", "ARCHIVE_DELAY=0.3")
    deadline = time.monotonic() + 60
    while run.lines_written() < 3 and crawl.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    processes = process_tree(crawl.pid)
    os.kill(crawl.pid, signal.SIGKILL)
    crawl.wait()
    assert_none_survive(processes)
    assert 3 <= run.lines_written() < 16
    again = run.crawl("--from-archive", "-s", "ARCHIVE_DELAY=0.02")
    assert again.returncode == 0, again.stderr.decode()[-3000:]
    ids = [r["id"] for r in run.records()]
    assert len(ids) == len(set(ids)) == 16


def test_from_archive_without_archives_is_a_usage_error(farm_run):
    result = farm_run.crawl("--from-archive")
    assert result.returncode == 2 and b"needs archives in the profile" in result.stderr
    assert farm_run.crawl("--until", "2020-01-01").returncode == 2  # (--since also bounds a live crawl)


def test_two_redis_workers_backfill_together_and_share_the_archives_politeness(archived_site, shared_redis):
    run = archived_site
    for host in run.site.hosts:
        run.farm.set_fault(host, "refuse")
    workers = [run.cli_process("crawl", "harbor", "--sites", str(run.profile), "--output", str(run.output),
                               "--from-archive", "--redis", shared_redis, "-q", "-s", "AUTOTHROTTLE_ENABLED=False",
                               "-s", f"NEWSMIRROR_WORKER=w{n}", "-s", "ARCHIVE_DELAY=0.15") for n in (1, 2)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0, worker.stderr.read().decode()[-3000:]
    ids = [r["id"] for r in run.records()]
    assert len(ids) == len(set(ids)) == 16
    assert {path.stem.rsplit("-", 1)[1] for path in run.run_files()} <= {"w1", "w2"}
    archive = [r for r in run.farm.requests if r.host == run.archive.hosts[0] and r.path != "/robots.txt"]
    starts = [r.at for r in archive]
    throttled = next(r.at for r in archive if r.status == 429)
    assert not [at for at in starts if throttled < at < throttled + 0.9]  # Retry-After: 1, for both workers
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    assert min(gaps) > 0.1  # one request per ARCHIVE_DELAY (0.15 s) across the two workers
