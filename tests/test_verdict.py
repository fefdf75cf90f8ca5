"""The article verdict (crawler/extract/verdict.py) and word counts (crawler/extract/words.py): pages that hold no
article (an empty body, a section front, a login, consent or error page) are told from real articles, short
ones included, by the pure verdict and by ``extract_article`` on realistic pages; ``scrape`` turns them into an
error record and exits 1."""

from __future__ import annotations

import json

import jsonschema
import pytest

from crawler.extract.article import extract_article
from crawler.extract.verdict import MIN_RUNNING_WORDS, NO_ARTICLE_TEXT, PageFacts, missing_article, not_an_article
from crawler.extract.words import word_count
from crawler.farm.sites import harbor_news
from crawler.output.record import Article
from tests.conftest import FIXTURES, SCHEMA, run_cli

NOT_ARTICLES = FIXTURES / "not-articles"
PRESSTV_PAGE = FIXTURES / "presstv-article.html"
NO_FACTS = PageFacts(link_texts=frozenset(), teaser_texts=frozenset(), dialog_texts=())
BODY = ["The port authority said on Tuesday that the harbour would reopen to container traffic next week, after "
        "divers cleared the wreck of a cargo ship that sank in the main channel during the storm.",
        "Shipping lines had diverted more than forty vessels to other ports, and exporters said the closure had "
        "cost them millions in delayed shipments of fruit and machinery."]


def says(answer: bool):
    """A ``says_article`` that records whether the verdict asked it."""
    def ask() -> bool:
        ask.asked = True
        return answer
    ask.asked = False
    return ask


# -- the pure verdict -------------------------------------------------------------------------------
def test_an_article_body_passes_without_asking_for_markup():
    ask = says(False)
    assert not_an_article(BODY, NO_FACTS, ask) is None
    assert not ask.asked  # enough running text: no need to scan the page for a date


def test_no_words_is_no_article():
    assert not_an_article([], NO_FACTS, says(True)) == "no text"
    assert not_an_article(["—", "· · ·"], NO_FACTS, says(True)) == "no text"


def test_a_list_of_headline_links_is_a_listing():
    headlines = [f"Council vote on the harbour budget delayed again in district {n}" for n in range(8)]
    facts = PageFacts(link_texts=frozenset(headlines), teaser_texts=frozenset(), dialog_texts=())
    page = ["Latest world news", *(f"- {h}" for h in headlines), "Page 1 of 20"]
    assert not_an_article(page, facts, says(True)) == "mostly link text (88 of 95 words)"
    # an article quoting a few linked headlines is still an article
    assert not_an_article(BODY + headlines[:3], facts, says(True)) is None


def test_teasers_of_five_other_pages_are_a_section_front_and_of_two_are_not():
    teasers = [f"Officials in district {n} said on Thursday that the measures would take effect next month, despite "
               "protests from residents." for n in range(6)]
    facts = PageFacts(link_texts=frozenset(), teaser_texts=frozenset(teasers), dialog_texts=())
    assert not_an_article(teasers, facts, says(True)) == "teasers of 6 other pages"
    assert not_an_article(teasers[:2] + BODY, facts, says(True)) is None


def test_text_inside_a_dialog_is_no_article():
    consent = ("We and our partners store and access information on a device, such as cookies, and process personal "
               "data for personalised advertising and content, measurement and audience research.")
    facts = PageFacts(link_texts=frozenset(), teaser_texts=frozenset(), dialog_texts=(f"We value your privacy {consent} Accept all",))
    assert not_an_article([consent], facts, says(True)) == "the text of a dialog"
    assert not_an_article([consent, *BODY, *BODY], facts, says(True)) is None  # a cookie banner beside an article


def test_a_short_text_is_an_article_only_when_the_page_says_so():
    brief = ["Divers cleared the wreck in the main channel on Tuesday; the harbour reopens to container traffic next week."]
    assert word_count(brief[0]) < MIN_RUNNING_WORDS
    assert not_an_article(brief, NO_FACTS, says(True)) is None  # article markup, a byline or a date of its own
    assert not_an_article(brief, NO_FACTS, says(False)).startswith("too little running text: 18 of")


def test_missing_article_reads_the_verdict_and_the_cleaned_text():
    assert missing_article({"no_article": None, "text": BODY[0]}) is None
    assert missing_article({"no_article": "no text", "text": None}) == f"{NO_ARTICLE_TEXT} (no text)"
    assert missing_article({"no_article": None, "text": None}) == f"{NO_ARTICLE_TEXT} (none left after cleaning)"


