"""HTML → article on a Press-TV-like page and on farm pages; bad input gives ExtractionError, not a crash."""

import dataclasses
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.clean.layers import drop_phrase_blocks
from crawler.clean.pipelines import TextCleaner
from crawler.dedup.identity import content_hash
from crawler.extract.article import ExtractionError, extract_article
from crawler.farm.sites import harbor_news
from crawler.sites.profiles import CleanRules, load_profiles, parse_profile

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "examples" / "presstv-article-as-scraped.txt"
PRESSTV_URL = "https://www.presstv.ir/Detail/2022/11/10/692755/Russia-Kherson-pullout-Ukraine"
BOILERPLATE = ["News", "alternate addresses", "www.presstv.co.uk", "SHARE THIS ARTICLE", "Roku", "File photo",
               "Related News", "Most Read", "Install the new version", "Copyright", "About Us"]


def body_paragraphs() -> list[str]:
    """The fixture's article paragraphs (between the body's opening and the <br> before the notice)."""
    html = (FIXTURES / "presstv-article.html").read_text(encoding="utf-8")
    body = html.split('<div class="news-body">', 1)[1].split("<br>", 1)[0]
    return [" ".join(line.strip()[3:-4].split()) for line in body.splitlines() if line.strip().startswith("<p>")]


def extract_clean(html: bytes, url: str, profile=None) -> dict:
    """Extraction and the in-process cleaning layers (profile phrases, built-in rules), as ``scrape`` runs them."""
    settings = Settings()
    settings.setmodule("crawler.settings")
    return TextCleaner(settings, None).clean(extract_article(html, url, profile), profile)


PRESSTV = load_profiles()["presstv"]


@pytest.mark.parametrize("profile", [PRESSTV, dataclasses.replace(PRESSTV, clean=CleanRules()), None],
                         ids=["profile", "profile-without-clean-rules", "no-profile"])
def test_presstv_page_yields_exactly_the_body(profile):
    html = (FIXTURES / "presstv-article.html").read_bytes()
    article = extract_clean(html, PRESSTV_URL, profile)
    assert article["title"] == "Russia says Kherson pullout begins as Ukraine claims taking swathes of territory"
    assert article["section"] == "Russia"
    assert article["text"].split("\n") == body_paragraphs()
    assert article["image_caption"].endswith("(File photo by Anadolu)")
    for phrase in BOILERPLATE:
        assert phrase not in article["text"], phrase
    assert article["published"] == "2022-11-10T18:42:11"  # DC.Date.Created, no offset given
    assert article["canonical_url"] == PRESSTV_URL
    assert article["image"].startswith("https://cdn.presstv.ir/Photo/")
    assert article["language"] == "en"
    assert article["content_hash"] == content_hash(article["text"])


def test_fixture_body_matches_the_shared_example():
    if not EXAMPLE.exists():
        pytest.skip("shared/examples not beside the checkout")
    example = EXAMPLE.read_text(encoding="utf-8")
    example = " ".join(example.split())
    assert len(body_paragraphs()) == 11
    for paragraph in body_paragraphs():
        assert paragraph in example


def test_farm_article_metadata_and_no_boilerplate():
    site = harbor_news(articles=5)
    article = site.articles[2]
    profile = parse_profile("farm.toml", "harbor", __import__("tomllib").loads(site.profile_toml())["harbor"])
    _, _, html = site.page(site.hosts[1], article.path)
    record = extract_clean(html, f"http://{site.hosts[1]}{article.path}", profile)
    assert record["title"] == article.title
    assert record["text"].split("\n") == article.paragraphs
    assert record["published"] == article.published.isoformat()  # with its +03:30 offset
    assert record["authors"] == [article.author]
    assert record["image_caption"].endswith("(Photo by AFP)")
    for leftover in ("SHARE THIS ARTICLE", "Most Read", "Related", "alternate addresses", "Google Play", "Copyright"):
        assert leftover not in record["text"]


