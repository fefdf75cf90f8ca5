"""Feeds and sitemaps to article URLs, and malformed or hostile XML refused with a clear error."""

import gzip
import time

import pytest

from crawler.farm.sites import harbor_news
from crawler.fetch.listings import ListingError, is_xml_listing, parse_xml_listing, robots_sitemaps

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
    ("/feeds/malformed.xml", "malformed XML: nothing recoverable"),  # cut inside its only item
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


def test_harmless_internal_entities_are_expanded_but_external_ones_refused():
    body = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#160;"><!ENTITY path "Detail">]><rss version="2.0">'
            b"<channel><item><title>Oil&nbsp;prices</title><link>http://h.ir/&path;/2026/1/1/1/a</link></item></channel></rss>")
    listing = parse_xml_listing(body, "http://h.ir/rss")
    assert [e.url for e in listing.entries] == ["http://h.ir/Detail/2026/1/1/1/a"] and not listing.recovered
    external = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><item><link>/a&x;</link></item></channel></rss>'
    with pytest.raises(ListingError, match="external entity"):
        parse_xml_listing(external, "http://h.ir/rss")


def test_html_and_other_xml_are_not_listings():
    _, _, html = SITE.page(PRIMARY, "/Section/101")
    assert not is_xml_listing(html)
    assert not is_xml_listing(b'<?xml version="1.0"?>\n<!DOCTYPE html><html><body></body></html>')
    with pytest.raises(ListingError, match="not a feed or sitemap"):
        parse_xml_listing(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "http://h/x.xml")


# -- listings as real sites serve them (each case below is one of issue #18's, at unit level) ------------
NEWS = "http://www.news.ir"


def urls(listing):
    return [e.url for e in listing.entries]


def test_one_malformed_url_costs_its_entry_not_the_listing():
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>World</title>'
            b"<item><link>http://[2001:db8::1/Detail/2026/3/1/1/broken</link></item>"
            b"<item><link>http://www.news.ir:99999/Detail/2026/3/1/2/bad-port</link></item>"
            b"<item><link>/Detail/2026/3/1/3/Ceasefire-talks</link><pubDate>Sun, 01 Mar 2026 09:00:00 +0330</pubDate></item>"
            b"</channel></rss>")
    listing = parse_xml_listing(body, f"{NEWS}/rss.xml")
    assert urls(listing) == [f"{NEWS}/Detail/2026/3/1/3/Ceasefire-talks"] and listing.skipped == 2
    assert listing.entries[0].published == "2026-03-01T09:00:00+03:30"


def test_xml_base_applies_per_element_in_atom_and_rss():
    atom = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://www.news.ir/archive/">'
            b'<entry xml:base="/Detail/2026/3/1/"><link href="11/Harbour-reopens"/></entry>'
            b'<entry><link xml:base="http://www.news.co.uk/Detail/2026/3/2/" href="12/Grain-deal"/></entry>'
            b'<entry><link href="feature/Drought"/></entry></feed>')
    assert urls(parse_xml_listing(atom, "http://feeds.example/atom.xml")) == [
        f"{NEWS}/Detail/2026/3/1/11/Harbour-reopens", "http://www.news.co.uk/Detail/2026/3/2/12/Grain-deal",
        f"{NEWS}/archive/feature/Drought"]
    rss = (b'<rss version="2.0" xml:base="http://www.news.ir/Detail/2026/3/"><channel>'
           b"<item><link>3/13/Tariffs-rise</link></item></channel></rss>")
    assert urls(parse_xml_listing(rss, "http://feeds.example/rss")) == [f"{NEWS}/Detail/2026/3/3/13/Tariffs-rise"]


def test_rss_link_is_the_one_without_a_namespace():
    body = (b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            b'<atom:link href="http://www.news.ir/rss.xml" rel="self" type="application/rss+xml"/>'
            b'<item><atom:link rel="self" href="http://www.news.ir/rss.xml?item=14"/><title>Railway</title>'
            b"<link>http://www.news.ir/Detail/2026/3/4/14/Railway-opens</link><guid>urn:news:14</guid></item>"
            b'<item><guid isPermaLink="false">urn:news:15</guid></item>'
            b"<item><guid>http://www.news.ir/Detail/2026/3/4/16/Fuel-prices</guid></item></channel></rss>")
    assert urls(parse_xml_listing(body, f"{NEWS}/rss.xml")) == [
        f"{NEWS}/Detail/2026/3/4/14/Railway-opens", f"{NEWS}/Detail/2026/3/4/16/Fuel-prices"]


@pytest.mark.parametrize("head", [
    b"\n\n\n",  # WordPress feeds often start with blank lines
    b"<!-- generator: NewsCMS 4.2 -->\n",
    b"\xef\xbb\xbf  \n",
])
def test_documents_are_sniffed_past_their_prolog(head):
    body = head + b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><item><link>http://www.news.ir/Detail/2026/3/5/17/x</link></item></channel></rss>'
    assert is_xml_listing(body)
    assert urls(parse_xml_listing(body, f"{NEWS}/rss.xml")) == [f"{NEWS}/Detail/2026/3/5/17/x"]


def test_rss_091_doctype_and_prefixed_sitemap_root_are_listings():
    rss091 = (b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
              b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel>'
              b"<item><title>Election</title><link>http://www.news.ir/Detail/2026/3/6/18/Election</link></item></channel></rss>")
    prefixed = (b'<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">'
                b"<sm:url><sm:loc>http://www.news.ir/Detail/2026/3/6/19/Recount</sm:loc><sm:lastmod>2026-03-06</sm:lastmod></sm:url></sm:urlset>")
    assert is_xml_listing(rss091) and is_xml_listing(prefixed)
    assert urls(parse_xml_listing(rss091, f"{NEWS}/rss091.xml")) == [f"{NEWS}/Detail/2026/3/6/18/Election"]
    sitemap = parse_xml_listing(prefixed, f"{NEWS}/sitemap.xml")
    assert sitemap.kind == "sitemap" and urls(sitemap) == [f"{NEWS}/Detail/2026/3/6/19/Recount"]
    assert sitemap.entries[0].modified == "2026-03-06"
    xhtml = b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'
    assert not is_xml_listing(xhtml)


