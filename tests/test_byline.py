"""The byline search finds what trafilatura's ``extract_author`` finds, on news pages with bylines of many kinds."""

import pytest
from trafilatura.metadata import extract_author

from crawler.extract.article import parse_html
from crawler.extract.byline import byline_authors

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Port strike ends after nine days | Harbor News</title></head>
<body class="post-template-default single single-post {body_class}">
<header class="site-header"><nav class="main-nav"><a href="/">Home</a> <a href="/world/">World</a>
<a href="/economy/">Economy</a> <a href="/opinion/">Opinion</a></nav></header>
<div class="sidebar"><h3>Our columnists</h3><p class="author">Margaret Columnist</p>
<p class="author">Peter Pundit</p></div>
<main><nav class="breadcrumbs"><a href="/">Home</a> › <a href="/economy/">Economy</a></nav>
<article>
<h1>Port strike ends after nine days</h1>
{byline}
<figure><img src="/img/cranes.jpg" alt="Cranes"><figcaption>Idle cranes on Monday.
<span class="credit">Photo: Ana Photog</span></figcaption></figure>
<p>Dock workers voted on Tuesday to accept a new contract, ending a strike that had left more than forty
container ships waiting outside the harbour and cost exporters an estimated 30 million euros a day.</p>
<p>The agreement raises wages by 6 percent this year and limits the use of automated cranes on night shifts,
the union said in a statement read outside the port authority's offices.</p>
<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Share on X</a></div>
</article>
<section id="comments"><h3>2 comments</h3>
<div class="comment"><span class="comment-author">Harbour Watcher</span><p>About time.</p></div>
<form class="comment-form"><div class="comment-form-field comment-form-author"><label>Name (required)</label>
<input id="author" name="author" type="text"></div></form></section>
</main>
<footer class="site-footer"><p>© 2026 Harbor News. All rights reserved.</p></footer>
</body></html>"""

BYLINES = {
    "author-name class": ('<p class="article-meta">By <span class="author-name">Jane Doe</span></p>', "", "Jane Doe"),
    "byline with a date in <time>": (
        '<div class="byline">By Jane Doe and John Smith <time datetime="2026-03-03">3 March 2026</time></div>', "",
        "Jane Doe; John Smith"),
    "rel=author link": ('<p>Words by <a rel="author" href="/staff/jane-doe">Jane Doe</a></p>', "", "Jane Doe"),
    "itemprop author": ('<div class="meta"><span itemprop="author">Li Wei</span></div>', "", "Li Wei"),
    "Chinese editor id": ('<div id="zuozhe">Wang Fang</div>', "", "Wang Fang"),
    "data-component Byline": ('<section data-component="Byline-block"><b>Ana Ruiz</b></section>', "", "Ana Ruiz"),
    # no byline in the article: the sidebar's columnists and the commenters are not its authors, and a class on
    # <body> that names an author is too long to be a byline
    "only sidebar and comments": ("", "single-author", None),
}


@pytest.mark.parametrize("case", BYLINES, ids=list(BYLINES))
def test_byline_search_agrees_with_trafilatura(case):
    byline, body_class, expected = BYLINES[case]
    page = PAGE.format(byline=byline, body_class=body_class).encode()
    assert byline_authors(parse_html(page)) == expected
    assert extract_author(parse_html(page)) == expected


def test_the_first_test_in_order_wins_over_an_earlier_element():
    # a generic "writer" class comes first on the page, the specific author-name later: specific wins
    byline = ('<div class="writer-box">Staff writer desk</div>'
              '<p class="article-meta">By <span class="author-name">Jane Doe</span></p>')
    page = PAGE.format(byline=byline, body_class="").encode()
    assert byline_authors(parse_html(page)) == extract_author(parse_html(page)) == "Jane Doe"
