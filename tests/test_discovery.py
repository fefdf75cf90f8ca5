"""Mirror discovery: candidates from what the crawl reads, verification against stored articles, refusals,
persistence in SQLite and Redis, the CLI, and the moved site on the farm (one process, then two workers)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from crawler.discovery.candidates import alternate_link_hosts, hosts_in_notice, refusal
from crawler.fetch.gate import address_refusal, is_proxied
from crawler.discovery.mirrors import ADMITTED, CANDIDATE, REJECTED, MirrorDiscovery
from crawler.discovery.verification import Sample, Verification
from crawler.farm.proxy import MirrorFarm
from crawler.farm.sites import FarmArticle, harbor_news, impostor, moved_news
from crawler.sites.profiles import ProfileError, parse_profile
from crawler.distributed.client import redis_client
from crawler.distributed.keys import state_key
from crawler.distributed.store import RedisState
from crawler.state.sqlite import SqliteState
from tests.conftest import FarmRun

OLD, ALTERNATE, NEW, PARKED = "www.movednews.ir", "www.movednews.co.uk", "www.movednews.net", "www.movednews.online"
PRIVATE_REDIRECT = "10.20.30.40"


# -- candidates (pure) ---------------------------------------------------------------------------------
def test_the_notice_yields_the_hosts_it_lists_and_nothing_after_it():
    site = harbor_news(hosts=3)
    page = site.article_html(site.articles[0], site.hosts[0])
    # the footer notice is followed by About/Contact links and a Facebook link: none of them is a candidate
    assert hosts_in_notice(page) == site.hosts[1:]
    inline = harbor_news(hosts=3, inline_boilerplate=True)
    assert hosts_in_notice(inline.article_html(inline.articles[0], inline.hosts[0])) == inline.hosts[1:]


def test_a_press_tv_style_notice_in_running_text_and_links():
    page = ("<div class='text-justify'><p>Press TV’s website can also be accessed at the following Alternate "
            "Addresses: <a href='https://www.presstv.ir/'>www.presstv.ir</a>, www.presstv.co.uk and "
            "presstv.tv</p><p>SHARE THIS ARTICLE</p><a href='https://t.me/presstv'>Telegram</a></div>").encode()
    assert hosts_in_notice(page) == ["www.presstv.ir", "www.presstv.co.uk", "presstv.tv"]
    assert hosts_in_notice(b"<p>Send it to the address e.g. prices rose, according to www.reuters.com reports</p>") == []
    persian = "<p>وب‌سایت پرس‌تی‌وی از آدرس‌های جایگزین زیر نیز در دسترس است: www.presstv.ir و www.presstv.co.uk</p>"
    assert hosts_in_notice(persian.encode("utf-8")) == ["www.presstv.ir", "www.presstv.co.uk"]


@pytest.mark.parametrize("encoding,notice,hosts", [
    ("cp1251", "<p>Зеркала сайта: <a href='https://rt-zerkalo.net/'>rt-zerkalo.net</a>, russian.rt.com и rtnews.org</p>",
     ["rt-zerkalo.net", "russian.rt.com", "rtnews.org"]),
    ("cp1256", "<p>يمكنكم متابعتنا على العناوين البديلة: www.almanar.com.lb و almanar.tv</p>", ["www.almanar.com.lb", "almanar.tv"]),
])
def test_a_notice_on_a_page_in_a_legacy_encoding(encoding, notice, hosts):
    page = f"<html><head><meta charset='{encoding}'></head><body>{notice}<footer>©</footer></body></html>".encode(encoding)
    assert hosts_in_notice(page, encoding) == hosts
    assert hosts_in_notice(page) == []  # read as UTF-8 the phrase is not there


def test_alternate_links_count_only_for_the_same_path_on_another_host():
    page = """<html><head><title>Talks resume - Harbor News</title>
    <link rel="canonical" href="https://www.harbornews.ir/Detail/2026/3/9/770125/Talks">
    <link rel="alternate" hreflang="en-gb" href="https://www.harbornews-uk.com/Detail/2026/3/9/770125/Talks">
    <link rel="alternate" type="application/rss+xml" href="https://feeds.harbornews.ir/rss.xml">
    <link rel="alternate" hreflang="fa" href="https://fa.harbornews.ir/Detail/2026/3/9/990011/Other">
    </head><body><a rel="alternate" href="https://www.elsewhere.org/Detail/2026/3/9/770125/Talks">x</a></body></html>""".encode()
    assert alternate_link_hosts(page, "https://www.harbornews.ir/Detail/2026/3/9/770125/Talks") == ["www.harbornews-uk.com"]


def profile(**keys):
    table = {"hosts": ["www.harbornews.ir", "www.harbornews.co.uk"], "article": r"^/Detail/\d{4}/", **keys}
    return parse_profile("sites.toml", "harbor", table)


def test_ip_addresses_and_excluded_hosts_are_refused_without_any_network():
    site = profile(exclude=["harbornews.biz"])
    assert refusal("10.20.30.40", site) == "an IP address, not a host name"
    assert refusal("2001:db8::1", site) == "an IP address, not a host name"
    assert refusal("harbornews.biz", site) == refusal("www.harbornews.biz", site) == "excluded by the site profile"
    assert refusal("www.harbornews.net", site) is None


def test_a_name_resolving_to_an_internal_address_is_refused():
    assert address_refusal("localhost").startswith("resolves to an address of the machine's own network (loopback")
    assert address_refusal("no-such-host.invalid").startswith("does not resolve")

    def resolver(addresses):
        return lambda host, port: [(2, 1, 6, "", (address, 0)) for address in addresses]

    assert address_refusal("intranet.example.com", resolver(["93.184.215.14", "10.1.2.3"])) == \
        "resolves to an address of the machine's own network (private: 10.1.2.3)"
    assert "(link-local: 169.254.169.254)" in address_refusal("meta.example.com", resolver(["169.254.169.254"]))
    assert address_refusal("mirror.example.com", resolver(["93.184.215.14"])) is None


def test_the_address_check_applies_only_to_names_fetched_without_a_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert not is_proxied("https", "www.harbornews.net")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:3128")
    monkeypatch.setenv("no_proxy", "internal.example.com")
    assert is_proxied("https", "www.harbornews.net") and not is_proxied("http", "www.harbornews.net")
    assert not is_proxied("https", "internal.example.com")


@pytest.mark.parametrize("table,key,problem", [
    ({"discover": "yes"}, "discover", "expected true or false"),
    ({"exclude": ["http://parked.example.com/"]}, "exclude", "is not a host name"),
    ({"exclude": ["www.harbornews.co.uk"]}, "exclude", "also in hosts"),
])
def test_bad_discovery_keys_name_file_site_and_key(table, key, problem):
    with pytest.raises(ProfileError) as error:
        profile(**table)
    assert error.value.key == key and problem in error.value.problem and "sites.toml" in str(error.value)


# -- verification (pure) -------------------------------------------------------------------------------
STORED = [" ".join(p) for p in (harbor_news(articles=3).articles[i].paragraphs for i in range(3))]


def samples(host="www.harbornews.net"):
    return [Sample(f"id{i}", f"http://{host}/Detail/2026/3/{i}/77010{i}/x", text) for i, text in enumerate(STORED)]


def test_two_matching_copies_admit_a_candidate_and_stop_asking():
    check = Verification("www.harbornews.net", samples())
    check.record(check.samples[0], STORED[0] + "\nSHARE THIS ARTICLE")  # a block the cleaner left: still the same text
    assert check.verdict is None
    check.record(check.samples[1], STORED[1])
    assert check.verdict == "admitted" and check.matched_ids == {"id0": check.samples[0].url, "id1": check.samples[1].url}


def test_different_text_or_a_parking_page_rejects_as_soon_as_two_copies_are_out_of_reach():
    check = Verification("www.impostor.com", samples("www.impostor.com"))
    check.record(check.samples[0], STORED[2])  # another article's text at this path
    assert check.verdict is None
    check.record(check.samples[1], None, "parked domain")
    assert check.verdict == "rejected" and check.reason.startswith("different text (similarity 0.")


# -- what discovery remembers (real SQLite) ---------------------------------------------------------
def emitted(site_dir, count: int) -> None:
    """``count`` articles in a run file, as a crawl writes them (verification reads the texts there)."""
    site_dir.mkdir(parents=True, exist_ok=True)
    with (site_dir / "20261201T000000000000Z.jsonl").open("w") as lines:
        for i in range(count):
            record = {"id": f"{i:020x}", "site": site_dir.name, "text": STORED[i % 3] + f" ({i})",
                      "mirror_urls": [f"http://www.harbornews.ir/Detail/2026/3/{i}/77010{i}/x"]}
            lines.write(json.dumps(record) + "\n")


def test_candidates_wait_for_two_emitted_articles_and_rejections_for_a_day(tmp_path):
    clock = [1_000_000.0]
    state = SqliteState(tmp_path / "state.sqlite3")
    site = profile(exclude=["harbornews.biz"])
    found = MirrorDiscovery(site, state, tmp_path / "harbor", clock=lambda: clock[0])
    assert found.consider("http://www.harbornews.net/Detail/2026/3/1/1/x", "redirect", "http://www.harbornews.ir/x") \
        == "www.harbornews.net"
    assert found.consider("www.harbornews.ir", "notice", "page") is None  # the site's own host
    found.consider("www.harbornews.biz", "notice", "page")
    found.consider("192.0.2.7", "redirect", "page")
    assert found.due() == ["www.harbornews.net"]
    emitted(tmp_path / "harbor", 1)
    assert found.verification("www.harbornews.net") is None  # one article cannot show two copies: wait
    emitted(tmp_path / "harbor", 3)
    check = found.verification("www.harbornews.net")
    assert len(check.samples) == 3 and all(urlsplit(s.url).hostname == "www.harbornews.net" for s in check.samples)
    check.record(check.samples[0], None, "HTTP 404")
    check.record(check.samples[1], None, "HTTP 404")
    assert found.finish(check) == REJECTED

    later = MirrorDiscovery(site, SqliteState(tmp_path / "state.sqlite3"), tmp_path / "harbor", clock=lambda: clock[0])
    assert {h: e["status"] for h, e in later.entries.items()} == {
        "www.harbornews.net": REJECTED, "www.harbornews.biz": REJECTED, "192.0.2.7": REJECTED}
    assert later.entries["www.harbornews.biz"]["reason"] == "excluded by the site profile"
    assert later.consider("www.harbornews.net", "notice", "page") is None  # not before a day has passed
    clock[0] += timedelta(days=1).total_seconds() + 1
    assert later.consider("www.harbornews.net", "notice", "page") == "www.harbornews.net"
    assert later.due() == ["www.harbornews.net"] and later.entries["www.harbornews.net"]["status"] == CANDIDATE


def test_a_verdict_another_worker_stored_is_not_overwritten_by_a_candidate_this_one_finds(tmp_path):
    """Two workers on one state: the second loaded the hosts before the first found and rejected one. When the
    second then finds it too, the first's verdict stands (a candidate saved over it would be verified again)."""
    clock = [1_000_000.0]
    site = profile()
    first = MirrorDiscovery(site, SqliteState(tmp_path / "state.sqlite3"), tmp_path / "harbor", clock=lambda: clock[0])
    second = MirrorDiscovery(site, SqliteState(tmp_path / "state.sqlite3"), tmp_path / "harbor", clock=lambda: clock[0])
    first.consider("www.harbornews.net", "notice", "page")
    emitted(tmp_path / "harbor", 3)
    check = first.verification("www.harbornews.net")
    check.record(check.samples[0], None, "HTTP 404")
    check.record(check.samples[1], None, "HTTP 404")
    assert first.finish(check) == REJECTED and "www.harbornews.net" not in second.entries  # the premise
    assert second.consider("www.harbornews.net", "notice", "page") is None
    assert second.due() == [] and second.entries["www.harbornews.net"]["status"] == REJECTED
    assert SqliteState(tmp_path / "state.sqlite3").discovered_hosts("harbor")["www.harbornews.net"]["status"] == REJECTED
    clock[0] += timedelta(days=1).total_seconds() + 1  # its retry is due: the second may find it again
    assert second.consider("www.harbornews.net", "notice", "page") == "www.harbornews.net"


