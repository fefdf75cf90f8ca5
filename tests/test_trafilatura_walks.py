"""trafilatura's whole-page measure (html2txt) and boilerplate discard (OVERALL_DISCARD_XPATH) from one walk of the
tree each: the same results as trafilatura's own scans on news pages and on the constructs they treat apart, lent to
trafilatura only while newsmirror extracts."""

from __future__ import annotations

from copy import deepcopy

import lxml.html
import pytest

from crawler.extract import trafilatura_walks as walks
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
    return walks.STOCK_HTML2TXT(deepcopy(tree))


def test_the_installed_trafilatura_has_the_rules_the_walk_follows():
    assert walks.SAME_RULES  # otherwise the walk is never used: trafilatura keeps its own measure


def test_tricky_markup_measures_the_same_as_trafilatura():
    tree = parse_html(TRICKY.encode())
    text = walks.page_text(tree)
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
        assert walks.page_text(tree) == stock(tree) and len(walks.page_text(tree)) > 200


def test_an_element_without_a_body_and_other_inputs_measure_the_same():
    fragment = lxml.html.fragment_fromstring('<div>Intro<aside>skip</aside>tail<div id="footer">x</div>end</div>')
    assert walks.page_text(fragment) == stock(fragment) == "Introtailend"
    assert walks.page_text(TRICKY) == walks.STOCK_HTML2TXT(TRICKY)  # a string: trafilatura's own measure
    tree = parse_html(TRICKY.encode())
    assert walks.page_text(tree, clean=False) == walks.STOCK_HTML2TXT(deepcopy(tree), clean=False)


def stock_scans() -> bool:
    return (walks.trafilatura_core.html2txt is walks.STOCK_HTML2TXT
            and walks.trafilatura_main.prune_unwanted_nodes is walks.trafilatura_external.prune_unwanted_nodes is walks.STOCK_PRUNE)


def test_trafilatura_is_lent_the_walks_only_while_newsmirror_extracts():
    assert stock_scans()
    with walks.trafilatura_walks():
        assert walks.trafilatura_core.html2txt is walks.page_text
        assert walks.trafilatura_main.prune_unwanted_nodes is walks.trafilatura_external.prune_unwanted_nodes is walks.pruned
    assert stock_scans()
    with pytest.raises(RuntimeError), walks.trafilatura_walks():
        raise RuntimeError("an extraction that fails")
    assert stock_scans()


def test_an_article_extracts_the_same_with_trafilaturas_own_scans(monkeypatch):
    site = harbor_news(articles=6)
    pages = [site.article_html(article, site.hosts[0]) for article in site.articles]
    measured, page_text = [], walks.page_text
    monkeypatch.setattr(walks, "page_text", lambda content, clean=True: measured.append(1) or page_text(content, clean))
    walked = [extract_article(page, "https://www.harbornews.ir/x") for page in pages]
    assert measured  # short articles: trafilatura measured their pages
    monkeypatch.setattr(walks, "SAME_RULES", False)
    assert [extract_article(page, "https://www.harbornews.ir/x") for page in pages] == walked


DISCARDS = """<html><body><div class="story">
<div role="Navigation">Home</div><span role="NAV">only N is lowered: kept</span><section data-lp-replacement-content="">lp</section>
<list data-component="x MostPopularStories">popular</list><div id="cookie-x" class="main">cookie by id</div>
<div class="main" id="cookie-y">first attribute is the class: kept</div><p id="share-box">share</p>
<p id="article-share">id pattern without ^: share</p><p class="btn sharing">class ^shar: kept</p>
<item class="ad-slot">ad- at the start</item><div class="top ad-slot">ad- after a space</div><div class="bad-slot">kept</div>
<div class="entry-meta">meta</div><em class="widget">an em: not one of the six tags</em>
<h2 class="comments-title">Comments</h2><a id="reply-1" class="reply-link">reply</a><a class="x" id="reply-2">kept</a>
<b id="main" style="visibility: hidden">id first: kept</b><b style="color: hidden" id="x">style first: hidden</b>
<figure style="display:none">none</figure><figure style="display: none">none</figure><i aria-hidden="true">icon</i>
<i aria-hidden="TRUE">kept</i><td class="noprint">noprint</td><p>Plain paragraph of the article, kept.</p>
<!-- a comment --><p class="akismet x">akismet</p></div></body></html>"""


def xpath_selections(tree) -> list[list]:
    return [list(expression(tree)) for expression in walks.trafilatura_xpaths.OVERALL_DISCARD_XPATH]


def test_the_discard_walk_selects_what_trafilaturas_xpath_does():
    tree = parse_html(DISCARDS.encode())
    boilerplate, hidden = walks.discarded(tree)
    assert [boilerplate, hidden] == xpath_selections(tree)
    chosen = {node.text_content() for node in boilerplate + hidden}
    assert {"Home", "lp", "popular", "cookie by id", "share", "ad- at the start", "Comments", "icon"} <= chosen
    assert not {text for text in chosen if "kept" in text or "Plain" in text}


def test_news_pages_discard_the_same_and_prune_to_the_same_tree():
    site = harbor_news(articles=4)
    for page in [site.article_html(article, site.hosts[0]) for article in site.articles] + [site.section_page(1, site.hosts[0])]:
        tree = parse_html(page)
        assert list(walks.discarded(tree)) == xpath_selections(tree)
        for backup in (False, True):
            theirs = walks.STOCK_PRUNE(deepcopy(tree), walks.trafilatura_xpaths.OVERALL_DISCARD_XPATH, with_backup=backup)
            ours = walks.pruned(deepcopy(tree), walks.trafilatura_xpaths.OVERALL_DISCARD_XPATH, with_backup=backup)
            assert lxml.html.tostring(ours) == lxml.html.tostring(theirs)
