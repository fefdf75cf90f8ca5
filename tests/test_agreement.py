"""Engine agreement (crawler/extract/agreement.py): the rules on engines' block lists (votes, the trimmed tail), and
the engines on a page."""

from __future__ import annotations

import lxml.html
import pytest
from lxml.etree import tostring
from readability import Document
from readability.readability import REGEXES

from crawler.extract.agreement import (ARTICLE_SHARE, MISSED_WORDS, SAME_ARTICLE, WORTH_A_VOTE, agreed_blocks, confirmed,
                                       is_running_text, trimmed_tail, unconfirmed_words, vote)
from crawler.extract.article import extract_article
from crawler.extract.engines import (UNLIKELY, AsciiFolded, agreement_blocks, agreement_readability_blocks, element_blocks,
                                     holds_blocks, readability_blocks, resiliparse_blocks, trafilatura_blocks)
from crawler.farm.sites import harbor_news

LEAD = ("Iran's foreign minister said on Tuesday that talks with European envoys on the shipping corridor "
        "would resume in Muscat next week, after a month in which both sides traded accusations.")
BODY = ("The minister, speaking at a news conference in Tehran, said the two delegations had agreed on an "
        "agenda covering insurance for tankers, inspections at the Strait of Hormuz and the release of seized cargo.")
MISSED = ("Oman's foreign ministry confirmed in a statement carried by state media that it would host the "
          "meeting, adding that technical teams from both sides had already met twice in recent weeks.")
CLOSING = ("European diplomats, who asked not to be named, said a deal on tanker insurance was within reach but "
           "that the question of seized cargo remained the main obstacle to a broader agreement.")
PROMO = "Download our app and never miss a breaking story: available on Google Play and the App Store today."
CAPTION = "Tankers anchored off Bandar Abbas. (Photo by AFP)"
FOLLOW = "Follow us on Telegram, X and Instagram for live updates"


def test_a_block_two_engines_keep_stays_and_a_promo_only_one_keeps_goes():
    outputs = {
        "trafilatura": [LEAD, BODY, CLOSING, PROMO],  # the promo at the body's edge: trafilatura alone keeps it
        "trafilatura-own": [LEAD, BODY, CLOSING],
        "resiliparse": [LEAD, BODY, CLOSING, "Related: Talks on the corridor stall again"],
    }
    assert agreed_blocks(outputs, "trafilatura") == [LEAD, BODY, CLOSING]
    voted = vote(outputs)
    votes = {block.text: block.votes for block in voted["trafilatura"]}
    assert votes[PROMO] == {"trafilatura"} and votes[BODY] == {"trafilatura", "trafilatura-own", "resiliparse"}
    assert unconfirmed_words(voted, "trafilatura") == len(PROMO.split())


def test_a_paragraph_two_engines_miss_survives_between_agreed_neighbours():
    outputs = {
        "trafilatura": [LEAD, BODY, CLOSING],
        "trafilatura-own": [LEAD, BODY, CAPTION, CLOSING],
        "resiliparse": [LEAD, BODY, MISSED, CLOSING, PROMO],  # resiliparse alone keeps MISSED, inside the body
    }
    assert agreed_blocks(outputs, "trafilatura") == [LEAD, BODY, MISSED, CLOSING]
    # a short block alone between agreed neighbours (a caption both others keep, a promo line) does not
    outputs["resiliparse"][2] = FOLLOW
    assert agreed_blocks(outputs, "trafilatura") == [LEAD, BODY, CLOSING]


def test_the_primary_engine_stands_when_no_block_is_agreed():
    outputs = {"trafilatura": [LEAD, BODY], "trafilatura-own": [], "resiliparse": ["Cookie settings", "Subscribe"]}
    assert agreed_blocks(outputs, "trafilatura") == [LEAD, BODY]


def test_with_its_own_vote_enough_the_primary_keeps_every_block_and_gains_the_missed_paragraph():
    outputs = {"trafilatura": [LEAD, BODY, CLOSING, PROMO], "resiliparse": [LEAD, BODY, MISSED, CLOSING, FOLLOW]}
    assert agreed_blocks(outputs, "trafilatura", agreed=1) == [LEAD, BODY, MISSED, CLOSING, PROMO]


