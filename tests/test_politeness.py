"""Sites that push back: Retry-After, a pace that adapts, Crawl-delay, bans, failing article pages, redesigns,
bounded first runs; and a run that got less than it found says so in its exit status."""

from __future__ import annotations

import json
import re
from collections import Counter
import sqlite3
import time
from datetime import date

import pytest
from scrapy.settings import Settings

from crawler.fetch.listings import ListingEntry, older_than
from crawler.fetch.politeness import FIRST_STEP, Pace, robots_pace
from crawler.fetch.retry_after import parse_retry_after
from crawler.fetch.slots import slot_settings
from crawler.reporting.outcome import EXIT_INCOMPLETE, EXIT_OK, EXIT_STALE, site_outcome
from crawler.sites.profiles import parse_profile
from crawler.spiders.news import listing_cutoff

from .conftest import FarmRun

PROFILE = parse_profile("t.toml", "harbor", {"hosts": ["www.harbornews.ir", "www.harbornews.co.uk"]})


# -- pure parts ----------------------------------------------------------------------------------
@pytest.mark.parametrize("header, expected", [
    (b"7", 7.0), (b" 120 ", 120.0), (b"0", 0.0),
    (b"Wed, 21 Oct 2015 07:28:00 GMT", 10.0),  # an HTTP date, 10 s ahead of "now"
    (b"Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # a date already past: no wait
    (b"soon", None), (b"-3", None), (b"", None), (None, None), (b"nan", None), (b"Wed, 21 Oct 2015 07:28:00", None),
])
def test_retry_after_in_seconds_or_as_an_http_date(header, expected):
    assert parse_retry_after(header, now=1445412470.0) == expected


def test_the_pace_slows_down_at_once_and_recovers_gradually_not_below_what_was_too_fast():
    pace = Pace()
    pace.throttled(now=100.0, wait=2.0)
    assert pace.pause_left(100.5) == 1.5 and pace.pause_left(103.0) == 0.0
    assert pace.floor == FIRST_STEP  # from no delay at all: a first step
    pace.throttled(now=103.0, wait=2.0)
    assert pace.floor == 2 * FIRST_STEP and pace.too_fast == pytest.approx(1.25 * FIRST_STEP)
    delays = []
    for _ in range(200):
        pace.succeeded()
        delays.append(pace.floor)
    assert delays == sorted(delays, reverse=True) and delays[0] > 0.9 * 2 * FIRST_STEP  # gradually
    assert 1.25 * FIRST_STEP * 0.6 < delays[-1] < 2 * FIRST_STEP  # not back below what was too fast (yet)
    slow = Pace(base=3.0)
    slow.throttled(0.0, 1.0)
    slow.succeeded()
    assert slow.floor >= 3.0  # robots.txt's delay stands


def test_robots_txt_crawl_delay_and_request_rate():
    assert robots_pace("User-agent: *\nCrawl-delay: 1\n", "newsmirror") == 1.0
    assert robots_pace("User-agent: *\nRequest-rate: 1/5\n", "newsmirror") == 5.0
    assert robots_pace("User-agent: *\nCrawl-delay: 2\nRequest-rate: 3/3\n", "newsmirror") == 2.0
    assert robots_pace("User-agent: newsmirror\nCrawl-delay: 4\n\nUser-agent: *\nCrawl-delay: 1\n", "newsmirror/0.1") == 4.0
    assert robots_pace("User-agent: *\nDisallow: /Search\n", "newsmirror") == 0.0


def test_a_sites_slot_comes_from_its_profile_unless_the_command_line_says_otherwise():
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    assert slot_settings(PROFILE, settings) == {"delay": 1.0, "concurrency": 1, "jitter": 0.0}  # the template's
    own = parse_profile("t.toml", "fast", {"hosts": ["www.fast.ir"], "delay": 0.25, "concurrency": 4})
    assert slot_settings(own, settings) == {"delay": 0.25, "concurrency": 4, "jitter": 0.0}
    settings.set("DOWNLOAD_DELAY", 3, "cmdline")
    assert slot_settings(own, settings) == {"delay": 3.0, "concurrency": 4, "jitter": 0.0}


def test_listing_entries_before_the_cutoff_are_not_followed():
    assert listing_cutoff("2026-11-01", 10, today=date(2026, 12, 6)) == "2026-11-26"  # the later of the two
    assert listing_cutoff("2026-12-01", 10, today=date(2026, 12, 6)) == "2026-12-01"
    assert listing_cutoff(None, None) is None
    assert older_than(ListingEntry("http://h/x", "2026-11-30T23:00:00+03:30"), "2026-12-01")
    assert not older_than(ListingEntry("http://h/x", None, "2026-12-01"), "2026-12-01")  # sitemap lastmod
    assert older_than(ListingEntry("http://h/Detail/2019/1/23/586614/x"), "2026-12-01")  # the URL's date
    assert not older_than(ListingEntry("http://h/news/x"), "2026-12-01")  # undated: followed


def test_exit_statuses_say_what_a_run_left():
    finished = {"finish_reason": "finished", "newsmirror/host/www.harbornews.ir/ok": 3}
    assert site_outcome(finished, PROFILE, 1).status == EXIT_OK
    pending = site_outcome({**finished, "newsmirror/articles/pending": 5}, PROFILE, 1)
    assert pending.status == EXIT_INCOMPLETE and "5 articles pending for the next run" in pending.summary
    banned = site_outcome({**finished, "finish_reason": "banned", "newsmirror/on_hold": "banned by www.harbornews.ir"},
                          PROFILE, 1)
    assert banned.status == EXIT_INCOMPLETE and "banned by www.harbornews.ir" in banned.summary
    stale = site_outcome({**finished, "newsmirror/stale": "no listing named an article URL"}, PROFILE, 1)
    assert stale.status == EXIT_STALE and "[STALE: no listing named an article URL]" in stale.summary
    timed_out = site_outcome({**finished, "finish_reason": "closespider_timeout"}, PROFILE, 1)
    assert timed_out.status == EXIT_INCOMPLETE  # a time limit is not an outage


# -- on the farm -----------------------------------------------------------------------------------
def summary_of(result) -> str:
    return result.stderr.decode().strip().splitlines()[-1]


def in_flight_per_window(requests) -> Counter:
    """How many requests came inside each Retry-After window (0 for a window nothing came inside)."""
    return Counter(r.inside_retry_after for r in requests if r.inside_retry_after) or Counter({0: 0})


def articles_fetched(run: FarmRun) -> list[str]:
    return [f"{r.host}{r.path}" for r in run.farm.requests if r.path.startswith("/Detail/") and r.status == 200]


def test_a_rate_limited_server_gets_every_article_without_a_ban(farm_factory):
    run = farm_factory(articles=30)
    server = run.farm.rate_limit(run.site.hosts, per_second=4, retry_after=2, ban_after=10, ban_seconds=60)
    result = run.crawl()  # the farm's profile: no delay, 8 at once; the server allows 4 a second
    log = result.stderr.decode()
    assert result.returncode == 0, log[-3000:]
    assert len(run.records()) == 30 and len({r["id"] for r in run.records()}) == 30
    answered = [r for r in run.farm.requests if r.host in run.site.hosts and r.path != "/robots.txt"]
    assert not [r for r in answered if r.status == 403] and not server.banned_until
    assert any(r.status == 429 for r in answered)  # it was asked to slow down...
    assert max(in_flight_per_window(answered).values()) <= 7  # ...and sent nothing inside a window but what was
    # in flight (8 at once) when asked
    assert "every request to harbor waits 2.0 s (Retry-After)" in log
    assert "0 failovers" in summary_of(result) and "failed/" not in log  # a 429 is no host failure, and no failover


def test_retry_after_as_an_http_date_is_honoured_on_every_host(farm_factory):
    run = farm_factory(articles=10)
    run.farm.rate_limit(run.site.hosts, per_second=3, retry_after=2, http_date=True, ban_after=10)
    result = run.crawl()
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert len(run.records()) == 10
    answered = [r for r in run.farm.requests if r.host in run.site.hosts and r.path != "/robots.txt"]
    assert any(r.status == 429 for r in answered) and max(in_flight_per_window(answered).values()) <= 7
    assert not [r for r in answered if r.status == 403]


def test_crawl_delay_keeps_every_host_a_second_apart(farm_factory):
    run = farm_factory(articles=4, hosts=2)
    run.site.crawl_delay = 1
    result = run.crawl()
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert len(run.records()) == 4
    for host in run.site.hosts:
        times = sorted(r.at for r in run.farm.requests_to(host))
        gaps = [later - earlier for earlier, later in zip(times, times[1:])]
        assert len(gaps) >= 4 and min(gaps) >= 0.99, (host, gaps)


def pending_in_state(run: FarmRun) -> dict[str, dict]:
    with sqlite3.connect(run.output / "state.sqlite3") as db:
        return {key: json.loads(entry) for key, entry in db.execute("SELECT key, entry FROM pending_articles")}


def test_article_pages_that_fail_stay_pending_and_the_next_run_gets_each_once(farm_factory):
    run = farm_factory(articles=12)
    run.site.article_status = 503
    failing = run.crawl()
    summary = summary_of(failing)
    assert failing.returncode == EXIT_INCOMPLETE, failing.stderr.decode()[-2000:]
    assert "12 pending" in summary and "12 articles pending for the next run" in summary
    pending = pending_in_state(run)
    assert len(pending) == 12 and all(entry["tries"] == 1 and "HTTP 503" in entry["reason"] for entry in pending.values())
    run.site.article_status = None  # the site recovers
    run.farm.requests.clear()
    recovered = run.crawl()
    assert recovered.returncode == 0, recovered.stderr.decode()[-2000:]
    assert len(run.records()) == 12 and len(articles_fetched(run)) == 12  # each once
    assert pending_in_state(run) == {}


def test_a_redesigned_site_is_stale_with_a_clear_line(farm_factory):
    run = farm_factory(articles=8)
    assert run.crawl().returncode == 0
    run.site.redesigned = True  # its articles move to /news/<year>/<slug>-<id>.html
    stale = run.crawl()
    summary = summary_of(stale)
    assert stale.returncode == EXIT_STALE, stale.stderr.decode()[-2000:]
    assert "[STALE: the site answered, but no listing named an article URL" in summary and "found 8" not in summary
    assert re.search(r"run \d{8}T\d+Z found \d+", summary)


def test_a_ban_stops_the_run_holds_the_site_and_the_rest_comes_later_once(farm_factory):
    run = farm_factory(articles=20)
    server = run.farm.rate_limit(run.site.hosts, per_second=1000, ban_after_total=14, ban_seconds=3600)
    banned = run.crawl("-s", "NEWSMIRROR_BAN_COOLDOWN=6")
    summary = summary_of(banned)
    assert banned.returncode == EXIT_INCOMPLETE, banned.stderr.decode()[-3000:]
    assert re.search(r"\[INCOMPLETE: banned by www\.harbornews\.[\w.]+ \(HTTP 403, 3 in a row\) since \S+; not asked "
                     r"again before \S+; \d+ articles pending for the next run\]", summary), summary
    emitted = len(run.records())
    left = int(re.search(r"(\d+) articles pending", summary)[1])
    forbidden = [r for r in run.farm.requests if r.status == 403]
    assert 3 <= len(forbidden) <= 3 + 8  # it stopped asking (what was in flight aside)
    run.farm.requests.clear()
    held = run.crawl()
    assert held.returncode == EXIT_INCOMPLETE and "not asked again before" in summary_of(held)
    assert f"{left} articles pending" in summary_of(held)  # still there, untouched
    assert not [r for r in run.farm.requests if r.host in run.site.hosts]  # the hold is kept: nothing asked
    server.lift_ban()
    server.ban_after_total = None  # the firewall forgives
    with sqlite3.connect(run.output / "state.sqlite3") as db:
        until = json.loads(db.execute("SELECT entry FROM site_holds").fetchone()[0])["until"]
    while time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()) <= until:
        time.sleep(0.1)  # the cool-down ends
    after = run.crawl()
    assert after.returncode == 0, after.stderr.decode()[-3000:]
    ids = [r["id"] for r in run.records()]
    assert len(ids) == len(set(ids)) == 20 and emitted < 20