@pytest.mark.parametrize("body,expected", [
    # an undeclared HTML entity
    (b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>Oil&nbsp;prices</title>'
     b"<link>http://www.news.ir/Detail/2026/3/7/20/Oil</link></item>"
     b"<item><link>http://www.news.ir/Detail/2026/3/7/21/Gas</link></item></channel></rss>",
     [f"{NEWS}/Detail/2026/3/7/20/Oil", f"{NEWS}/Detail/2026/3/7/21/Gas"]),
    # Windows-1252 bytes (curly quotes, e acute) and no declared encoding
    (('<rss version="2.0"><channel><item><title>\x93Caf\xe9\x94 reopens</title>'
      "<link>http://www.news.ir/Detail/2026/3/7/22/Cafe</link></item></channel></rss>").encode("latin-1"),
     [f"{NEWS}/Detail/2026/3/7/22/Cafe"]),
    # cut off before </rss>, inside the third item's link: that item is left out
    (b'<?xml version="1.0"?><rss version="2.0"><channel><item><link>http://www.news.ir/Detail/2026/3/7/23/A</link></item>'
     b"<item><link>http://www.news.ir/Detail/2026/3/7/24/B</link></item><item><link>http://www.news.ir/Deta",
     [f"{NEWS}/Detail/2026/3/7/23/A", f"{NEWS}/Detail/2026/3/7/24/B"]),
])
def test_sloppy_documents_are_recovered(body, expected):
    listing = parse_xml_listing(body, f"{NEWS}/rss.xml")
    assert listing.recovered and urls(listing) == expected


def test_well_formed_documents_are_not_marked_recovered():
    assert not parse_xml_listing(SITE.rss(PRIMARY), f"http://{PRIMARY}/rss.xml").recovered


def test_the_html_alternate_wins_over_a_pdf_one():
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
            b'<link rel="alternate" type="application/pdf" href="http://www.news.ir/pdf/25.pdf"/>'
            b'<link rel="enclosure" type="image/jpeg" href="http://www.news.ir/img/25.jpg"/>'
            b'<link rel="alternate" type="text/html" href="http://www.news.ir/Detail/2026/3/8/25/Budget"/>'
            b"<id>http://www.news.ir/Detail/2026/3/8/25/id-is-not-a-link</id></entry>"
            b'<entry><link rel="alternate" type="application/pdf" href="http://www.news.ir/pdf/26.pdf"/>'
            b'<link href="http://www.news.ir/Detail/2026/3/8/26/Strike"/></entry>'
            b"<entry><id>http://www.news.ir/Detail/2026/3/8/27/only-an-id</id></entry></feed>")
    assert urls(parse_xml_listing(body, f"{NEWS}/atom.xml")) == [
        f"{NEWS}/Detail/2026/3/8/25/Budget", f"{NEWS}/Detail/2026/3/8/26/Strike"]


def test_dates_are_read_namespace_exactly():
    sitemap = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
               b'xmlns:video="http://www.google.com/schemas/sitemap-video/1.1" '
               b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
               b"<loc>http://www.news.ir/Detail/2026/3/9/28/Flood</loc>"
               b"<video:video><video:publication_date>2019-01-01T00:00:00+00:00</video:publication_date></video:video>"
               b"<news:news><news:publication_date>2026-03-09T08:00:00+03:30</news:publication_date></news:news>"
               b"</url></urlset>")
    assert parse_xml_listing(sitemap, f"{NEWS}/news.xml").entries[0].published == "2026-03-09T08:00:00+03:30"
    rss = (b'<rss version="2.0" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
           b"<channel><item><link>http://www.news.ir/Detail/2026/3/9/29/Budget</link>"
           b"<dc:date>2026-03-09T10:00:00+03:30</dc:date><dcterms:modified>2026-03-10T12:30:00+03:30</dcterms:modified>"
           b"</item></channel></rss>")
    entry = parse_xml_listing(rss, f"{NEWS}/rss.xml").entries[0]
    assert (entry.published, entry.modified) == ("2026-03-09T10:00:00+03:30", "2026-03-10T12:30:00+03:30")
    atom03 = (b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry>'
              b'<link rel="alternate" type="text/html" href="http://www.news.ir/Detail/2026/3/9/30/Port"/>'
              b"<issued>2026-03-09T11:00:00+03:30</issued><modified>2026-03-09T13:00:00Z</modified></entry></feed>")
    entry = parse_xml_listing(atom03, f"{NEWS}/atom03.xml").entries[0]
    assert (entry.published, entry.modified) == ("2026-03-09T11:00:00+03:30", "2026-03-09T13:00:00+00:00")


def test_robots_txt_sitemap_lines():
    robots = ("User-agent: *\nDisallow: /Search\n\nSitemap: https://www.news.ir/sitemap-news.xml\n"
              "sitemap:/sitemaps/archive.xml  # relative, lower case\nSitemap: http://[broken\nSITEMAP: ftp://x/y\n")
    assert robots_sitemaps(robots, "https://www.news.ir/robots.txt") == [
        "https://www.news.ir/sitemap-news.xml", "https://www.news.ir/sitemaps/archive.xml"]