class OvertakenReads(SqliteState):
    """A worker's state whose next read of the hosts, once ``verdict`` is set, is overtaken: another worker
    stores the verdict just after it."""

    verdict: tuple[str, dict] | None = None

    def discovered_hosts(self, site: str) -> dict[str, dict]:
        read = super().discovered_hosts(site)
        if self.verdict:
            SqliteState(self.path).save_discovered_host(site, *self.verdict)
            self.verdict = None
        return read


def test_a_verdict_stored_between_a_workers_read_and_its_save_stands(tmp_path):
    verdict = {"status": REJECTED, "reason": "HTTP 404 on 2 of 2 articles", "retry_at": 2_000_000.0}
    state = OvertakenReads(tmp_path / "state.sqlite3")
    found = MirrorDiscovery(profile(), state, tmp_path / "harbor", clock=lambda: 1_000_000.0)
    state.verdict = ("www.harbornews.net", verdict)  # after the hosts were loaded: the read in consider is overtaken
    assert found.consider("www.harbornews.net", "notice", "page") is None
    assert found.due() == [] and found.entries["www.harbornews.net"] == verdict
    assert SqliteState(tmp_path / "state.sqlite3").discovered_hosts("harbor") == {"www.harbornews.net": verdict}


def test_feed_and_sitemap_entries_on_another_host_are_candidates_only_on_article_paths(tmp_path):
    found = MirrorDiscovery(profile(), SqliteState(tmp_path / "state.sqlite3"), tmp_path / "harbor")
    assert found.consider_listed("https://www.harbornews.net/Detail/2026/3/1/770101/x", "sitemap",
                                 "https://www.harbornews.ir/sitemap.xml") == "www.harbornews.net"
    assert found.consider_listed("https://www.facebook.com/harbornews", "rss", "https://www.harbornews.ir/rss.xml") is None
    assert found.entries["www.harbornews.net"]["found_how"] == "sitemap"
    assert list(found.entries) == ["www.harbornews.net"]