def test_max_articles_ends_the_run_cleanly_and_the_next_takes_the_rest(farm_factory):
    run = farm_factory(articles=15)
    first = run.crawl("--max-articles", "6")
    assert first.returncode == EXIT_INCOMPLETE, first.stderr.decode()[-2000:]
    assert len(run.records()) == 6 and "[INCOMPLETE: stopped at --max-articles 6; 9 articles pending" in summary_of(first)
    second = run.crawl()
    assert second.returncode == 0
    ids = [r["id"] for r in run.records()]
    assert len(ids) == len(set(ids)) == 15


def test_since_leaves_older_listing_entries_alone(farm_factory):
    run = farm_factory(articles=20)  # one every 7 hours, back from 2026-03-09
    result = run.crawl("--since", "2026-03-06")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    expected = {a.title for a in run.site.articles if a.published.date().isoformat() >= "2026-03-06"}
    assert {r["title"] for r in run.records()} == expected and 0 < len(expected) < 20
    assert not [r for r in run.farm.requests if r.path.startswith("/Detail/2026/3/5/")]


def test_the_user_agent_names_the_project_and_a_profile_can_set_its_own(farm_factory):
    run = farm_factory(articles=3)
    assert run.crawl().returncode == 0
    agents = {r.user_agent for r in run.farm.requests}
    assert len(agents) == 1 and re.match(r"newsmirror/[\d.]+ \(.*\+https://\S+\)", agents.pop())
    run.profile.write_text(run.site.profile_toml().replace(
        'scheme = "http"', 'scheme = "http"\nuser_agent = "HarborArchive/2 (+mailto:archive@example.org)"'))
    run.farm.requests.clear()
    assert run.crawl().returncode == 0
    assert {r.user_agent for r in run.farm.requests} == {"HarborArchive/2 (+mailto:archive@example.org)"}


