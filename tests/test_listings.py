"""Feeds and sitemaps to article URLs, and malformed or hostile XML refused with a clear error."""

import gzip
import time

import pytest

from crawler.farm.sites import harbor_news
from crawler.fetch.listings import ListingError, is_xml_listing, parse_xml_listing

SITE = harbor_news(articles=25, broken=True)
PRIMARY, MIRROR = SITE.hosts[0], SITE.hosts[1]


def paths(listing):
    return sorted(e.url.split("?")[0].split(".ir", 1)[-1].split(".uk", 1)[-1] for e in listing.entries)


def test_rss_links_dates_and_mirror_feed_without_dates():
    listing = parse_xml_listing(SITE.rss(PRIMARY), f"http://{PRIMARY}/rss.xml")
    expected = SITE.by_channel("rss")
    assert listing.kind == "rss" and len(listing.entries) == len(expected)
    first = listing.entries[0]
    assert first.url.startswith(f"http://{PRIMARY}{expected[0].path}?utm_source=rss")
    assert first.published == expected[0].published.isoformat()
    mirror = parse_xml_listing(SITE.rss(MIRROR), f"http://{MIRROR}/rss.xml")
    assert all(e.published is None for e in mirror.entries)  # like presstv.co.uk: no pubDate
    assert all(PRIMARY in e.url for e in mirror.entries)  # and links to the primary


def test_atom_resolves_relative_links_against_the_feed():
    listing = parse_xml_listing(SITE.atom(MIRROR), f"http://{MIRROR}/atom.xml")
    assert listing.kind == "atom"
    assert [e.url for e in listing.entries] == [f"http://{MIRROR}{a.path}" for a in SITE.by_channel("atom")]
    assert listing.entries[0].modified == SITE.by_channel("atom")[0].published.isoformat()


def test_sitemap_index_gzipped_sitemap_and_google_news_sitemap():
    index = parse_xml_listing(SITE.sitemap_index(PRIMARY), f"http://{PRIMARY}/sitemap.xml")
    assert index.kind == "sitemapindex" and index.entries == []
    assert index.sitemaps == [f"http://{PRIMARY}/sitemap-articles.xml.gz", f"http://{PRIMARY}/sitemap-news.xml"]
    gz = gzip.compress(SITE.sitemap(PRIMARY, "sitemap"))
    assert is_xml_listing(gz)
    plain = parse_xml_listing(gz, index.sitemaps[0])
    assert [e.url for e in plain.entries] == [f"http://{PRIMARY}{a.path}" for a in SITE.by_channel("sitemap")]
    assert plain.entries[0].modified == SITE.by_channel("sitemap")[0].published.date().isoformat()
    news = parse_xml_listing(SITE.sitemap(PRIMARY, "news"), index.sitemaps[1])
    assert news.entries[0].published == SITE.by_channel("news")[0].published.isoformat()


@pytest.mark.parametrize("path,problem", [
    ("/feeds/malformed.xml", "malformed XML"),
    ("/sitemap-broken.xml.gz", "gzip"),
])
def test_malformed_documents_raise_listing_error(path, problem):
    _, _, body = SITE.page(PRIMARY, path)
    with pytest.raises(ListingError, match=problem):
        parse_xml_listing(body, f"http://{PRIMARY}{path}")


def test_billion_laughs_is_refused_quickly_without_expansion():
    _, _, body = SITE.page(PRIMARY, "/feeds/bomb.xml")
    started = time.monotonic()
    with pytest.raises(ListingError):
        parse_xml_listing(body, f"http://{PRIMARY}/feeds/bomb.xml")
    assert time.monotonic() - started < 1.0


def test_small_entity_declaration_is_refused_too():
    body = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "y">]><rss><channel><item><link>/a</link></item></channel></rss>'
    with pytest.raises(ListingError, match="entities"):
        parse_xml_listing(body, "http://h/rss")


def test_html_and_other_xml_are_not_listings():
    _, _, html = SITE.page(PRIMARY, "/Section/101")
    assert not is_xml_listing(html)
    assert not is_xml_listing(b'<?xml version="1.0"?>\n<!DOCTYPE html><html><body></body></html>')
    with pytest.raises(ListingError, match="not a feed or sitemap"):
        parse_xml_listing(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "http://h/x.xml")