# -- the moved site on the farm -------------------------------------------------------------------------
@pytest.fixture
def moved(tmp_path):
    site, parked = moved_news()
    farm = MirrorFarm([site, parked]).start()
    farm.set_fault(OLD, "seized")
    yield FarmRun(farm, site, tmp_path)
    farm.stop()


def hosts_of(records) -> set[str]:
    return {urlsplit(url).hostname for record in records for url in [record["url"], *record["mirror_urls"]]}


def verification_requests(run: FarmRun, host: str, since: int = 0) -> list:
    """Requests to ``host`` for article pages."""
    return [r for r in run.farm.requests[since:] if r.host == host and r.path.startswith("/Detail/")]


def test_a_moved_site_is_crawled_through_the_host_its_notice_names(moved):
    result = moved.crawl()
    log = result.stderr.decode()
    assert result.returncode == 0, log[-3000:]
    records = moved.records()
    # every article, once, and no record names a host that is not a mirror
    assert sorted(r["title"] for r in records) == sorted(a.title for a in moved.site.articles)
    assert len({r["id"] for r in records}) == len(records)
    assert hosts_of(records) <= {OLD, ALTERNATE, NEW} and NEW in hosts_of(records)
    # the alternate host's RSS lists only a fifth of the articles: the rest came from the discovered host
    assert len(verification_requests(moved, NEW)) >= len(moved.site.articles) * 0.6
    # the decoy was asked for two stored articles and rejected; the private redirect was never followed
    assert len(verification_requests(moved, PARKED)) == 2
    assert PRIVATE_REDIRECT not in {r.host for r in moved.farm.requests}
    summary = log.strip().splitlines()[-1]
    assert f"mirrors admitted: {NEW}" in summary
    assert f"{PARKED} (parked domain)" in summary and f"{PRIVATE_REDIRECT} (an IP address, not a host name)" in summary
    assert "3/3 hosts answered" not in summary and "2/3 hosts answered" in summary

    listing = moved.cli("sites", "--sites", str(moved.profile), "--output", str(moved.output))
    lines = listing.stdout.decode()
    assert f"mirror:  {NEW}: admitted" in lines and f"found by notice on http://{ALTERNATE}/Detail/" in lines
    assert f"mirror:  {PARKED}: rejected" in lines and "parked domain" in lines
    assert f"mirror:  {PRIVATE_REDIRECT}: rejected" in lines and f"found by redirect on http://{ALTERNATE}/Section/101" in lines

    # the next run starts with the new host: no verification, the decoy not asked again, nothing emitted twice
    before = len(moved.farm.requests)
    again = moved.crawl()
    assert again.returncode == 0, again.stderr.decode()[-3000:]
    assert verification_requests(moved, PARKED, before) == [] and verification_requests(moved, NEW, before) == []
    assert any(r.host == NEW and r.path == "/atom.xml" for r in moved.farm.requests[before:])
    assert len(moved.records()) == len(records)

    # forgotten, the host is verified again by the next run that reads its name (a new article's notice)
    forget = moved.cli("sites", "--sites", str(moved.profile), "--output", str(moved.output), "--forget", NEW)
    assert forget.returncode == 0 and f"forgot {NEW} (moved)" in forget.stderr.decode()
    newest = moved.site.articles[0]
    moved.site.articles.insert(0, FarmArticle(newest.id + 1, newest.published + timedelta(hours=3), 0,
                                              "Harbour reopens to container traffic", "Harbour-reopens", newest.author,
                                              newest.paragraphs[::-1], "rss"))
    before = len(moved.farm.requests)
    third = moved.crawl()
    assert third.returncode == 0, third.stderr.decode()[-3000:]
    assert f"mirrors admitted: {NEW}" in third.stderr.decode()
    stored = {urlsplit(u).path for r in records for u in r["mirror_urls"]}
    asked = {r.path for r in verification_requests(moved, NEW, before)}
    assert len(asked & stored) == 2, asked