def test_two_redis_workers_share_the_pause_and_the_pace(farm_factory, redis_url):
    import subprocess
    import sys

    run = farm_factory(articles=30)
    server = run.farm.rate_limit(run.site.hosts, per_second=4, retry_after=2, ban_after=20, ban_seconds=60)
    workers = [subprocess.Popen([sys.executable, "-m", "crawler.cli", *run.crawl_args("--redis", redis_url, "-q"),
                                 "-s", f"NEWSMIRROR_WORKER=w{n}"], cwd=run.workdir, env=run.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for n in (1, 2)]
    for worker in workers:
        _, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err.decode()[-3000:]
    ids = [r["id"] for r in run.records()]
    assert len(ids) == len(set(ids)) == 30
    answered = [r for r in run.farm.requests if r.host in run.site.hosts and r.path != "/robots.txt"]
    assert any(r.status == 429 for r in answered) and not server.banned_until
    assert max(in_flight_per_window(answered).values()) <= 2 * 8 - 1  # what both workers had in flight


def test_profile_keys_for_politeness_are_checked_and_the_headers_sent():
    from scrapy import Request

    from crawler.fetch.slots import SiteHeadersMiddleware
    from crawler.sites.profiles import ProfileError
    from crawler.sites.urls import SiteIndex

    site = parse_profile("t.toml", "harbor", {"hosts": ["www.harbornews.ir"], "headers": {"Accept-Language": "fa, en"},
                                              "user_agent": "HarborArchive/2", "max_age": 30, "delay": 2})
    request = Request("http://www.harbornews.ir/rss.xml", headers={"Accept-Language": "de"})
    SiteHeadersMiddleware(SiteIndex([site])).process_request(request)
    assert request.headers[b"User-Agent"] == b"HarborArchive/2" and request.headers[b"Accept-Language"] == b"de"
    other = Request("http://www.example.org/")
    SiteHeadersMiddleware(SiteIndex([site])).process_request(other)
    assert b"User-Agent" not in other.headers  # another site's requests keep Scrapy's defaults
    for key, value, problem in (("delay", -1, "at least 0"), ("concurrency", 0, "at least 1"), ("max_age", "30d", "days"),
                                ("headers", {"Bad Header": "x"}, "not an HTTP header name"),
                                ("user_agent", "two\nlines", "one-line")):
        with pytest.raises(ProfileError, match=problem):
            parse_profile("t.toml", "harbor", {"hosts": ["www.harbornews.ir"], key: value})


def test_a_stale_site_stays_stale_however_many_runs_it_has_been():
    from crawler.state.lifecycle import STALE_LOOKBACK, staleness

    stats = {"finish_reason": "finished", "newsmirror/host/www.harbornews.ir/ok": 4, "newsmirror/listings/rss": 2}
    good = {"run_id": "20261201T000000000000Z", "summary": {"listed": 40, "stale": None}}
    first = staleness(stats, PROFILE, [good])
    assert first and "run 20261201T000000000000Z found 40" in first
    stale_runs = [{"run_id": f"2026120{n}", "summary": {"listed": 0, "stale": first}} for n in range(STALE_LOOKBACK + 5)]
    assert staleness(stats, PROFILE, stale_runs[:STALE_LOOKBACK]) == first  # the last good run is out of sight
    assert staleness({**stats, "newsmirror/articles/listed": 3}, PROFILE, stale_runs) is None  # it recovered
    assert staleness({**stats, "newsmirror/listings/rss": 0}, PROFILE, [good]) is None  # nothing read in full (304s)
    assert staleness(stats, PROFILE, [{"run_id": "x", "summary": None}]) is None  # a first run knows nothing