def test_a_disagreement_counts_from_a_share_of_a_long_article():
    """Unconfirmed words worth a full vote in a short article are a note in a long one; so are missed ones."""
    article = [LEAD, BODY, CLOSING]  # ~100 words
    promos = [PROMO, FOLLOW, "Subscribe to the morning briefing: the day's top stories delivered to your inbox free",
              "We use cookies to improve your experience; by continuing to browse you accept our privacy policy"]
    for extractor, second in ((article + promos, article), (article, article + [MISSED] * 7)):
        short = vote({"trafilatura": extractor, "resiliparse": second})
        long = vote({"trafilatura": article * 50 + extractor, "resiliparse": article * 50 + second})
        kept = sum(block.size for block in long["trafilatura"])
        unconfirmed, missed = unconfirmed_words(long, "trafilatura"), unconfirmed_words(long, "resiliparse")
        assert (unconfirmed >= WORTH_A_VOTE or missed >= MISSED_WORDS) and max(unconfirmed, missed) < ARTICLE_SHARE * kept
        assert not confirmed(short, "trafilatura", "resiliparse") and confirmed(long, "trafilatura", "resiliparse")
    assert not confirmed(vote({"trafilatura": [], "resiliparse": [LEAD]}), "trafilatura", "resiliparse")


def test_the_agreement_engine_extracts_a_news_page_in_full():
    site = harbor_news(articles=3)
    article = site.articles[1]
    record = extract_article(site.article_html(article, site.hosts[0]), site.url(site.hosts[0], article.path),
                             engine="agreement")
    blocks = record["text"].split("\n")
    assert [b for b in blocks if b in article.paragraphs] == article.paragraphs
    assert not any("SHARE THIS ARTICLE" in b or "Most Read" in b or "(Photo by AFP)" in b for b in blocks)


CITIES = ["Ohio", "California", "Beijing", "Lagos", "Tehran", "Berlin", "Paris", "Madrid", "Lima", "Oslo", "Rome", "Cairo",
          "Delhi", "Seoul", "Quito", "Accra", "Dakar", "Baku", "Doha", "Hanoi"]
STORY = [
    "MOSCOW (AP) — An unmanned Russian cargo spaceship heading to the International Space Station broke up in the "
    "atmosphere over Siberia on Thursday due to an unspecified malfunction, the Russian space agency said.",
    "The Progress MS-04 cargo craft broke up at an altitude of 190 kilometers over the remote Tuva region in Siberia "
    "that borders Mongolia, Roscosmos said in a brief statement.",
    "Local people reported seeing a flash of light and hearing a loud thud west of the regional capital of Kyzyl, "
    "more than 3,600 kilometers east of Moscow.",
    "Roscosmos said the craft was operating normally before it stopped transmitting data six and a half minutes "
    "after the launch from Baikonur.",
]


def story_under_a_river_of_teasers() -> bytes:
    """A portal's article page (as Yahoo's): a column-wide stream of other stories' teasers above the article."""
    teasers = "".join(
        f'<li class="js-stream-content"><div class="Cf"><h3><a href="/news/{city.lower()}-{n}.html">{city}: '
        f'council vote delayed</a></h3><p>{city} officials said on Thursday that the measures announced last week '
        "would take effect next month, despite protests from residents and business owners who fear the costs will "
        "fall on families already struggling with rising prices and rents.</p></div></li>"
        for n, city in enumerate(CITIES))
    story = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Russian cargo ship bound for space
station breaks up over Siberia - Yahoo News</title></head><body>
<header><nav><a href="/">Home</a> <a href="/news/world/">World</a> <a href="/news/science/">Science</a></nav></header>
<ol class="breadcrumb"><li><a href="/">News</a></li><li><a href="/news/science/">Science</a></li></ol>
<div id="Main"><ul class="stream">{teasers}</ul></div>
<div id="Col1"><article><h1>Russian cargo ship bound for space station breaks up over Siberia</h1>
<div class="byline">By VLADIMIR ISACHENKOV, Associated Press</div>
<div class="share"><a href="#">Share</a> <a href="#">Tweet</a> <a href="#">Email</a></div>
<div class="canvas-body">{story}</div></article>
<aside class="related"><h3>Related</h3><ul><li><a href="/news/soyuz.html">Soyuz launch delayed again</a></li></ul></aside></div>
<footer><p>Terms and Privacy Policy. Yahoo News, all rights reserved.</p></footer></body></html>""".encode()


def test_a_river_of_teasers_that_trafilaturas_fallback_pulls_in_is_voted_out():
    """trafilatura's own extractor finds the story, but its fallback (justext, tried because the story is a small
    share of the page's text) takes the teaser stream; neither resiliparse nor trafilatura's own extractor
    confirms those blocks, so the agreement engine keeps the story alone."""
    url = "https://news.example/russian-cargo-ship-breaks-up.html"
    root = lxml.html.fromstring(story_under_a_river_of_teasers())
    assert sum("officials said on Thursday" in block for block in trafilatura_blocks(root, url)) >= 10  # the premise
    blocks = agreement_blocks(root, url)
    assert [block for block in blocks if block in STORY] == STORY
    assert not any("officials said on Thursday" in block for block in blocks)
    record = extract_article(story_under_a_river_of_teasers(), url)  # the default engine
    assert record["text"].split("\n")[-len(STORY):] == STORY and "officials said" not in record["text"]


def test_a_body_resiliparse_drops_is_kept_by_the_full_vote():
    """resiliparse reads a Bootstrap ``hidden-xs`` wrapper as boilerplate and drops the story: trafilatura's own
    extractor is left with unconfirmed words, so trafilatura runs in full and its own extractor's vote keeps them."""
    story = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Cargo ship lost | Harbor News</title>