@pytest.mark.parametrize("how", ["alternate link", "rss"])
def test_a_host_only_alternate_links_or_a_feed_names_is_verified_and_admitted(tmp_path, how):
    """The notice names only the decoy; the new host is named by the article pages' <link rel="alternate"
    hreflang>, or by the entries of a partner feed on the alternate host."""
    site, parked = moved_news()
    site.notice_hosts = (PARKED,)
    if how == "alternate link":
        site.alternate_hosts = (NEW,)
    else:
        items = "".join(f"<item><title>{a.title}</title><link>http://{NEW}{a.path}</link></item>" for a in site.articles[:8])
        site.documents["/feeds/partners.xml"] = ("application/rss+xml", (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Partners</title>{items}'
            "</channel></rss>").encode())
        site.extra_starts = ("/feeds/partners.xml",)
    with MirrorFarm([site, parked]) as farm:
        farm.set_fault(OLD, "seized")
        run = FarmRun(farm, site, tmp_path)
        result = run.crawl()
        log = result.stderr.decode()
        assert result.returncode == 0, log[-3000:]
        assert f"mirrors admitted: {NEW}" in log.strip().splitlines()[-1]
        records = run.records()
        assert sorted(r["title"] for r in records) == sorted(a.title for a in site.articles)
        assert NEW in hosts_of(records) and len({r["id"] for r in records}) == len(records)
        listing = run.cli("sites", "--sites", str(run.profile), "--output", str(run.output)).stdout.decode()
        assert f"mirror:  {NEW}: admitted" in listing and f"found by {how} on http://{ALTERNATE}/" in listing


