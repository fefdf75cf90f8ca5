"""trafilatura's measure of a whole page's text (``html2txt``: the page without asides, footers, scripts and cookie
banners, block boundaries spaced), the same string from one walk of the tree instead of a copy of it, an XPath that
calls Python regular expressions for every element, and a second pass. trafilatura computes it after every short
extraction, to decide whether to retry in recall mode; newsmirror lends it this walk while it extracts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

from lxml.html import HtmlElement
from trafilatura.utils import remove_control_characters

trafilatura_core, trafilatura_baseline, trafilatura_settings = (  # the package's names hide its modules
    import_module(f"trafilatura.{name}") for name in ("core", "baseline", "settings"))

COOKIE_CONSENT = ("cookie[-_]?(?:banner|bar|consent|law|notice|policy|description)|notice[-_]{0,2}cookie"
                  "|consent[-_]?(?:banner|manager|sdk)|borlabs|cookiebot|cmplz|onetrust|moove[-_]?gdpr")
# the elements html2txt drops (trafilatura's BASIC_CLEAN_XPATH: the walk is used only when they are the same) ...
BASIC_CLEAN = (".//aside|.//div[contains(@class|@id, 'footer')]|.//fencedframe|.//footer|.//script|.//style|.//svg"
               f"|.//template|.//*[re:test(@class, '{COOKIE_CONSENT}', 'i') or re:test(@id, '{COOKIE_CONSENT}', 'i')]")
# ... and the elements whose text and tail it spaces (its _BLOCK_ELEMS)
SPACED_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
    "table", "td", "th", "tr", "ul"))
COOKIE_BANNER = re.compile(COOKIE_CONSENT, re.IGNORECASE)  # EXSLT's re:test with 'i' is Python's re, ignoring case
DROPPED_TAGS = frozenset(("aside", "fencedframe", "footer", "script", "style", "svg", "template"))

STOCK_HTML2TXT = getattr(trafilatura_core, "html2txt", None)
# the walk follows this trafilatura's rules; with another version's, trafilatura keeps its own measure
SAME_RULES = (STOCK_HTML2TXT is trafilatura_baseline.html2txt
              and getattr(getattr(trafilatura_settings, "BASIC_CLEAN_XPATH", None), "path", None) == BASIC_CLEAN
              and set(getattr(trafilatura_baseline, "_BLOCK_ELEMS", ())) == SPACED_TAGS)


def dropped(node, tag) -> bool:
    """Whether html2txt's cleaning drops this node (with what it holds, not its tail)."""
    if tag in DROPPED_TAGS:
        return True
    cls, ident = node.get("class"), node.get("id")
    if cls is None and ident is None:
        return False
    if tag == "div" and "footer" in (cls or "") + (ident or ""):  # XPath's contains(@class|@id, 'footer') reads
        first = next(value for name, value in node.items() if name in ("class", "id"))  # the first of the two
        if "footer" in first:
            return True
    return COOKIE_BANNER.search(f"{cls or ''}\n{ident or ''}") is not None


def spaced(text: str) -> str:
    return f" {remove_control_characters(text)}" if text else " "


def page_text(content, clean: bool = True) -> str:
    """``trafilatura.baseline.html2txt(content, clean)``, the same string; in one walk for a parsed page."""
    if not clean or not isinstance(content, HtmlElement):
        return STOCK_HTML2TXT(content, clean)
    body = content.find(".//body")
    parts: list[str] = []
    walk(content if body is None else body, parts)
    return " ".join("".join(parts).split())


def walk(element, parts: list[str]) -> None:
    """The text of a kept element and its kept descendants, not its tail. A dropped node's tail stays where the
    node was: html2txt joins it to the previous sibling's tail, or to the parent's text, before spacing them."""
    text, spaced_text = element.text or "", element.tag in SPACED_TAGS
    for child in element:  # text: what is not written yet (and whether html2txt spaces it)
        tag = child.tag
        if not isinstance(tag, str):  # a comment or processing instruction: its tail only
            tag = None
        elif dropped(child, tag):
            text += child.tail or ""
            continue
        parts.append(spaced(text) if spaced_text else text)
        if tag is not None:
            walk(child, parts)
        text, spaced_text = child.tail or "", tag in SPACED_TAGS
    parts.append(spaced(text) if spaced_text else text)


@contextmanager
def page_measured_in_one_walk() -> Iterator[None]:
    """trafilatura measures pages with ``page_text`` inside the block (when its rules are the walk's). Two threads
    at once can only leave each other the stock measure for a moment: both give the same string."""
    if SAME_RULES:
        trafilatura_core.html2txt = page_text
    try:
        yield
    finally:
        if SAME_RULES:
            trafilatura_core.html2txt = STOCK_HTML2TXT
