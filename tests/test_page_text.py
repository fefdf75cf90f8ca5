"""trafilatura's whole-page measure (html2txt) from one walk of the tree: the same string as trafilatura's own on news
pages and on the constructs its cleaning and spacing treat apart, and lent to trafilatura only while newsmirror
extracts."""

from __future__ import annotations

from copy import deepcopy

import lxml.html
import pytest

from crawler.extract import page_text as measure
from crawler.extract.article import extract_article, parse_html
from crawler.farm.sites import harbor_news

TRICKY = """<html><head><title>Port reopens</title><script>var tracking = 1;</script></head>
<body class="article-page"><!-- masthead -->lead-in<aside>Most read</aside>after the aside<nav>Home | World</nav>
<div class="story" id="site-footer-x"><p>The port of Bandar Abbas reopened on Monday<br>after three days.</p></div>
<div id="footer" class="story"><p>About us</p></div>tail of the footer
<div class="wrap" id="footer-id">first attribute wins: kept</div>
<section><script>ads()</script><style>.x{}</style>glued<template>t</template>tails<svg><text>chart</text></svg>here</section>
<div id="COOKIE-BANNER">We use cookies</div><div class="CmPlZ-box">consent</div><p class="Coo\u212aie-notice">Kelvin k</p>
<p>Control\x07 characters\x01 and\u00a0spaces, <b>bold</b><i>italic</i>joined</p><ul><li>one</li><li>two</li></ul>
<fencedframe>frame</fencedframe><footer>Copyright 2026</footer>last words<?pi processing?>after the pi
<table><tr><td>a</td><td>b</td></tr></table><summary>summed</summary><form>Subscribe<input></form>end</body></html>"""


def stock(tree) -> str:
    return measure.STOCK_HTML2TXT(deepcopy(tree))


def test_the_installed_trafilatura_has_the_rules_the_walk_follows():
    assert measure.SAME_RULES  # otherwise the walk is never used: trafilatura keeps its own measure


def test_tricky_markup_measures_the_same_as_trafilatura():
    tree = parse_html(TRICKY.encode())
    text = measure.page_text(tree)
    assert text == stock(tree)
    assert "lead-inafter the aside" in text and "tail of the footer" in text and "kept" in text
    assert "Most read" not in text and "About us" not in text and "chart" not in text and "Copyright" not in text
    assert "cookies" not in text and "Kelvin" not in text and "consent" not in text and "gluedtailshere" in text


@pytest.mark.parametrize("kind", ["article", "section"])
def test_news_pages_measure_the_same_as_trafilatura(kind):
    site = harbor_news(articles=6)
    host = site.hosts[0]
    pages = ([site.article_html(article, host) for article in site.articles] if kind == "article"
             else [site.section_page(number, host) for number in (1, 2)])
    for page in filter(None, pages):
        tree = parse_html(page)
        assert measure.page_text(tree) == stock(tree) and len(measure.page_text(tree)) > 200


def test_an_element_without_a_body_and_other_inputs_measure_the_same():
    fragment = lxml.html.fragment_fromstring('<div>Intro<aside>skip</aside>tail<div id="footer">x</div>end</div>')
    assert measure.page_text(fragment) == stock(fragment) == "Introtailend"
    assert measure.page_text(TRICKY) == measure.STOCK_HTML2TXT(TRICKY)  # a string: trafilatura's own measure
    tree = parse_html(TRICKY.encode())
    assert measure.page_text(tree, clean=False) == measure.STOCK_HTML2TXT(deepcopy(tree), clean=False)


def test_trafilatura_is_lent_the_walk_only_while_newsmirror_extracts():
    assert measure.trafilatura_core.html2txt is measure.STOCK_HTML2TXT
    with measure.page_measured_in_one_walk():
        assert measure.trafilatura_core.html2txt is measure.page_text
    assert measure.trafilatura_core.html2txt is measure.STOCK_HTML2TXT
    with pytest.raises(RuntimeError), measure.page_measured_in_one_walk():
        raise RuntimeError("an extraction that fails")
    assert measure.trafilatura_core.html2txt is measure.STOCK_HTML2TXT


def test_an_article_extracts_the_same_with_trafilaturas_own_measure(monkeypatch):
    site = harbor_news(articles=6)
    pages = [site.article_html(article, site.hosts[0]) for article in site.articles]
    walks, walk = [], measure.page_text
    monkeypatch.setattr(measure, "page_text", lambda content, clean=True: walks.append(1) or walk(content, clean))
    walked = [extract_article(page, "https://www.harbornews.ir/x") for page in pages]
    assert walks  # short articles: trafilatura measured their pages
    monkeypatch.setattr(measure, "SAME_RULES", False)
    assert [extract_article(page, "https://www.harbornews.ir/x") for page in pages] == walked
