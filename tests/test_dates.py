"""Dates that are dates: a year alone in the text is no publication date (``published`` stays null)."""

from __future__ import annotations

import pytest

from crawler.extract.article import extract_article
from crawler.extract.dates import stated_new_year

URL = "https://www.harbornews.ir/economy/budget-plan-unveiled"


def page(text: str, head: str = "") -> bytes:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Budget plan unveiled - Harbor News</title>
{head}</head><body><header><nav><a href="/">Home</a> <a href="/economy">Economy</a> <a href="/world">World</a></nav></header>
<div class="breadcrumb"><a href="/">Home</a> / <a href="/economy">Economy</a></div>
<article><h1>Budget plan unveiled</h1><p>{text}</p>
<p>The finance ministry said the document would be debated in parliament over the coming weeks, and that
amendments could be tabled by any party before the final vote.</p></article>
<div class="share-box"><span>SHARE THIS ARTICLE</span> <a href="https://www.facebook.com/sharer.php">Facebook</a></div>
<aside class="related"><h3>Related</h3><a href="/economy/tax">Tax reform stalls</a></aside>
<footer><p>Harbor News</p></footer></body></html>""".encode()


@pytest.mark.parametrize("text", [
    "The plan has 1995 pages and covers every ministry, the finance minister told lawmakers.",
    "In 2019 the ministry first proposed the reform, which now runs to 340 articles.",
])
def test_a_year_alone_in_the_text_is_no_publication_date(text):
    assert extract_article(page(text), URL)["published"] is None


def test_real_dates_still_count():
    text = "The plan has 1995 pages and covers every ministry, the finance minister told lawmakers."
    declared = page(text, '<meta property="article:published_time" content="2024-03-05T10:00:00+03:30">')
    assert extract_article(declared, URL)["published"] == "2024-03-05T10:00:00+03:30"
    dateline = "TEHRAN, March 5, 2024 — The plan has 1995 pages and covers every ministry, the minister said."
    assert extract_article(page(dateline), URL)["published"][:10] == "2024-03-05"
    new_year = "TEHRAN, January 1, 2024 — The plan has 1995 pages and covers every ministry, the minister said."
    assert extract_article(page(new_year), URL)["published"][:10] == "2024-01-01"


def test_new_year_stated_or_not():
    assert stated_new_year("2024-01-01", "Published 1 January 2024 by the ministry")
    assert stated_new_year("2024-01-01", "Updated: 2024-01-01 09:00")
    assert not stated_new_year("2024-01-01", "The plan, first drafted in 2024, has 1995 pages")
