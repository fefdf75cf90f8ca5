"""One-off scrapes (and crawls) are no way into the machine's network: what the web chooses — a redirect, a meta
refresh, a discovered mirror — never reaches loopback, private, link-local, shared, multicast, reserved or
unspecified addresses, in any spelling; the user's own targets are fetched as given."""

from __future__ import annotations

import asyncio
import ipaddress
import json

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.settings import Settings
from twisted.internet.error import DNSLookupError

from crawler.farm.proxy import MirrorFarm
from crawler.farm.sites import FarmSite, harbor_news
from crawler.fetch.gate import (
    GatedResolver, TargetGate, forbidden_address, ip_literal, literal_refusal, proxy_hosts, trusted_hosts,
)

from .conftest import FarmRun, run_cli

SPELLINGS = ["169.254.169.254", "2852039166", "0251.0376.0251.0376", "0xa9fea9fe", "169.254.43518", "[::ffff:169.254.169.254]",
             "[::1]", "[fe80::1]", "127.0.0.1", "127.1", "10.20.30.40", "192.168.1.1", "100.64.0.7", "224.0.0.251", "0.0.0.0",
             "240.0.0.1", "[::]", "[2002:a9fe:a9fe::1]"]
SECRET = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


# -- pure parts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", SPELLINGS)
def test_every_spelling_of_an_address_in_the_machines_own_network_is_refused(host):
    address = ip_literal(host)
    assert address is not None and forbidden_address(address) is not None
    assert "an address of the machine's own network" in literal_refusal(host)


def test_what_each_address_is_and_public_ones_pass():
    kinds = {host: forbidden_address(ip_literal(host)) for host in
             ("127.0.0.1", "169.254.169.254", "10.0.0.1", "100.64.0.7", "224.0.0.251", "0.0.0.0", "[::ffff:10.0.0.1]")}
    assert kinds == {"127.0.0.1": "loopback", "169.254.169.254": "link-local", "10.0.0.1": "private",
                     "100.64.0.7": "shared (carrier-grade NAT)", "224.0.0.251": "multicast", "0.0.0.0": "unspecified",
                     "[::ffff:10.0.0.1]": "private"}
    for public in ("93.184.215.14", "8.8.8.8", "[2606:4700::1111]", "1572394766", "[2002:5db8:d70e::1]"):
        assert forbidden_address(ip_literal(public)) is None, public
    for name in ("www.presstv.ir", "localhost", "2024.example.org", "0x.example"):
        assert ip_literal(name) is None  # names are judged where they resolve


