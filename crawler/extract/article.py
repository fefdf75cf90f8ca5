"""HTML → article: metadata from the page's markup, main-text blocks from an engine (engine agreement by default).

``extract_article`` is pure (bytes in, dict out) so the spider, its process pool and ``newsmirror scrape``
share it. It removes markup-level boilerplate only; text-level cleaning is ``crawler.clean.layers``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import charset_normalizer
import lxml.html
from htmldate import find_date
from lxml import etree
from trafilatura.metadata import examine_meta, extract_meta_json
from w3lib.encoding import html_to_unicode

from crawler.dedup.identity import content_hash
from crawler.extract.agreement import coverage, words
from crawler.extract.byline import byline_authors
from crawler.extract.dates import agreed_date, date_from_url, stated_new_year, to_iso
from crawler.extract.engines import DEFAULT_ENGINE, ENGINES
from crawler.extract.language import detect_language
from crawler.extract.paywall import is_paywalled
from crawler.extract.repairs import close_title, without_repeats
from crawler.extract.verdict import not_an_article, page_facts
from crawler.sites.profiles import SiteProfile

ARTICLE_TYPES = {"Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting",
                 "OpinionNewsArticle", "ReviewNewsArticle", "BackgroundNewsArticle", "LiveBlogPosting"}
# cheap pre-selection (no translate() on every element), then the case-insensitive test in Python
BREADCRUMB_CANDIDATES = "//@class[contains(., 'rumb')]/.. | //@id[contains(., 'rumb')]/.. | //@aria-label[contains(., 'rumb')]/.."
# an article's lead (standfirst, teaser, summary), which engines often leave out: it sits above the body in
# an element of its own; the class test is on whole words of the class (not "leaderboard")
LEAD_WORDS = ("lead", "lede", "intro", "teaser", "summary", "excerpt", "abstract", "standfirst", "chapo", "chapeau",
              "deck", "dek", "sapo", "bajada", "entradilla", "subheadline")
LEAD_CHARS = (60, 800)
LEAD_TAGS = ("p", "div", "h2", "span")
LEAD_CLASS = re.compile(r"(?:^|[\s_-])(?:introduction|" + "|".join(LEAD_WORDS) + r")(?=$|[\s_-])", re.I)
NOT_A_LEAD = ("ancestor::li|ancestor::aside|ancestor::nav|ancestor::footer|ancestor::a|ancestor::form|.//script|.//form"
              "|.//input|.//iframe|.//button|.//figure|.//img")
CODE_NOT_TEXT = "//script[not(@type='application/ld+json')] | //style | //template"
# embedded media and form controls: no engine keeps their text (their tails stay); a lead candidate holding one is
# a widget, so they go after the lead is found
EMBEDDED = ("svg", "iframe", "input", "link", "source", "track", "param", "area", "map", "picture", "embed", "object",
            "canvas", "video", "audio", "use", "textarea", "select", "button")
BYLINE_PREFIX = re.compile(r"^\s*(by|von|par|por|di)\s+", re.I)
TITLE_SUFFIX = re.compile(r"\s+[-|–—:]\s+[^-|–—:]{2,40}$")
FRONT_PAGE = re.compile(r"^(?:https?://[^/?#]+)?/?(?:index\.\w+)?$", re.I)  # a link to the site's front page
MIN_ARTICLE_CHARS = 400
ARTICLE_BODY = "//*[@itemprop='articleBody']"
MAX_SMALL_CHARS = 400
REPEATED_LEAD = 0.95  # a lead whose words the body holds almost all of repeats it (a "read more" teaser)
MAX_PAGE_BYTES = 4 * 1024 * 1024  # larger pages are cut here before parsing: no article needs more


UNICODE_ENCODINGS = ("utf-8", "utf8", "utf-16", "utf-32")
DETECT_BYTES = 64 * 1024
# control characters and non-characters, which lxml keeps in the text and then refuses in any element it builds
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
NON_CHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")  # U+FFFE, U+FFFF in UTF-8
MARKUP = re.compile(rb"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)


# lxml.html's element classes, chosen in C: lxml.html.HTMLParser's lookup is a Python call for every element
# proxy (millions over a crawl, ~4% of extraction), only to give forms and inputs their own classes
HTML_CLASSES = etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
                                               pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity)


class ExtractionError(ValueError):
    """A page that is not HTML at all (binary, empty)."""


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(body) - 3  # only a multi-byte character cut at the end
    return True


def _detect_encoding(body: bytes) -> str | None:
    """For undeclared pages: UTF-8 when the bytes are valid UTF-8, else charset-normalizer's guess on the
    page's text (markup, mostly ASCII, would drown the few bytes that tell encodings apart)."""
    if _is_utf8(body):
        return "utf-8"
    text = MARKUP.sub(b" ", body[: DETECT_BYTES * 4])[:DETECT_BYTES]
    best = charset_normalizer.from_bytes(text).best()
    return best.encoding if best is not None else None


