"""Page repairs (crawler/extract/repairs.py) and the page faults they mend, on realistic news pages."""

from __future__ import annotations

from crawler.extract.article import extract_article
from crawler.extract.repairs import close_title, without_repeats

URL = "https://www.harbornews.ir/Detail/2026/3/1/770101/Harbour-reopens"
PARAGRAPHS = [
    "The port authority said on Tuesday that the harbour would reopen to container traffic next month, after "
    "repairs to the northern quay that were delayed by storms and a strike by dock workers.",
    "Shipping agents in the city welcomed the news, saying that the closure had cost importers millions in "
    "diverted cargo and that several lines had already moved their calls to ports further south.",
    "The dock workers' union, whose strike ended last week, said its members would return to the night shifts "
    "as soon as the cranes on the northern quay were certified safe by the inspectors.",
    "Officials did not say how much the repairs had cost, but a spokesman said the work had been paid for by "
    "the ministry of transport and that no fee increase was planned for this year.",
]
HEADER = """<header class="site-header"><a class="logo" href="/">Harbor News</a>
<nav><ul><li><a href="/">Home</a></li><li><a href="/Section/101">World</a></li><li><a href="/Section/102">Economy</a></li></ul></nav>
</header><div class="breadcrumb"><a href="/">Home</a> / <a href="/Section/102">Economy</a></div>"""
FOOTER = """<div class="share-box"><span>SHARE THIS ARTICLE</span> <a href="https://www.facebook.com/sharer.php">Facebook</a></div>
<aside class="related"><h3>Related</h3><ul><li><a href="/Detail/2026/2/27/770090/Strike">Dock strike ends after a week</a></li></ul></aside>
<footer><p>Copyright © 2026 Harbor News. All rights reserved.</p></footer>"""


def page(body: str, head: str = "<title>Harbour reopens to container traffic - Harbor News</title>") -> bytes:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{head}</head><body>{HEADER}'
            f"{body}{FOOTER}</body></html>").encode()


def paragraphs(items=PARAGRAPHS) -> str:
    return "".join(f"<p>{text}</p>" for text in items)


def test_an_unclosed_title_no_longer_swallows_the_page():
    html = page(f"<article><h1>Harbour reopens to container traffic</h1>{paragraphs()}</article>",
                head="<title>Harbour reopens to container traffic - Harbor News<meta name='author' content='Y. Jalali'>")
    record = extract_article(html, URL)
    assert record["text"].split("\n") == PARAGRAPHS
    assert record["title"] == "Harbour reopens to container traffic"
    assert close_title("<head><title>A - B</head><body><p>x</p>") == "<head><title>A - B</title></head><body><p>x</p>"
    assert close_title("<title>A <b> B</title>") == "<title>A <b> B</title>"  # raw text, closed: left alone


def test_an_article_carried_twice_is_kept_once():
    html = page(f"<article><h1>Harbour reopens to container traffic</h1><div class='story-body'>{paragraphs()}</div>"
                f"<div class='amp-story print-only'>{paragraphs()}</div></article>")
    assert extract_article(html, URL)["text"].split("\n") == PARAGRAPHS
    # a teaser with "read more" ahead of the full text: neither the lead nor the body twice
    teaser = f"<div class='teaser'>{paragraphs(PARAGRAPHS[:2])}<a href='#full'>Read more</a></div>"
    html = page(f"<article><h1>Harbour reopens to container traffic</h1>{teaser}<div id='full'>{paragraphs()}</div></article>")
    assert extract_article(html, URL)["text"].split("\n") == PARAGRAPHS


def test_a_block_said_twice_is_not_a_copy():
    caption = "In this photo dated Tuesday the first container ship of the season enters the harbour."
    blocks = [PARAGRAPHS[0], caption, caption, PARAGRAPHS[1], "Advertisement", PARAGRAPHS[2], "Advertisement"]
    assert without_repeats(blocks) == blocks
    assert without_repeats([*PARAGRAPHS, *PARAGRAPHS[1:3]]) == PARAGRAPHS


def test_a_body_split_into_sections_is_extracted_in_full():
    sections = "".join(f"<section class='article-body'><h2>Part {n}</h2>{paragraphs([text])}</section>"
                       f"<div class='ad-slot'><p>Advertisement</p></div>" for n, text in enumerate(PARAGRAPHS, 1))
    text = extract_article(page(f"<div class='wrap'><h1>Harbour reopens to container traffic</h1>{sections}</div>"), URL)["text"]
    assert all(paragraph in text.split("\n") for paragraph in PARAGRAPHS)


def test_embedded_posts_and_quotes_that_belong_to_the_story_keep_their_text():
    tweet = ("<blockquote class='twitter-tweet'><p lang='en' dir='ltr'>The northern quay is open again after six weeks "
             "of repairs. Thanks to every dock worker who made it happen.</p>&mdash; Port Authority (@harbourport) "
             "<a href='https://twitter.com/harbourport/status/1'>March 1, 2026</a></blockquote>"
             "<script async src='https://platform.twitter.com/widgets.js'></script>")
    instagram = ("<blockquote class='instagram-media' data-instgrm-permalink='https://www.instagram.com/p/x/'><div>"
                 "<p>First container ship of the season arriving this morning #harbour</p></div></blockquote>")
    quote = "<blockquote><p>We will not accept another delay, the union leader said at the gate.</p></blockquote>"
    body = (f"<p>{PARAGRAPHS[0]}</p>{tweet}<p>{PARAGRAPHS[1]}</p>{instagram}<p>{PARAGRAPHS[2]}</p>{quote}"
            f"<p>{PARAGRAPHS[3]}</p>")
    text = extract_article(page(f"<article><h1>Harbour reopens to container traffic</h1>{body}</article>"), URL)["text"]
    for said in ("The northern quay is open again after six weeks of repairs.", "First container ship of the season",
                 "We will not accept another delay"):
        assert said in text
    assert all(paragraph in text for paragraph in PARAGRAPHS)
