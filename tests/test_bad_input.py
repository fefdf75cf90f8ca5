"""Bad pages give a clean record or an ExtractionError (the spider logs and skips it), quickly: empty and
binary bodies, missing or wrong charsets, a 20 MB page, 100,000 nested divs."""

import gzip
import time

import pytest

from crawler.extract.article import ExtractionError, extract_article
from crawler.farm.sites import harbor_news

SITE = harbor_news(articles=3)
ARTICLE = SITE.articles[1]
URL = f"http://{SITE.hosts[0]}{ARTICLE.path}"
RUSSIAN = ["Министр иностранных дел заявил во вторник, что переговоры о новом морском коридоре зашли в тупик.",
           "По словам местных жителей, река вышла из берегов к северу от столицы, и несколько деревень затоплены.",
           "Независимые аналитики считают, что цены на топливо в следующем месяце снова вырастут."]
JAPANESE = ["外務大臣は火曜日、新しい海上回廊に関する協議が行き詰まったと述べた。",
            "地元住民によると、首都の北で川が氾濫し、いくつかの村が浸水した。",
            "独立系アナリストは、来月も燃料価格が再び上昇すると見ている。"]


def farm_page(paragraphs: list[str] | None = None, charset_meta: bool = True) -> str:
    """The farm's article page (nav, breadcrumb, share box, related, footer) as text, paragraphs replaced."""
    _, _, html = SITE.page(SITE.hosts[0], ARTICLE.path)
    page = html.decode("utf-8")
    for number, old in enumerate(ARTICLE.paragraphs if paragraphs else []):  # every paragraph, as a real page
        page = page.replace(old, paragraphs[number % len(paragraphs)])
    return page if charset_meta else page.replace('<meta charset="utf-8">\n', "")


@pytest.mark.parametrize("body,content_type,problem", [
    (b"", "text/html", "empty"),
    (b" \r\n\t ", "text/html; charset=utf-8", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x04\x00", "text/html", "binary"),  # an image served as HTML
    (gzip.compress(farm_page().encode()), "text/html; charset=utf-8", "binary"),  # gzipped twice by a proxy
])
def test_empty_and_binary_bodies_raise_extraction_error(body, content_type, problem):
    with pytest.raises(ExtractionError, match=problem):
        extract_article(body, URL, content_type=content_type)


@pytest.mark.parametrize("paragraphs,encoding", [(RUSSIAN, "cp1251"), (JAPANESE, "shift_jis")])
def test_undeclared_charset_is_detected(paragraphs, encoding):
    body = farm_page(paragraphs, charset_meta=False).encode(encoding, "xmlcharrefreplace")
    record = extract_article(body, URL, content_type="text/html")
    assert record["text"].split("\n")[:3] == paragraphs


def test_latin1_header_on_a_utf8_page_is_read_as_utf8():
    body = farm_page(RUSSIAN, charset_meta=False).encode("utf-8")
    record = extract_article(body, URL, content_type="text/html; charset=ISO-8859-1")
    assert record["text"].split("\n")[:3] == RUSSIAN
    assert record["language"] == "en"  # declared by <html lang>, not guessed


@pytest.mark.parametrize("declared", ["gb2312", "windows-1251", "shift_jis"])
def test_legacy_meta_charset_on_a_page_saved_as_utf8_is_read_as_utf8(declared):
    """A page re-saved as UTF-8 that kept its old <meta charset> (as Tencent's pages in Readability's tests)."""
    page = farm_page(JAPANESE, charset_meta=False).replace("<head>", f'<head><meta charset="{declared}">', 1)
    record = extract_article(page.encode("utf-8"), URL, content_type="text/html")
    assert record["text"].split("\n")[:3] == JAPANESE


def test_legacy_page_that_is_not_utf8_keeps_its_declaration():
    page = farm_page(RUSSIAN, charset_meta=False).replace("<head>", '<head><meta charset="windows-1251">', 1)
    assert extract_article(page.encode("cp1251"), URL, content_type="text/html")["text"].split("\n")[:3] == RUSSIAN


def test_utf8_bom_wins_over_a_wrong_header():
    body = b"\xef\xbb\xbf" + farm_page(RUSSIAN).encode("utf-8")
    record = extract_article(body, URL, content_type="text/html; charset=windows-1252")
    assert record["text"].split("\n")[:3] == RUSSIAN and record["title"] == ARTICLE.title


def test_20_mb_page_is_cut_and_still_yields_the_article():
    comments = "".join(f'<li class="comment"><p>Reader comment number {n}: I disagree with this analysis.</p></li>'
                       for n in range(250_000))
    page = farm_page().replace("</article>", f'</article><ol class="comments">{comments}</ol>')
    body = page.encode("utf-8")
    assert len(body) > 20_000_000
    started = time.monotonic()
    record = extract_article(body, URL, content_type="text/html; charset=utf-8")
    assert time.monotonic() - started < 15
    assert record["title"] == ARTICLE.title
    assert record["text"].split("\n")[: len(ARTICLE.paragraphs)] == ARTICLE.paragraphs


@pytest.mark.parametrize("where", ["around the article", "after the article"])
def test_100k_nested_divs_give_a_record_or_an_empty_text_quickly(where):
    deep = "<div>" * 100_000 + "unclosed widget" + "</div>" * 100_000
    page = farm_page()
    if where == "around the article":
        page = page.replace('<article class="news-detail">', deep[: len(deep) // 2] + '<article class="news-detail">')
    else:
        page = page.replace("</article>", "</article>" + deep)
    started = time.monotonic()
    record = extract_article(page.encode("utf-8"), URL, content_type="text/html; charset=utf-8")
    assert time.monotonic() - started < 10
    assert record["title"] == ARTICLE.title
    if where == "after the article":
        assert record["text"].split("\n")[: len(ARTICLE.paragraphs)] == ARTICLE.paragraphs
    else:  # the parser stops nesting at 256 levels: the body is lost, the spider skips the page (no text)
        assert record["text"] is None or ARTICLE.paragraphs[0] not in record["text"]


def test_control_characters_in_a_page_are_dropped_and_lose_no_text():
    """Control characters and U+FFFF, as old CMS exports leave them in text: lxml keeps them, then refuses them
    in any element an engine builds. They go before parsing; every paragraph stays, whole."""
    clean = extract_article(farm_page().encode("utf-8"), URL)
    marred, marks = farm_page(), "\x0b\x01\uffff\x0c\x1f"
    for number, paragraph in enumerate(ARTICLE.paragraphs):
        first, rest = paragraph.split(" ", 1)
        marred = marred.replace(paragraph, f"{first}{marks[number % len(marks)]} {rest}")
    record = extract_article(marred.encode("utf-8"), URL)
    assert record["text"] == clean["text"]
    assert all(paragraph in record["text"] for paragraph in ARTICLE.paragraphs)