def test_charset_from_meta_and_header():
    page = ('<html><head><meta charset="windows-1251"><title>Новости</title></head><body><article><h1>Заголовок</h1>'
            + "<p>Москва заявила, что переговоры продолжатся на следующей неделе в Стамбуле.</p>" * 8
            + "</article></body></html>")
    record = extract_article(page.encode("cp1251"), "http://h/a")
    assert record["title"] == "Заголовок" and "Москва заявила" in record["text"]
    shift_jis = ("<html><body><article><h1>見出し</h1>" + "<p>東京で会議が開かれ、新しい貿易協定について議論された。</p>" * 8
                 + "</article></body></html>").encode("shift_jis")
    assert "東京で会議" in extract_article(shift_jis, "http://h/b", content_type="text/html; charset=Shift_JIS")["text"]
    bom = b"\xef\xbb\xbf" + ("<html><body><article><h1>Título</h1>" + "<p>El gobierno anunció nuevas medidas económicas para el próximo año.</p>" * 8
                             + "</article></body></html>").encode("utf-8")
    assert extract_article(bom, "http://h/c")["title"] == "Título"


def test_xml_declaration_with_encoding_is_fine():
    page = ('<?xml version="1.0" encoding="utf-8"?><html><body><article><h1>Headline</h1>'
            + "<p>The committee approved the budget after a long debate in parliament.</p>" * 8 + "</article></body></html>")
    assert extract_article(page.encode(), "http://h/a")["title"] == "Headline"