def test_pinned_hosts_discover_nothing(moved):
    moved.profile.write_text(moved.site.profile_toml().replace('scheme = "http"', 'scheme = "http"\ndiscover = false'))
    result = moved.crawl()
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert {NEW, PARKED} & {r.host for r in moved.farm.requests} == set()
    assert len(moved.records()) == len(moved.site.by_channel("rss"))  # only what the alternate host's feed lists
    assert "pinned to its hosts (discover = false)" in moved.cli("sites", "--sites", str(moved.profile)).stdout.decode()


def test_an_impostor_an_ip_literal_and_an_excluded_host_are_never_admitted(tmp_path):
    site = harbor_news(articles=15, hosts=2)
    site.hosts.append("www.harbornews.biz")  # a true copy of the site, but the profile excludes it
    site.profile_hosts = tuple(site.hosts[:2])
    site.notice_hosts = ("www.harbornews.co.uk", "www.harbornews.biz", "www.harbor-times.com", "198.51.100.23")
    farm = MirrorFarm([site, impostor(site, "www.harbor-times.com")]).start()
    try:
        run = FarmRun(farm, site, tmp_path)
        run.profile.write_text(site.profile_toml().replace('scheme = "http"', 'scheme = "http"\nexclude = ["harbornews.biz"]'))
        result = run.crawl()
        log = result.stderr.decode()
        assert result.returncode == 0, log[-3000:]
        asked = {r.host for r in farm.requests}
        assert "www.harbornews.biz" not in asked and "198.51.100.23" not in asked  # refused unfetched
        assert len(verification_requests(run, "www.harbor-times.com")) == 2  # same paths, other text
        assert "www.harbor-times.com (different text (similarity 0." in log
        assert "www.harbornews.biz (excluded by the site profile)" in log
        assert hosts_of(run.records()) <= {"www.harbornews.ir", "www.harbornews.co.uk"}
    finally:
        farm.stop()


