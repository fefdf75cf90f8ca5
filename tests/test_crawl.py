"""End-to-end crawls of the mirror farm through its proxy, as a user behind a proxy would run them."""

import subprocess
import sys
from collections import Counter
from urllib.parse import urlsplit

import jsonschema
import pytest

from crawler.output.record import RECORD_FIELDS

from .conftest import ROOT, SCHEMA


def article_requests(farm_run):
    return [r for r in farm_run.farm.requests if r.path.startswith("/Detail/")]


def test_three_host_crawl_finds_every_article_once(farm_run):
    result = farm_run.crawl()
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    site, farm = farm_run.site, farm_run.farm
    records = farm_run.records()
    assert len(farm_run.run_files()) == 1
    # every article, discovered through all five channels, emitted once
    assert sorted(r["title"] for r in records) == sorted(a.title for a in site.articles)
    assert {r["id"] for r in records} == {r["id"] for r in records} and len({r["id"] for r in records}) == len(records)
    channels = Counter(next(a.channel for a in site.articles if a.title == r["title"]) for r in records)
    assert set(channels) == {"rss", "atom", "sitemap", "news", "section"}
    # each article page downloaded exactly once, over all hosts together
    downloads = Counter(r.path for r in article_requests(farm_run))
    assert set(downloads) == {a.path for a in site.articles} and set(downloads.values()) == {1}
    # feeds, sitemaps and sections were read on every host
    for host in site.hosts:
        assert {"/rss.xml", "/atom.xml", "/sitemap.xml", "/Section/101"} <= {r.path for r in farm.requests_to(host)}
    # never a request outside the site's hosts (no cdn images, no share links)
    assert {r.host for r in farm.requests} == set(site.hosts)


def test_records_are_complete_valid_and_mirror_aware(farm_run):
    assert farm_run.crawl().returncode == 0
    by_path = {a.path: a for a in farm_run.site.articles}
    primary = farm_run.site.hosts[0]
    for record in farm_run.records():
        assert list(record) == list(RECORD_FIELDS)
        jsonschema.validate(record, SCHEMA)
        article = by_path[urlsplit(record["url"]).path]
        assert urlsplit(record["url"]).hostname == primary
        assert record["mirror_urls"][0] == record["url"]
        assert all("utm_" not in url for url in record["mirror_urls"])
        assert record["text"].split("\n") == article.paragraphs
        assert record["published"] == article.published.isoformat()
        assert record["site"] == "harbor" and record["source"].startswith("http://")
        if article.channel in ("atom", "sitemap", "news", "section"):
            # listed on every host: every host's URL is known
            assert sorted(urlsplit(u).hostname for u in record["mirror_urls"]) == sorted(farm_run.site.hosts)


def test_malformed_listings_and_pages_are_logged_and_skipped(farm_factory):
    run = farm_factory(broken=True)
    result = run.crawl()
    log = result.stderr.decode()
    assert result.returncode == 0, log[-3000:]
    assert len(run.records()) == len(run.site.articles)
    primary = run.site.hosts[0]
    assert f"{primary}: skipped feed/sitemap http://{primary}/feeds/malformed.xml: malformed XML" in log
    assert f"{primary}: skipped feed/sitemap http://{primary}/feeds/bomb.xml" in log
    assert f"{primary}: skipped feed/sitemap http://{primary}/sitemap-broken.xml.gz: broken gzip" in log
    assert "Truncated-report: no article text found" in log
    assert "Traceback" not in log


def test_second_run_emits_nothing_and_fetches_no_article(farm_run):
    assert farm_run.crawl().returncode == 0
    first_downloads = len(article_requests(farm_run))
    second = farm_run.crawl()
    assert second.returncode == 0
    assert len(farm_run.run_files()) == 1  # nothing new: no run file
    assert len(article_requests(farm_run)) == first_downloads
    assert "harbor: 0 new articles," in second.stderr.decode()


def test_all_hosts_down_exits_1_and_says_why(farm_run):
    for host in farm_run.site.hosts:
        farm_run.farm.set_fault(host, "refuse")
    result = farm_run.crawl("-s", "RETRY_TIMES=0")
    log = result.stderr.decode()
    assert result.returncode == 1
    assert "no host of harbor reachable" in log
    assert f"{farm_run.site.hosts[0]}: connection closed without a response, fetching http://{farm_run.site.hosts[0]}/rss.xml" in log
    assert farm_run.records() == []


def test_scrapy_crawl_from_project_root(farm_run):
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=harbor",
         "-s", f"NEWSMIRROR_SITES_FILES={farm_run.profile}", "-s", f"NEWSMIRROR_OUTPUT={farm_run.output}",
         "-s", "AUTOTHROTTLE_ENABLED=False"],
        cwd=ROOT, env=farm_run.env(), capture_output=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert len(farm_run.records()) == len(farm_run.site.articles)


@pytest.mark.parametrize("no_proxy,expect_farm", [("", True), ("www.harbornews.ir,www.harbornews.co.uk,www.harbornews.tv", False)])
def test_proxy_environment_is_honoured(farm_run, no_proxy, expect_farm):
    env = {**farm_run.env(), "no_proxy": no_proxy}
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", "harbor", "--sites", str(farm_run.profile),
         "--output", str(farm_run.output), "-s", "RETRY_TIMES=0", "-s", "DOWNLOAD_TIMEOUT=5"],
        cwd=farm_run.workdir, env=env, capture_output=True, timeout=120,
    )
    assert bool(farm_run.farm.requests) is expect_farm
    assert result.returncode == (0 if expect_farm else 1)


def test_without_an_article_rule_the_extractor_judges(farm_run):
    profile = farm_run.workdir / "no-rule.toml"
    profile.write_text(
        '[harbor]\nhosts = ["www.harbornews.ir", "www.harbornews.co.uk", "www.harbornews.tv"]\nscheme = "http"\n'
        'start = ["/Section/101"]\ndelay = 0\nconcurrency = 8\n')
    result = farm_run.cli("crawl", "harbor", "--sites", str(profile), "--output", str(farm_run.output),
                          "-s", "AUTOTHROTTLE_ENABLED=False")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    titles = sorted(r["title"] for r in farm_run.records())
    listed = {a.title for a in farm_run.site.by_channel("section")} | {a.title for a in farm_run.site.articles[:3]}
    assert titles == sorted(listed)  # the section's articles and its "most read" links, nothing else
    visited = {r.path for r in farm_run.farm.requests}
    assert "/Page/About" in visited and "/Section/102" in visited  # judged, and not kept as articles