</head><body><header><nav><a href="/">Home</a> <a href="/science/">Science</a></nav></header>
<ol class="breadcrumb"><li><a href="/">Home</a></li><li><a href="/science/">Science</a></li></ol>
<main><h1>Russian cargo ship bound for space station breaks up over Siberia</h1>
<div class="share"><a href="#">Facebook</a> <a href="#">X</a> <a href="#">Telegram</a></div>
<div class="hidden-xs">{story}</div>
<aside class="related"><h3>Related</h3><ul><li><a href="/soyuz.html">Soyuz launch delayed again</a></li></ul></aside>
</main><footer><p>All rights reserved. Harbor News 2026.</p></footer></body></html>""".encode()
    url = "https://www.harbornews.ir/Detail/2026/12/3/771234/Cargo-ship-lost"
    root = lxml.html.fromstring(page)
    assert not any(paragraph in resiliparse_blocks(root, url) for paragraph in STORY)  # the premise
    voted = vote({"trafilatura": trafilatura_blocks(root, url, fast=True), "resiliparse": resiliparse_blocks(root, url)})
    assert unconfirmed_words(voted, "trafilatura") >= WORTH_A_VOTE  # the full vote runs
    assert [block for block in agreement_blocks(root, url) if block in STORY] == STORY


RELATED = ["Related", "- Talks on the shipping corridor stall again", "- Oman offers to host a second round",
           "| Share | Tweet | Email |", "3 comments"]
COMMENT = ("Reader comment: this is the third time the talks have been announced this year and nothing has come of them, "
           "so forgive me if I do not hold my breath for Muscat.")


def test_the_tail_readability_leaves_out_is_trimmed_up_to_running_text():
    """After the last block readability-lxml keeps, what is not running text goes (related links, share line,
    comment count); a paragraph it missed stops the trimming, and so does a block it keeps."""
    article = [LEAD, BODY, MISSED, CLOSING]
    assert is_running_text(CLOSING) and not any(is_running_text(block) for block in RELATED)
    assert trimmed_tail(article + RELATED, [LEAD, BODY, MISSED, CLOSING]) == article
    # readability missed the last two paragraphs: they are running text and stay, and the trimming stops there
    assert trimmed_tail(article + RELATED, [LEAD, BODY]) == article
    assert trimmed_tail([LEAD, BODY, *RELATED[:2], CLOSING, *RELATED[2:]], [LEAD, BODY]) == [LEAD, BODY, *RELATED[:2], CLOSING]


def test_when_readability_finds_the_same_article_the_whole_tail_after_it_goes():
    """A reader's comment is running text, but readability-lxml keeping three fifths of the words found the same
    article and ends it before the comment."""
    long_article = [LEAD, BODY, MISSED, CLOSING] * 2
    assert sum(map(len, long_article)) > SAME_ARTICLE * sum(map(len, long_article + [COMMENT, *RELATED]))
    assert trimmed_tail(long_article + [COMMENT, *RELATED], long_article) == long_article
    assert trimmed_tail([LEAD, COMMENT, *RELATED], [LEAD]) == [LEAD, COMMENT]  # a third kept: the comment stays


def test_the_blocks_stand_when_readability_keeps_none_of_them():
    blocks = [LEAD, BODY, *RELATED]
    assert trimmed_tail(blocks, []) == blocks
    assert trimmed_tail(blocks, ["Cookie settings", "Subscribe to our newsletter"]) == blocks


def test_readability_on_the_parsed_tree_reads_as_readability_lxml_on_the_page():
    """engines.ParsedDocument overrides readability-lxml's _parse (a copy of newsmirror's tree for its own parse,
    cleaner and link rewriting): the article text must stay what readability-lxml gives for the page."""
    page = story_under_a_river_of_teasers()
    summary = Document(page.decode(), url="https://news.example/").summary(html_partial=True)
    root = lxml.html.fromstring(page)
    assert readability_blocks(root, "https://news.example/") == element_blocks(lxml.html.fromstring(summary))
    assert readability_blocks(root, "") == readability_blocks(root, "")  # the tree is read, not changed
    assert readability_blocks(lxml.html.fromstring("<html><body></body></html>"), "") == []


@pytest.mark.parametrize("name", ["Site-Footer", "ENTRY-content", "main-sidebar x", "SIDEBAR", "ſidebar", "Kommentar",
                                  "Kombx", "Fußzeile footer", "İnfo-HEADER", "article-body", "", "xcombx"])
def test_a_folded_pattern_matches_what_the_case_insensitive_one_does(name):
    """readability-lxml's patterns are searched lowercase in ASCII text (ParsedDocument), as themselves in any other."""
    for pattern in (REGEXES["unlikelyCandidatesRe"], REGEXES["negativeRe"], REGEXES["positiveRe"]):
        folded = AsciiFolded(pattern).search(name)
        original = pattern.search(name)
        assert (folded and folded.group(0).lower()) == (original and original.group(0).lower())