def decode_html(body: bytes, content_type: str | None) -> str:
    """BOM, then the HTTP header, then the page's meta, then detection; a legacy declaration (Latin-1 as a
    server default, a GB2312 meta kept on a page re-saved as UTF-8) on a page that is valid UTF-8 with
    non-ASCII bytes is taken as UTF-8: legacy-encoded text is almost never valid UTF-8 by chance."""
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_detect_encoding)
    if not encoding.startswith(UNICODE_ENCODINGS) and not body.isascii() and _is_utf8(body):
        return body.decode("utf-8", "replace")
    return text


def parse_html(body: bytes, content_type: str | None = None, max_bytes: int = MAX_PAGE_BYTES) -> lxml.html.HtmlElement:
    """Parse HTML bytes in their declared or detected encoding; raises ExtractionError for non-HTML.

    Pages over ``max_bytes`` are cut there (libxml2 closes the open elements); nesting deeper than
    libxml2's limit (256) is cut by the parser, so neither size nor depth can hang extraction.
    """
    if not body or not body.strip():
        raise ExtractionError("empty page")
    if b"\x00" in body[:4096] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionError("binary content, not HTML")
    html = close_title(decode_html(body[:max_bytes], content_type)).encode("utf-8", "surrogatepass")
    html = html.translate(None, CONTROL_BYTES)  # bytes.translate: ten times a regex's speed on a large page
    if b"\xef\xbf" in html:
        for non_character in NON_CHARACTERS:
            html = html.replace(non_character, b"")
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=False)
    parser.set_element_class_lookup(HTML_CLASSES)
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparseable HTML: {exc}") from None
    if root is None:
        raise ExtractionError("unparseable HTML")
    return root


def _clean_space(text: str | None) -> str | None:
    if text is None:
        return None
    return " ".join(unicodedata.normalize("NFC", text).split()) or None


def _meta_index(root) -> dict[str, str]:
    """The page's ``<meta>`` contents by property, name, itemprop or http-equiv (lowercased), first one wins."""
    index: dict[str, str] = {}
    for element in root.iter("meta"):
        value = _clean_space(element.get("content"))
        if not value:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = (element.get(attr) or "").strip().lower()
            if key:
                index.setdefault(key, value)
    return index


def _meta(metas: dict[str, str], *names: str) -> str | None:
    return next((metas[name.lower()] for name in names if name.lower() in metas), None)


def _json_ld(root) -> list[Any]:
    """The page's JSON-LD scripts, parsed (those that parse)."""
    parsed = []
    for script in root.xpath("//script[@type='application/ld+json']"):
        try:
            parsed.append(json.loads(script.text_content()))
        except (ValueError, TypeError):
            continue
    return parsed


def _json_ld_objects(json_ld: list[Any]) -> list[dict]:
    """The top-level objects of parsed JSON-LD scripts and their ``@graph`` members."""
    objects: list[dict] = []
    for data in json_ld:
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                objects.append(item)
                stack.extend(v for k, v in item.items() if k == "@graph")
    return objects


def _types(obj: dict) -> set[str]:
    value = obj.get("@type", [])
    return set(value) if isinstance(value, list) else {value}


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def _clean_authors(raw: list[str]) -> list[str]:
    authors: list[str] = []
    for item in raw:
        for part in re.split(r"\s*(?:;|,| and | & )\s*", item):
            name = _clean_space(BYLINE_PREFIX.sub("", part or ""))
            if name and not re.search(r"\d", name) and len(name) <= 80 and name not in authors:
                authors.append(name)
    return authors


def _breadcrumb_section(crumbs: list, ld_objects: list[dict]) -> str | None:
    for obj in ld_objects:
        if "BreadcrumbList" in _types(obj):
            items = obj.get("itemListElement") or []
            names = [n for it in items if isinstance(it, dict) for n in _names(it.get("item") or it)]
            if len(names) >= 2:
                return _clean_space(names[-1])
    for crumb in crumbs:
        parts = [_clean_space(a.text_content()) for a in crumb.xpath(".//a|.//li|.//span[not(*)]")]
        parts = [p for p in parts if p and p not in {"/", ">", "»", "›"}]
        if parts:
            return parts[-1]
    return None


def _names_the_site(heading) -> bool:
    """A heading that links to the site's front page: the site's name in its header (a blog's), not a headline."""
    return any(FRONT_PAGE.match(href.strip()) for href in heading.xpath(".//a/@href"))