# -- realistic pages ----------------------------------------------------------------------------------
@pytest.mark.parametrize("page, reason", [
    ("section-front.html", "teasers of 12 other pages"),
    ("login.html", "too little running text"),
    ("consent.html", "the text of a dialog"),
    ("error.html", "too little running text"),
])
def test_pages_without_an_article_are_told_apart(page, reason):
    extracted = extract_article((NOT_ARTICLES / page).read_bytes(), f"https://www.harbourtribune.example/{page}")
    assert extracted["text"]  # the engines do find text on each: the verdict is what says it is no article
    assert extracted["no_article"].startswith(reason)


def test_a_tiny_body_is_no_article():
    assert extract_article(b"<html><body>hi</body></html>", "")["no_article"].startswith("too little running text: 1 of")


def test_real_articles_pass_short_ones_included():
    assert extract_article(PRESSTV_PAGE.read_bytes(), "")["no_article"] is None
    site = harbor_news(articles=4)
    for article in site.articles:
        assert extract_article(site.article_html(article, site.hosts[0]), site.url(site.hosts[0], article.path))["no_article"] is None
    # a news brief of two sentences: short, but its page dates itself (as a blog post or a wire brief does)
    brief = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Harbour reopens | Harbour Log</title>
</head><body><div class="post"><h1>Harbour reopens</h1><p class="meta">Posted on
<time datetime="2012-11-12T09:30:00+00:00">November 12, 2012</time></p>
<p>Divers cleared the wreck in the main channel on Tuesday. The harbour reopens to container traffic next week.</p>
</div><div class="sidebar"><a href="/archive">Archive</a> <a href="/about">About</a></div></body></html>"""
    extracted = extract_article(brief, "https://harbourlog.example/harbour-reopens")
    assert word_count(extracted["text"]) < MIN_RUNNING_WORDS and extracted["no_article"] is None


# -- scrape ---------------------------------------------------------------------------------------------
def test_scrape_of_pages_without_an_article_prints_error_records_and_exits_1(tmp_path):
    pages = [str(NOT_ARTICLES / name) for name in ("section-front.html", "login.html", "consent.html", "error.html")]
    result = run_cli("scrape", *pages, "-", cwd=tmp_path, stdin=b"<html><body>hi</body></html>")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1 and len(records) == 5
    for record, source in zip(records, [*pages, "-"]):
        assert record["source"] == source and record["text"] is None and record["word_count"] is None
        assert record["error"].startswith(f"{source}: {NO_ARTICLE_TEXT} (")
        jsonschema.validate(record, SCHEMA)
    assert result.stderr.decode().count(NO_ARTICLE_TEXT) == 5


def test_scrape_of_an_article_still_exits_0_with_its_word_count(tmp_path):
    result = run_cli("scrape", str(PRESSTV_PAGE), cwd=tmp_path)
    record = json.loads(result.stdout)
    assert result.returncode == 0 and "error" not in record
    assert record["word_count"] == word_count(record["text"]) > 300 and record["paywalled"] is False


# -- words ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("Kherson's 1,500 well-known troops", 4),  # an apostrophe, a comma, a hyphen inside a word join it
    ("U.S. envoy — talks resume", 4),  # a dash between words is no word
    ("東京で会議", 5),  # Chinese and Japanese count characters
    ("नमस्ते दुनिया", 2),  # Indic vowel signs and viramas stay inside their word
    ("كَتَبَ الوَلَدُ", 2),  # so do Arabic vowel signs
    ("", 0),
])
def test_word_count(text, words):
    assert word_count(text) == words


def test_the_records_word_count_follows_its_text_as_cleaning_changes_it():
    article = Article(id="a" * 20, site=None, url=None, text="\n".join(BODY))
    assert article.record()["word_count"] == word_count("\n".join(BODY)) == 61
    article.text = BODY[0]  # a cleaning layer dropped the second paragraph
    assert article.record()["word_count"] == 34
    article.text = None
    assert article.record()["word_count"] is None


# -- crawl -----------------------------------------------------------------------------------------------
def test_a_crawl_counts_article_urls_that_serve_no_article_and_emits_none_of_them(farm_run):
    """Two article URLs of the farm serve a consent wall and a sign-in page (status 200, as sites do): the crawl
    emits every other article, and counts those two as not articles."""
    walled = farm_run.site.articles[:2]
    for article, page in zip(walled, ("consent.html", "login.html")):
        farm_run.site.article_pages[article.id] = (NOT_ARTICLES / page).read_bytes()
    result = farm_run.crawl()
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    [stats_file] = (farm_run.output / "harbor").glob("*.stats.json")
    stats = json.loads(stats_file.read_text())
    assert stats["newsmirror/pages/not_article"] == len(walled)
    titles = {record["title"] for record in farm_run.records()}
    assert titles == {a.title for a in farm_run.site.articles[2:]}
    assert all(record["word_count"] > 50 and record["paywalled"] is False for record in farm_run.records())
    assert result.stderr.decode().count(NO_ARTICLE_TEXT) == len(walled)
