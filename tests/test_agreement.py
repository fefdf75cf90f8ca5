"""Engine agreement (crawler/extract/agreement.py): the rule on engines' block lists, and the engine on a page."""

from __future__ import annotations

import lxml.html
import pytest

from crawler.extract.agreement import agreed_blocks, vote
from crawler.extract.article import extract_article
from crawler.extract.engines import element_blocks
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
        "readability": [LEAD, BODY, CLOSING],
        "resiliparse": [LEAD, BODY, CLOSING, "Related: Talks on the corridor stall again"],
    }
    assert agreed_blocks(outputs, "trafilatura") == [LEAD, BODY, CLOSING]
    votes = {block.text: block.votes for block in vote(outputs)["trafilatura"]}
    assert votes[PROMO] == {"trafilatura"} and votes[BODY] == {"trafilatura", "readability", "resiliparse"}


def test_a_paragraph_two_engines_miss_survives_between_agreed_neighbours():
    outputs = {
        "trafilatura": [LEAD, BODY, CLOSING],
        "readability": [LEAD, BODY, CAPTION, CLOSING],
        "resiliparse": [LEAD, BODY, MISSED, CLOSING, PROMO],  # resiliparse alone keeps MISSED, inside the body
    }
    assert agreed_blocks(outputs, "trafilatura") == [LEAD, BODY, MISSED, CLOSING]
    # a short block alone between agreed neighbours (a caption both others keep, a promo line) does not
    outputs["resiliparse"][2] = FOLLOW
    assert agreed_blocks(outputs, "trafilatura") == [LEAD, BODY, CLOSING]


def test_the_primary_engine_stands_when_no_block_is_agreed():
    outputs = {"trafilatura": [LEAD, BODY], "readability": [], "resiliparse": ["Cookie settings", "Subscribe"]}
    assert agreed_blocks(outputs, "trafilatura") == [LEAD, BODY]


def test_the_agreement_engine_extracts_a_news_page_in_full():
    pytest.importorskip("resiliparse", reason="the agreement engine needs the bench extra (resiliparse)")
    site = harbor_news(articles=3)
    article = site.articles[1]
    record = extract_article(site.article_html(article, site.hosts[0]), site.url(site.hosts[0], article.path),
                             engine="agreement")
    blocks = record["text"].split("\n")
    assert [b for b in blocks if b in article.paragraphs] == article.paragraphs
    assert not any("SHARE THIS ARTICLE" in b or "Most Read" in b or "(Photo by AFP)" in b for b in blocks)


def test_an_engine_output_is_split_into_blocks_whatever_its_text_holds():
    summary = lxml.html.fromstring(f"<div><p>{LEAD[:60]} <b>bold</b> end</p><!-- ad --><p>Stray \x01 control</p>"
                                   "loose text<br>after the break<ul><li>first</li><li>second</li></ul></div>")
    assert element_blocks(summary) == [f"{LEAD[:60]} bold end", "Stray \x01 control", "loose text", "after the break",
                                       "first", "second"]