def test_the_gate_lets_the_users_own_hosts_through_and_refuses_what_the_web_chose(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:3128")  # names are the proxy's to resolve
    stats = type("Stats", (), {"inc_value": lambda *args: None})()
    gate = TargetGate(stats, {"www.harbornews.ir", "127.0.0.1"}, allow_private=False)
    assert asyncio.run(gate.process_request(Request("http://127.0.0.1:8080/page"))) is None  # typed by the user
    assert asyncio.run(gate.process_request(Request("http://www.example.org/page"))) is None  # a public name
    redirected = Request("http://0xa9fea9fe/latest/meta-data/", meta={"redirect_urls": ["http://www.harbornews.ir/x"]})
    with pytest.raises(IgnoreRequest, match=r"refused http://0xa9fea9fe/latest/meta-data/ after a redirect from "
                                             r"http://www\.harbornews\.ir/x: 0xa9fea9fe is an address"):
        asyncio.run(gate.process_request(redirected))
    assert "refused" in redirected.meta["newsmirror_refused"]
    open_gate = TargetGate(stats, set(), allow_private=True)
    assert asyncio.run(open_gate.process_request(Request("http://10.0.0.1/"))) is None


def test_the_resolver_refuses_names_that_resolve_into_the_machines_network():
    assert GatedResolver.checked("93.184.215.14", "www.example.org") == "93.184.215.14"
    with pytest.raises(DNSLookupError, match=r"refused: rebind\.example resolves to an address of the machine's own "
                                             r"network \(loopback: 127\.0\.0\.1\)"):
        GatedResolver.checked("127.0.0.1", "rebind.example")


def test_trusted_hosts_are_the_profiles_and_the_targets_and_the_proxy_only_to_connect_to(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:3128")
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NEWSMIRROR_TRUSTED_HOSTS", ["Intranet.Example"])
    trusted = trusted_hosts(settings)
    assert {"www.presstv.ir", "www.presstv.co.uk", "web.archive.org", "intranet.example"} <= trusted
    assert "www.presstv.com" not in trusted  # retired: never fetched live
    assert "127.0.0.1" not in trusted and proxy_hosts() == {"127.0.0.1"}  # a redirect to the proxy's address: refused


# -- on the farm -------------------------------------------------------------------------------------
def article_page(title: str) -> bytes:
    body = "".join(f"<p>{title}: the harbour authority said on Tuesday that container traffic would resume within days, "
                   f"according to a statement carried by state media, paragraph {n}.</p>" for n in range(8))
    return (f"<!DOCTYPE html><html lang='en'><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>{title}</h1>{body}</article><footer>© News</footer></body></html>").encode()


@pytest.fixture
def web(tmp_path):
    """A public news site that redirects where it is told, another public site, and a cloud metadata service."""
    news = FarmSite("news", "Example News", ["news.example.org"], [], documents={
        "/article.html": ("text/html; charset=utf-8", article_page("Harbour reopens")),
        "/refresh-header.html": ("text/html; charset=utf-8", article_page("Refreshed"),
                                 {"Refresh": "0; url=http://169.254.169.254/latest/meta-data/"}),
    })
    other = FarmSite("other", "Other Daily", ["www.other.example"], [],
                     documents={"/article.html": ("text/html; charset=utf-8", article_page("Moved story"))})
    metadata = FarmSite("metadata", "Instance metadata", ["169.254.169.254"], [], documents={
        "/latest/meta-data/": ("text/html", f"<html><body><pre>{SECRET}</pre></body></html>".encode())})
    farm = MirrorFarm([news, other, metadata]).start()
    yield FarmRun(farm, harbor_news(), tmp_path), news
    farm.stop()


def scrape(run: FarmRun, *targets: str, extra: tuple[str, ...] = ()):
    result = run.cli("scrape", *targets, "-s", "DOWNLOAD_DELAY=0", *extra)  # a farm on loopback: no need to wait
    return result, [json.loads(line) for line in result.stdout.splitlines()]


def hosts_asked(run: FarmRun) -> set[str]:
    return {r.host for r in run.farm.requests}


def asked_for(run: FarmRun, spelling: str) -> bool:
    """Whether the proxy was asked for the address, in that spelling or any other."""
    address = ip_literal(spelling)
    return any((asked := ip_literal(host)) is not None and asked == address for host in hosts_asked(run)) or \
        spelling.strip("[]") in hosts_asked(run)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_redirect_to_any_spelling_is_refused_and_never_asked_for(web, spelling):
    run, news = web
    news.redirects["news.example.org", "/redirect.html"] = f"http://{spelling}/latest/meta-data/"
    result, [record] = scrape(run, "http://news.example.org/redirect.html")
    assert result.returncode == 1 and record["error"].startswith(f"refused http://{spelling}/latest/meta-data/ after a "
                                                                "redirect from http://news.example.org/redirect.html")
    assert record["text"] is None and SECRET not in result.stdout.decode()
    assert not asked_for(run, spelling) and "news.example.org" in hosts_asked(run)


def test_a_meta_refresh_is_refused_and_a_refresh_header_is_not_followed(web):
    run, news = web
    news.documents["/meta.html"] = ("text/html", b"<html><head><meta http-equiv='refresh' content='0; "
                                                 b"url=http://169.254.169.254/latest/meta-data/'></head><body></body></html>")
    result, records = scrape(run, "http://news.example.org/meta.html", "http://news.example.org/refresh-header.html")
    assert result.returncode == 1 and records[0]["error"].startswith("refused http://169.254.169.254/latest/meta-data/")
    assert records[1]["title"] == "Refreshed" and "error" not in records[1]
    assert "169.254.169.254" not in hosts_asked(run)


def test_a_chain_of_public_redirects_ending_in_private_space_and_a_loop(web):
    run, news = web
    news.redirects["news.example.org", "/chain.html"] = "http://www.other.example/hop.html"
    web_other = run.farm.sites["www.other.example"]
    web_other.redirects["www.other.example", "/hop.html"] = "http://10.20.30.40/admin"
    news.redirects["news.example.org", "/loop1.html"] = "http://news.example.org/loop2.html"
    news.redirects["news.example.org", "/loop2.html"] = "http://news.example.org/loop1.html"
    news.redirects["news.example.org", "/moved.html"] = "http://www.other.example/article.html"
    result, (chain, loop, moved) = scrape(run, "http://news.example.org/chain.html", "http://news.example.org/loop1.html",
                                          "http://news.example.org/moved.html")
    assert chain["error"].startswith("refused http://10.20.30.40/admin after a redirect from http://www.other.example/hop.html")
    assert "10.20.30.40" not in hosts_asked(run) and "www.other.example" in hosts_asked(run)
    assert "error" in loop and len([r for r in run.farm.requests if r.path.startswith("/loop")]) <= 25  # bounded
    assert moved["title"] == "Moved story" and moved["url"] == "http://www.other.example/article.html"  # public: followed
    assert result.returncode == 1


def test_allow_private_lets_the_redirect_through(web):
    run, news = web
    news.redirects["news.example.org", "/redirect.html"] = "http://169.254.169.254/latest/meta-data/"
    result, [record] = scrape(run, "http://news.example.org/redirect.html", extra=("--allow-private",))
    assert "169.254.169.254" in hosts_asked(run)  # asked; its page is no article, but it was read
    assert "refused" not in result.stdout.decode() and "169.254.169.254/latest/meta-data/" in result.stdout.decode()


def test_a_crawl_refuses_them_too(farm_factory):
    run = farm_factory(articles=5)
    article = run.site.articles[0]
    run.site.redirects[run.site.hosts[0], article.path] = "http://0xa9fea9fe/latest/meta-data/"  # off the site
    second = run.site.articles[1]
    refresh = (b"<html><head><meta http-equiv='refresh' content='0; url=http://2852039166/latest/meta-data/'></head>"
               b"<body></body></html>")
    run.site.article_pages[second.id] = refresh
    result = run.crawl()
    assert result.returncode in (0, 3), result.stderr.decode()[-2000:]
    assert not {"0xa9fea9fe", "2852039166", "169.254.169.254"} & hosts_asked(run)
    assert len(run.records()) >= 3


def test_without_a_proxy_a_name_resolving_to_loopback_is_refused(tmp_path):
    """The user scrapes their own local server (fetched as given); it redirects to a name that resolves to
    loopback: refused where the name resolves, never connected to; allowed with --allow-private."""
    local = FarmSite("local", "Local", ["127.0.0.1"], [], documents={
        "/article.html": ("text/html; charset=utf-8", article_page("Local story"))})
    secret = FarmSite("secret", "Secret", ["localhost"], [], documents={
        "/admin": ("text/html", f"<html><body><pre>{SECRET}</pre></body></html>".encode())})
    with MirrorFarm([local, secret]) as farm:
        port = farm.proxy_url.rsplit(":", 1)[1]
        local.redirects["127.0.0.1", "/go.html"] = f"http://localhost:{port}/admin"
        result = run_cli("scrape", f"http://127.0.0.1:{port}/article.html", f"http://127.0.0.1:{port}/go.html", cwd=tmp_path)
        own, redirected = [json.loads(line) for line in result.stdout.splitlines()]
        assert own["title"] == "Local story"  # the user's own target, on loopback: fetched
        assert redirected["error"] == (f"refused http://localhost:{port}/admin after a redirect from http://127.0.0.1:{port}"
                                       "/go.html: localhost resolves to an address of the machine's own network "
                                       "(loopback: 127.0.0.1) (--allow-private allows it)")
        assert "localhost" not in {r.host for r in farm.requests} and SECRET not in result.stdout.decode()
        allowed = run_cli("scrape", f"http://127.0.0.1:{port}/go.html", "--allow-private", cwd=tmp_path)
        assert "localhost" in {r.host for r in farm.requests} and "refused" not in allowed.stdout.decode()
    assert isinstance(ip_literal("127.0.0.1"), ipaddress.IPv4Address)


def test_feed_entries_and_an_archives_redirect_into_private_space_are_never_asked(farm_factory):
    from crawler.farm.archive import Capture, FarmArchive

    run = farm_factory(articles=6, hosts=2)
    private = ["http://169.254.169.254/Detail/2026/3/9/1/meta", "http://0xa9fea9fe/Detail/2026/3/9/2/meta",
               "http://[::ffff:10.0.0.1]/Detail/2026/3/9/3/meta"]
    items = "".join(f"<item><title>x</title><link>{url}</link></item>" for url in private)
    run.site.documents["/feeds/partner.xml"] = ("application/rss+xml", f'<?xml version="1.0"?><rss version="2.0">'
                                                f"<channel><title>Partners</title>{items}</channel></rss>".encode())
    run.site.extra_starts = ("/feeds/partner.xml",)
    archive = FarmArchive(throttle_once=False)
    archive.capture_site(run.site, run.site.hosts[0])
    article = run.site.articles[0]
    original = f"http://{run.site.hosts[0]}{article.path}"
    archive.captures.append(Capture("20261130000000", original, b"<html></html>"))  # its newest snapshot...
    archive.redirects[f"/web/20261130000000id_/{original}"] = "http://169.254.169.254/latest/meta-data/"  # ...redirects
    run.farm.sites[archive.hosts[0]] = archive
    run.profile.write_text(run.site.profile_toml().replace("\n\n[harbor.clean]", f'\narchives = ["{archive.base}"]\n\n[harbor.clean]'))
    run.site.article_status = 503  # every host fails the articles: they come from the archive
    result = run.crawl("-s", "ARCHIVE_DELAY=0", "-s", "RETRY_TIMES=0")
    assert result.returncode in (0, 3), result.stderr.decode()[-3000:]
    asked = hosts_asked(run)
    assert not {"169.254.169.254", "0xa9fea9fe", "::ffff:10.0.0.1"} & asked and archive.hosts[0] in asked
    titles = {r["title"] for r in run.records()}
    assert article.title in titles  # the older good snapshot, after the refused redirect