def _title(root, metas: dict[str, str], ld_article: dict) -> str | None:
    h1 = next((heading for heading in root.iter("h1") if not _names_the_site(heading)), None)
    candidates = [
        _clean_space(ld_article.get("headline")) if isinstance(ld_article.get("headline"), str) else None,
        _clean_space(h1.text_content()) if h1 is not None else None,
        _meta(metas, "og:title", "twitter:title"),
    ]
    for candidate in candidates:
        if candidate:
            return candidate
    title = root.xpath("//title")
    if title:
        text = _clean_space(title[0].text_content())
        return TITLE_SUFFIX.sub("", text) if text else None
    return None


def _caption(figcaptions) -> str | None:
    for figcaption in filter(_is_small, figcaptions):
        text = _clean_space(figcaption.text_content())
        if text:
            return text
    return None


def _lead(root) -> str | None:
    """The text of the page's first lead element: a paragraph-like element with a lead class, not in a list,
    sidebar, navigation, footer, link or form, holding no media or widgets, mostly not link text."""
    for element in root.iter(*LEAD_TAGS):
        if not LEAD_CLASS.search(element.get("class") or ""):
            continue
        text = _clean_space(element.text_content())
        if not text or not LEAD_CHARS[0] <= len(text) <= LEAD_CHARS[1] or element.xpath(NOT_A_LEAD):
            continue
        linked = sum(len(_clean_space(link.text_content()) or "") for link in element.iter("a"))
        if linked <= 0.2 * len(text):
            return text
    return None


def _with_lead(blocks: list[str], lead: str | None, title: str | None) -> list[str]:
    """The lead first, when the engine left it out (most of its words are in no block: a "read more" teaser
    repeats the body) and it is not the headline."""
    if lead is None or lead == title or coverage(words(lead), words(" ".join(blocks))) >= REPEATED_LEAD:
        return blocks
    return [lead, *blocks]


def _is_breadcrumb(element) -> bool:
    return any("breadcrumb" in (element.get(attr) or "").lower() for attr in ("class", "id", "aria-label"))


def _is_small(element, max_chars: int = MAX_SMALL_CHARS) -> bool:
    """A breadcrumb or caption that is only that: a page whose wrapper has a ``has-breadcrumbs`` class, or
    that wraps its content in a ``<figcaption>``, must not lose it."""
    return len(element.text_content()) <= max_chars and not element.xpath(".//p")


def _remove(elements) -> None:
    for element in list(elements):
        parent = element.getparent()
        if parent is None:
            continue
        if element.tail and element.tail.strip():
            previous = element.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + element.tail
            else:
                parent.text = (parent.text or "") + element.tail
        parent.remove(element)