def test_non_ascii_names_go_to_the_pattern_itself_and_only_plain_lower_case_patterns_fold():
    assert UNLIKELY.search("ſidebar") and not UNLIKELY.search("s-idebar")  # not ASCII: the pattern itself folds ſ to s
    with pytest.raises(ValueError, match="lower-case"):
        AsciiFolded(REGEXES["displayNoneRe"])


def test_a_div_holds_blocks_where_readability_lxml_finds_them_in_its_serialisation():
    """holds_blocks(child) is readability-lxml's divToPElementsRe search of the child's serialisation: on every child
    of every div of a real-looking page, the two agree."""
    root = lxml.html.fromstring(story_under_a_river_of_teasers() + story_with_its_tools_inside()
                                + b"<div><picture><source></picture><span>a &lt;p&gt; in text</span><b title='x'>"
                                  b"<param name='p'></b></div>")
    children = [child for div in root.iter("div") for child in div]
    found = [bool(REGEXES["divToPElementsRe"].search(tostring(child, encoding="unicode"))) for child in children]
    assert [holds_blocks(child) for child in children] == found and True in found and False in found


def story_with_its_tools_inside() -> bytes:
    """A 2010s news page whose story container also holds what follows the story: filing line, comment count,
    tags and a table of more stories, which trafilatura keeps as the story's end."""
    story = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Russian cargo ship breaks up over
Siberia | Daily Courier</title></head>
<body><div id="header"><a href="/">Daily Courier</a> | <a href="/world">World</a> | <a href="/science">Science</a></div>
<div id="content"><div id="story"><h1>Russian cargo ship bound for space station breaks up over Siberia</h1>
<p class="dateline">December 1, 2016 | By Vladimir Isachenkov, Associated Press</p>
{story}
<div class="story-tools"><p>Posted in <a href="/world">World</a>, <a href="/science">Science</a> | <a href="#comments">3 Comments</a></p>
<p>Tags: <a href="/tag/russia">Russia</a>, <a href="/tag/iss">space station</a>, <a href="/tag/roscosmos">Roscosmos</a></p>
<table class="more-stories"><tr><td><a href="/2016/11/30/soyuz">Soyuz launch delayed again</a></td><td>Nov 30</td></tr>
<tr><td><a href="/2016/11/29/iss">Station crew tests new docking port</a></td><td>Nov 29</td></tr>
<tr><td><a href="/2016/11/28/baikonur">Baikonur launch pad repaired</a></td><td>Nov 28</td></tr></table>
</div></div></div>
<div id="footer"><p>Copyright 2016 Daily Courier. All rights reserved.</p></div></body></html>""".encode()


def test_the_default_engine_trims_what_follows_the_story_in_its_container():
    root, url = lxml.html.fromstring(story_with_its_tools_inside()), "https://www.dailycourier.example/2016/12/01/progress"
    tools = ("Posted in World", "Tags: Russia", "Soyuz launch delayed", "Baikonur launch pad")
    assert all(any(tool in block for block in agreement_blocks(root, url)) for tool in tools)  # the premise
    blocks = agreement_readability_blocks(root, url)
    assert blocks[-len(STORY):] == STORY and not any(tool in block for block in blocks for tool in tools)
    record = extract_article(story_with_its_tools_inside(), url)  # the default engine
    assert record["text"].split("\n")[-len(STORY):] == STORY
