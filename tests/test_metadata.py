"""Metadata of realistic pages: authors without "By" or dates, JSON-LD fields, agreed dates, guessed language."""

import json

from crawler.extract.article import extract_article
from crawler.extract.dates import agreed_date
from crawler.extract.language import detect_language
from crawler.farm.sites import harbor_news

SITE = harbor_news(articles=3)
ARTICLE = SITE.articles[1]
URL = f"http://{SITE.hosts[0]}{ARTICLE.path}"
PAGE = SITE.page(SITE.hosts[0], ARTICLE.path)[2].decode("utf-8")
META_AUTHOR = f'<meta name="author" content="{ARTICLE.author}">\n'


def test_byline_gives_names_without_by_or_date():
    page = PAGE.replace(META_AUTHOR, "").replace(
        f'<div class="byline">{ARTICLE.author} / Harbor News</div>',
        '<div class="byline">By Jane Doe and John Smith, 3 March 2026</div>')
    assert extract_article(page.encode(), URL)["authors"] == ["Jane Doe", "John Smith"]


def test_json_ld_fields():
    day = ARTICLE.published.date().isoformat()
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Harbour reopens to container traffic",
          "datePublished": f"{day}T08:15:00+01:00", "dateModified": f"{day}T09:00:00+01:00",
          "author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "By John Smith"}],
          "articleSection": "Economy", "keywords": ["ports", "trade"]}
    page = PAGE.replace(META_AUTHOR, "").replace(
        '<link rel="canonical"', f'<script type="application/ld+json">{json.dumps(ld)}</script>\n<link rel="canonical"')
    record = extract_article(page.encode(), URL)
    assert record["title"] == "Harbour reopens to container traffic"
    assert record["authors"] == ["Jane Doe", "John Smith"]
    assert record["published"] == f"{day}T08:15:00+01:00"  # JSON-LD agrees with the page's other dates on the day
    assert record["modified"] == f"{day}T09:00:00+01:00"
    assert record["section"] == "Economy" and record["tags"] == ["ports", "trade"]


def test_dates_sources_agree_by_majority_and_keep_the_most_precise_spelling():
    # JSON-LD in UTC gives the next day; the URL, <time> and htmldate agree on the local day
    assert agreed_date(["2026-03-08", "2026-03-08", "2026-03-09T01:30:00+00:00", "2026-03-08T23:30:00-02:00"],
                       ["2026-03-09T01:30:00+00:00", "2026-03-08T23:30:00-02:00", "2026-03-08", "2026-03-08"]
                       ) == "2026-03-08T23:30:00-02:00"
    assert agreed_date([None, "2019-10-22", None, None], [None, None, None, "2019-10-22"]) == "2019-10-22"
    assert agreed_date([None] * 4, [None] * 4) is None


def test_language_declared_else_guessed():
    assert extract_article(PAGE.replace('<html lang="en">', '<html lang="en-GB">').encode(), URL)["language"] == "en-GB"
    assert extract_article(PAGE.replace('<html lang="en">', "<html>").encode(), URL)["language"] == "en"
    german = ("Die Hafenbehörde hat am Dienstag mitgeteilt, dass der Hafen wieder für den Containerverkehr geöffnet "
              "wird. Nach Angaben der Regierung sind die Arbeiten an der Bahnstrecke schneller als geplant "
              "vorangekommen, und auch die Exporte von Weizen haben sich seit Januar verdoppelt.")
    assert detect_language(german) == "de"
    assert detect_language("Short.") is None
