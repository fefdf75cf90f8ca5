"""Peer suites for listings: samples of feedparser's well-formed and ill-formed feed tests and of Scrapy's
sitemap tests, rewritten as fixtures (tests/fixtures/peer-listings, each saying where it comes from and what
newsmirror must read from it; docs/listings.md lists where newsmirror and feedparser disagree, and why)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from crawler.fetch.listings import ListingError, is_xml_listing, parse_xml_listing, robots_sitemaps

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "peer-listings"
DOCUMENT_URL = "http://feeds.example-news.ir/feed.xml"
CASES = sorted(path for path in FIXTURES.rglob("*.xml"))


def expectation(path: Path) -> dict:
    text = path.read_bytes().decode("utf-8", "replace")
    return json.loads(re.search(r"^#? ?Expect: (.*)$", text, re.M).group(1))


def test_the_sample_covers_both_suites():
    folders = {path.parent.name for path in CASES}
    assert folders == {"feedparser-wellformed", "feedparser-illformed", "scrapy-sitemap"}
    assert len([p for p in CASES if p.parent.name == "feedparser-wellformed"]) >= 25
    for path in CASES:
        assert re.search(r"Source: (feedparser|Scrapy) \(https://github.com/", path.read_bytes().decode("utf-8", "replace"))


@pytest.mark.parametrize("path", CASES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_peer_case(path):
    expected = expectation(path)
    body = path.read_bytes()
    if "error" in expected:
        with pytest.raises(ListingError, match=expected["error"]):
            parse_xml_listing(body, DOCUMENT_URL)
        return
    assert is_xml_listing(body)  # dispatch: never mistaken for an HTML page
    listing = parse_xml_listing(body, DOCUMENT_URL)  # well-formed cases never raise
    assert listing.kind == expected["kind"]
    assert [entry.url for entry in listing.entries] == expected["urls"]
    assert listing.sitemaps == expected.get("sitemaps", [])
    assert listing.recovered is expected.get("recovered", False)
    for field in ("published", "modified"):
        if field in expected:
            assert [getattr(entry, field) for entry in listing.entries] == expected[field]


def test_a_gzipped_sitemap_reads_like_the_plain_one():
    plain = (FIXTURES / "scrapy-sitemap" / "sitemap.xml").read_bytes()
    zipped = parse_xml_listing(gzip.compress(plain), DOCUMENT_URL)  # Scrapy's test_sitemap_gzip
    assert zipped == parse_xml_listing(plain, DOCUMENT_URL) and len(zipped.entries) == 2


def test_robots_txt_sitemaps_like_scrapy():
    path = FIXTURES / "scrapy-sitemap" / "robots.txt"
    assert robots_sitemaps(path.read_text(), "http://www.example-news.ir/robots.txt") == expectation(path)["robots"]