# -- two workers on Redis -------------------------------------------------------------------------------
def test_two_workers_discover_verify_and_share_the_new_host_once(moved, shared_redis):
    command = moved.crawl_args("--redis", shared_redis, "-s", "DOWNLOAD_DELAY=0.01")
    workers = [subprocess.Popen([sys.executable, "-m", "crawler.cli", *command, "-s", f"NEWSMIRROR_WORKER={name}"],
                                cwd=moved.workdir, env=moved.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for name in ("a", "b")]
    logs = []
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        logs.append(err.decode())
        assert worker.returncode == 0, logs[-1][-3000:]
    records = moved.records()
    assert sorted(r["title"] for r in records) == sorted(a.title for a in moved.site.articles)
    assert len({r["id"] for r in records}) == len(records)
    assert hosts_of(records) <= {OLD, ALTERNATE, NEW}
    assert PRIVATE_REDIRECT not in {r.host for r in moved.farm.requests}
    assert sum(f"mirrors admitted: {NEW}" in log for log in logs) == 1
    hosts = {host.decode(): json.loads(entry) for host, entry in redis_client(shared_redis, 5).hgetall(state_key("moved", "hosts")).items()}
    assert hosts[NEW]["status"] == ADMITTED and len(hosts[NEW]["evidence"]["matched"]) == 2
    assert hosts[PARKED]["status"] == REJECTED and hosts[PARKED]["reason"] == "parked domain"
    # one worker verified it, the other took its verdict: the requests are that one verification's, each path once
    # (1 or 2 of them: rejected once the samples left cannot admit it, and the samples are the articles already
    # written when it began)
    asked = [request.path for request in verification_requests(moved, PARKED)]
    assert 1 <= len(asked) == len(set(asked)) == len(hosts[PARKED]["evidence"]["missed"])
    assert RedisState(redis_client(shared_redis, 5), "moved").discovered_hosts("moved").keys() == hosts.keys()

    listing = moved.cli("sites", "--sites", str(moved.profile), "--redis", shared_redis)
    assert f"mirror:  {NEW}: admitted" in listing.stdout.decode()
    forget = moved.cli("sites", "--sites", str(moved.profile), "--redis", shared_redis, "--forget", NEW)
    assert forget.returncode == 0
    assert NEW not in RedisState(redis_client(shared_redis, 5), "moved").discovered_hosts("moved")