def _ld_string(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _published(root, metas: dict[str, str], ld_article: dict, url: str) -> str | None:
    """The publication date the sources agree on: JSON-LD or article meta, ``<time>``, the URL's date,
    htmldate's reading of the page; each source alone is wrong on some sites (UTC days, comment dates)."""
    markup = to_iso(_ld_string(ld_article, "datePublished")) or to_iso(_meta(
        metas, "article:published_time", "datePublished", "pubdate", "publishdate", "DC.Date.Created", "dc.date",
        "dcterms.created", "date", "og:published_time"))
    time = to_iso(next((element.get("datetime") for element in root.iter("time") if element.get("datetime") and (
        element.get("itemprop") == "datePublished" or element.get("pubdate") is not None
        or element.xpath("ancestor::article"))), None))
    from_url = date_from_url(url)
    days = [value[:10] for value in (markup, time, from_url) if value]
    # htmldate (a deep copy and a scan of the page) only when the cheap sources do not already agree
    guessed = None if len(set(days)) < len(days) else find_date(root, extensive_search=True, original_date=True,
                                                                 url=url or None)
    if guessed and not days and guessed.endswith("-01-01") and not stated_new_year(guessed, root.text_content()):
        guessed = None  # a year alone in the text ("the plan has 1995 pages"): no date beats a wrong one
    return agreed_date([from_url, guessed, markup, time], [markup, time, from_url, guessed])


def _dated_in_markup(root) -> bool:
    """Whether the page's markup gives it a date (htmldate without searching the text). Not its URL: a sign-in
    or consent page served at an article's URL has the article's URL date."""
    return find_date(root, extensive_search=False, original_date=True) is not None


def _declared_authors(root) -> str | None:
    """Authors as trafilatura finds them in meta tags, then JSON-LD ("A; B")."""
    metadata = examine_meta(root)
    if metadata.author and " " not in metadata.author:  # a lone word in a meta tag is rarely a name
        metadata.author = None
    return extract_meta_json(root, metadata).author


def _authors(found: str | None) -> list[str]:
    """The author names of "A; B", cleaned (no "By", no dates, no profile URLs)."""
    return _clean_authors(name for name in (found or "").split(";") if not name.strip().startswith(("http://", "https://")))


def _tags(metas: dict[str, str], ld_article: dict) -> list[str]:
    keywords = ld_article.get("keywords")
    source = ([_meta(metas, "news_keywords", "keywords") or ""] if not keywords
              else keywords if isinstance(keywords, list) else [keywords])
    tags = [_meta(metas, "article:tag") or ""] + [str(raw) for raw in source]
    return list(dict.fromkeys(t for raw in tags for t in (_clean_space(x) for x in raw.split(",")) if t))


def _image(metas: dict[str, str], ld_article: dict) -> str | None:
    image = _meta(metas, "og:image", "twitter:image")
    value = ld_article.get("image")
    if not image and isinstance(value, (str, dict, list)):
        value = value[0] if isinstance(value, list) and value else value
        image = value.get("url") if isinstance(value, dict) else value
    return image if isinstance(image, str) else None


def _blocks(text_blocks: list[str], title: str | None) -> list[str]:
    blocks = (_clean_space(block) for block in text_blocks)
    return [block for block in blocks if block and block != title]


def extract_article(
    body: bytes, url: str, profile: SiteProfile | None = None, content_type: str | None = None,
    engine: str = DEFAULT_ENGINE,
) -> dict[str, Any]:
    """Article fields of one page: title, text, dates, authors, tags, section, language, image, caption.

    ``text`` is the engine's main text, one block per line, with markup-level boilerplate removed
    (breadcrumb, captions, scripts, embeds and form controls, the profile's ``clean.drop`` selectors) but
    not yet cleaned of boilerplate text: ``crawler.clean.layers`` does that. Raises ExtractionError for a
    page that is not HTML. The dict also says whether the page ``is_article`` by its markup (article type
    or a substantial body), for sites without an article rule; ``no_article``, why its text is no article
    (``crawler.extract.verdict``) or None; and whether it is ``paywalled`` (``crawler.extract.paywall``).
    """
    root = parse_html(body, content_type)
    json_ld = _json_ld(root)
    paywalled = is_paywalled(root, json_ld, profile.clean.paywall if profile is not None else ())
    ld_objects = _json_ld_objects(json_ld)
    ld_article = next((obj for obj in ld_objects if _types(obj) & ARTICLE_TYPES), {})

    metas = _meta_index(root)
    crumbs = [crumb for crumb in root.xpath(BREADCRUMB_CANDIDATES) if _is_breadcrumb(crumb) and _is_small(crumb)]
    section = _ld_string(ld_article, "articleSection") or _meta(metas, "article:section") or _breadcrumb_section(crumbs, ld_objects)
    canonical = root.xpath("/html/head/link[@rel='canonical']/@href") or root.xpath("//link[@rel='canonical']/@href")
    title = _title(root, metas, ld_article)
    declared_language = root.get("lang") or _meta(metas, "og:locale", "language", "content-language", "dc.language")
    published = _published(root, metas, ld_article, url)
    modified = to_iso(_ld_string(ld_article, "dateModified")) or to_iso(
        _meta(metas, "article:modified_time", "dateModified", "og:updated_time"))
    declared_authors = _declared_authors(root)
    figcaptions = root.xpath("//figcaption")
    caption = _caption(figcaptions)

    _remove(crumbs)
    _remove(filter(_is_small, figcaptions))
    _remove(root.xpath(CODE_NOT_TEXT))  # no engine reads them, each copies them; dates (above) and JSON-LD still do
    if profile is not None:
        for selector in profile.clean.drop:
            _remove(root.cssselect(selector))
    lead = _lead(root)  # after the profile's drops: a lead the profile drops stays out
    etree.strip_elements(root, *EMBEDDED, with_tail=False)  # each engine would copy and search them
    facts = page_facts(root)
    blocks = _with_lead(without_repeats(_blocks(ENGINES[engine](root, url), title)), lead, title)
    text = "\n".join(blocks) or None
    declared = bool(ld_article) or (_meta(metas, "og:type") or "").lower() == "article" or bool(root.xpath(ARTICLE_BODY))
    is_article = declared or (len(text or "") >= MIN_ARTICLE_CHARS and bool(title))
    no_article = not_an_article(blocks, facts, lambda: declared or bool(declared_authors) or _dated_in_markup(root))
    authors = _authors(declared_authors or byline_authors(root))  # prunes the tree: last

    return {
        "canonical_url": canonical[0].strip() if canonical and canonical[0].strip() else None,
        "title": title,
        "text": text,
        "published": published,
        "modified": modified,
        "authors": authors,
        "tags": _tags(metas, ld_article),
        "section": _clean_space(section),
        "language": _clean_space(declared_language) or detect_language(text),
        "image": _image(metas, ld_article),
        "image_caption": caption,
        "content_hash": content_hash(text),
        "is_article": is_article,
        "no_article": no_article,
        "paywalled": paywalled,
        "truncated": len(body) > MAX_PAGE_BYTES,  # parse_html read only the first MAX_PAGE_BYTES
    }
