"""Paywall detection (crawler/extract/paywall.py): schema.org isAccessibleForFree false in JSON-LD at any depth or in
microdata, or a profile's ``clean.paywall`` marker, makes ``paywalled`` true; a normal article's is false."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import lxml.html
import pytest

from crawler.extract.article import extract_article
from crawler.extract.paywall import is_false, is_paywalled, not_free_in_json_ld
from crawler.sites.profiles import CleanRules, ProfileError, load_profiles, parse_profile

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://www.harbourtribune.example/business/2026/12/3/shipping-insurers-raise-premiums"
TEASER = ("Shipping insurers raised premiums for tankers crossing the strait for the third time this year on "
          "Wednesday, adding about $200,000 to the cost of a single voyage, after the seizure of a cargo ship last week.")


def article_page(head: str = "", body_attributes: str = "", extra: str = "") -> bytes:
    """A news article page as a paywalled site serves it to a reader without a subscription: the lead paragraph,
    then a subscription prompt where the rest of the story would be."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Shipping insurers raise premiums for tankers crossing the strait | The Harbour Tribune</title>
<meta property="og:type" content="article">
<meta property="article:published_time" content="2026-12-03T07:15:00+00:00">
{head}</head>
<body>
<header><nav><a href="/">Home</a> <a href="/business/">Business</a> <a href="/subscribe">Subscribe</a></nav></header>
<main><article{body_attributes}>
<h1>Shipping insurers raise premiums for tankers crossing the strait</h1>
<p class="byline">By Sara Lindqvist</p>
<div class="article-body"><p>{TEASER}</p>{extra}</div>
</article></main>
<footer><p>© 2026 The Harbour Tribune Media Group.</p></footer>
</body></html>""".encode()


def json_ld(data: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


PROMPT = ('<div class="paywall-prompt"><p>Subscribe to keep reading.</p>'
          '<a href="/subscribe">See subscription options</a></div>')


@pytest.mark.parametrize("value", [False, "False", "false", "https://schema.org/False"])
def test_json_ld_nested_in_has_part_marks_the_page_paywalled(value):
    data = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "The Harbour Tribune"},
        {"@type": "NewsArticle", "headline": "Shipping insurers raise premiums", "isAccessibleForFree": "True",
         "hasPart": [{"@type": "WebPageElement", "cssSelector": ".article-body"},
                     {"@type": "WebPageElement", "isAccessibleForFree": value, "cssSelector": ".paywall-prompt"}]}]}
    extracted = extract_article(article_page(json_ld(data), extra=PROMPT), URL)
    assert extracted["paywalled"] is True
    assert TEASER in extracted["text"] and extracted["no_article"] is None  # the record holds what the page showed


def test_microdata_marks_the_page_paywalled():
    page = article_page(body_attributes=' itemscope itemtype="https://schema.org/NewsArticle"',
                        extra='<meta itemprop="isAccessibleForFree" content="false">' + PROMPT)
    assert extract_article(page, URL)["paywalled"] is True
    linked = article_page(extra='<link itemprop="isAccessibleForFree" href="https://schema.org/False">')
    assert extract_article(linked, URL)["paywalled"] is True


def test_a_profile_marker_marks_the_page_paywalled_and_only_on_its_site():
    profile = parse_profile("sites.toml", "tribune", {"hosts": ["www.harbourtribune.example"],
                                                      "clean": {"paywall": [".paywall-prompt", "#regwall"]}})
    assert profile.clean.paywall == (".paywall-prompt", "#regwall")
    page = article_page(extra=PROMPT)  # no schema.org declaration: only the site's own markup says it
    assert extract_article(page, URL, profile)["paywalled"] is True
    assert extract_article(page, URL, dataclasses.replace(profile, clean=CleanRules()))["paywalled"] is False
    assert extract_article(page, URL)["paywalled"] is False


def test_a_normal_article_is_not_paywalled():
    free = {"@context": "https://schema.org", "@type": "NewsArticle", "isAccessibleForFree": True}
    assert extract_article(article_page(json_ld(free)), URL)["paywalled"] is False
    presstv = extract_article((FIXTURES / "presstv-article.html").read_bytes(), "", load_profiles()["presstv"])
    assert presstv["paywalled"] is False and presstv["text"]


def test_the_pure_tests():
    assert [is_false(v) for v in (False, "False", " false ", "http://schema.org/False", True, "True", None, 0, "")] == \
           [True, True, True, True, False, False, False, False, False]
    assert not_free_in_json_ld([{"mainEntity": {"hasPart": [{"isAccessibleForFree": "false"}]}}])
    assert not not_free_in_json_ld({"@type": "NewsArticle", "isAccessibleForFree": "true", "about": ["false"]})
    root = lxml.html.fromstring('<div><span itemprop="isAccessibleForFree">False</span></div>')
    assert is_paywalled(root, [], ()) and not is_paywalled(lxml.html.fromstring("<p>Free</p>"), [{}], (".paywall",))


def test_an_invalid_paywall_selector_names_the_key():
    with pytest.raises(ProfileError, match=r"clean\.paywall.*invalid CSS selector"):
        parse_profile("sites.toml", "tribune", {"hosts": ["www.harbourtribune.example"], "clean": {"paywall": ["div[["]}})