@pytest.mark.parametrize("body,problem", [(b"", "empty"), (b"   \n", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary")])
def test_non_html_raises_extraction_error(body, problem):
    with pytest.raises(ExtractionError, match=problem):
        extract_article(body, "http://h/a")


def test_truncated_page_gives_no_text_not_a_crash():
    site = harbor_news(articles=3, broken=True)
    _, _, html = site.page(site.hosts[0], "/Detail/2026/3/1/1001/Truncated-report")
    assert extract_article(html, "http://h/Detail/2026/3/1/1001/Truncated-report")["text"] is None


def test_drop_phrase_blocks_removes_whole_blocks_only():
    blocks = ["First paragraph.", "Please SHARE this article now", "Last paragraph."]
    assert drop_phrase_blocks(blocks, ("share THIS article",)) == ["First paragraph.", "Last paragraph."]
    assert drop_phrase_blocks(blocks, ()) == blocks


# -- the lead (standfirst) ----------------------------------------------------------------------------
LEAD = ("Port authorities in Bandar Abbas reopened the container terminal on Tuesday after a four-day strike by "
        "dock workers over unpaid wages.")
STRIKE = [
    "The strike began on Friday when about 600 workers walked off the job, leaving more than forty ships waiting "
    "at anchor outside the harbour.",
    "Officials said the back pay would be transferred by the end of the month and that a committee would review "
    "contracts for seasonal staff.",
    "Shipping agents estimated that the stoppage had delayed the delivery of about 12,000 containers, most of them "
    "bound for inland depots.",
    "Union representatives said they would monitor the payments closely and warned that they were ready to stop "
    "work again if the deadline passed.",
]
RELATED_TEASERS = "".join(
    f'<li><div class="teaser"><a href="/Detail/2026/2/{n}/{n}/x">Earlier: dock workers threaten strike over wages, '
    f'part {n}</a><p class="teaser-lead">Workers at the southern ports said they had not been paid since December, '
    f'union officials told reporters on Monday.</p></div></li>' for n in range(3))
NEWSLETTER = ('<div class="newsletter-intro">Get the day\'s most important harbour and shipping news in your inbox '
              'every morning.<form action="/subscribe"><input type="email" name="email"><button>Sign up</button></form></div>')


def strike_page(lead_html: str) -> bytes:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Port reopens after strike - Harbor News</title><meta property="og:type" content="article"></head><body>
<header class="site-header"><nav><ul><li><a href="/">Home</a></li><li><a href="/Section/101">Economy</a></li></ul></nav></header>
<main><div class="breadcrumb"><a href="/">Home</a> / <a href="/Section/101">Economy</a></div>
<header class="article-header"><h1>Port reopens after strike</h1>{lead_html}<div class="byline">By Maryam Qarehgozlou</div></header>
<div class="article-body">{"".join(f"<p>{p}</p>" for p in STRIKE)}</div>
<div class="share-box">SHARE THIS ARTICLE <a href="https://facebook.com/sharer">Facebook</a></div>
{NEWSLETTER}<div class="related"><h3>Related</h3><ul>{RELATED_TEASERS}</ul></div></main>
<footer><p>Copyright 2026 Harbor News. All rights reserved.</p></footer></body></html>""".encode()


def test_a_lead_the_engine_leaves_out_comes_first_unless_the_profile_drops_it():
    page, url = strike_page(f'<p class="article-lead">{LEAD}</p>'), "http://www.harbornews.ir/Detail/2026/3/1/1/port"
    assert extract_article(page, url)["text"].split("\n")[:5] == [LEAD, *STRIKE]
    dropping = dataclasses.replace(PRESSTV, clean=CleanRules(drop=(".article-lead",)))
    assert extract_article(page, url, dropping)["text"].split("\n")[:4] == STRIKE


def test_embeds_and_form_controls_in_the_body_leave_its_text_whole():
    """Icons, video embeds and a poll's controls inside the body go before the engines run (no engine reads
    them); the text around them stays, in place."""
    words = STRIKE[2].split(" ")
    marred = (f'<p>{" ".join(words[:3])} <svg class="icon"><title>Chart</title><use href="#bars"></use></svg>'
              f'{" ".join(words[3:8])}<button class="tooltip">i</button> {" ".join(words[8:])}</p>'
              '<figure class="video"><iframe src="https://www.youtube.com/embed/x1"></iframe></figure>'
              '<form class="poll"><label>Should ports pay weekly? <select name="v"><option>Yes</option><option>No</option>'
              '</select></label><input type="submit" value="Vote"></form>')
    page = strike_page("").replace(f"<p>{STRIKE[2]}</p>".encode(), marred.encode())
    text = extract_article(page, "http://www.harbornews.ir/Detail/2026/3/1/1/port")["text"].split("\n")
    assert text[:4] == STRIKE
    assert not {"Chart", "Vote", "Yes"} & set(" ".join(text).split())


def test_teasers_of_other_articles_and_promo_boxes_are_not_a_lead():
    record = extract_article(strike_page(""), "http://www.harbornews.ir/Detail/2026/3/1/1/port")
    assert record["text"].split("\n")[:4] == STRIKE
    assert "Workers at the southern ports" not in record["text"] and "inbox" not in record["text"]


def test_a_blogs_name_in_an_h1_is_not_the_title():
    """Blog themes put the blog's name in an h1 linking to the front page; the post's headline is elsewhere."""
    page = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Harbour reopens after storm | Port Notes</title>
</head><body><div id="header"><h1 class="site-title"><a href="https://portnotes.example/">Port Notes</a></h1>
<p class="tagline">Shipping news from the northern harbours</p></div>
<div class="post"><h2 class="entry-title"><a href="https://portnotes.example/2012/11/harbour-reopens/">Harbour reopens after
storm</a></h2><p>Divers cleared the wreck in the main channel on Tuesday, and the harbour reopens to container traffic next
week after a closure that cost exporters millions in delayed shipments of fruit and machinery.</p></div></body></html>"""
    assert extract_article(page, "https://portnotes.example/2012/11/harbour-reopens/")["title"] == "Harbour reopens after storm"
    news = page.replace(b'<a href="https://portnotes.example/">Port Notes</a>', b"Harbour reopens after storm")
    assert extract_article(news, "")["title"] == "Harbour reopens after storm"  # an h1 that is the headline stays it
