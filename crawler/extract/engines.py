"""Main-text engines: a parsed page → its main-text blocks (paragraphs), one function per engine.

``agreement+readability`` (the default) is ``agreement`` with the boilerplate that trails the article in
readability-lxml's view trimmed (``crawler.extract.agreement.trimmed_tail``). ``agreement`` is trafilatura
checked by votes (``crawler.extract.agreement``): a block that trafilatura's fallbacks (justext, its
readability port) bring in stays only when resiliparse or trafilatura's own extractor keeps it too; it is
the faster mode for bulk re-extraction. ``trafilatura``, ``resiliparse`` and ``readability`` alone stay
selectable. docs/design.md, "Engine agreement", says how each was chosen.
"""

from __future__ import annotations

import copy
import logging
import re

import lxml.html
from lxml import etree
from readability import Document
from readability.readability import REGEXES, Unparseable
from resiliparse.extract.html2text import extract_plain_text
from scrapy.exceptions import UsageError
from trafilatura import bare_extraction

from crawler.extract.agreement import agreed_blocks, confirmed, trimmed_tail, vote
from crawler.extract.trafilatura_walks import trafilatura_walks
from crawler.extract.words import collapsed

# trafilatura warns for every page it finds no text in; the spider logs those itself, naming the host.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
# readability-lxml logs a traceback for a page it cannot read; readability_blocks answers [] for it.
logging.getLogger("readability.readability").setLevel(logging.CRITICAL)

BLOCK_TAGS = frozenset(("p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "h1", "h2", "h3",
                        "h4", "h5", "h6", "li", "ul", "ol", "dl", "dd", "dt", "blockquote", "pre", "table", "tr", "td",
                        "th", "figure", "figcaption", "caption", "br", "hr"))

# readability-lxml's divToPElementsRe ("<(blockquote|dl|div|img|ol|p|pre|table|ul)") and its inline tags
BLOCK_TAG_STARTS = ("blockquote", "dl", "div", "img", "ol", "p", "pre", "table", "ul")
INLINE_TAGS = frozenset(("a", "b", "cite", "code", "em", "font", "i", "small", "span", "strong", "sub", "sup", "u"))


def element_blocks(element: lxml.html.HtmlElement) -> list[str]:
    """The text of an element, one block per block-level element, whitespace collapsed."""
    parts: list[str] = []

    def walk(node) -> None:
        if isinstance(node.tag, str):  # not a comment or processing instruction
            block = node.tag in BLOCK_TAGS
            parts.append("\n" if block else "")
            parts.append(node.text or "")
            for child in node:
                walk(child)
            parts.append("\n" if block else "")
        parts.append(node.tail or "")

    walk(element)
    return [collapsed(line) for line in "".join(parts).split("\n") if line.strip()]


def trafilatura_blocks(root: lxml.html.HtmlElement, url: str, fast: bool = False) -> list[str]:
    """trafilatura's main text (it reads a copy of the tree); ``fast``: its own extractor alone, without the
    fallbacks (readability port, justext) it switches to when its own result looks poor."""
    with trafilatura_walks():
        document = bare_extraction(root, url=url or None, fast=fast, with_metadata=False, include_comments=False,
                                   include_tables=True, include_images=False)
    text = getattr(document, "text", None) if document is not None else None
    return text.split("\n") if text else []


def resiliparse_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    html = etree.tostring(root, encoding="unicode", method="html")  # lxml.html.tostring: the same, slower
    return extract_plain_text(html, main_content=True, alt_texts=False, comments=False).split("\n")


class AsciiFolded:
    """A case-insensitive pattern written in lower case, searched case-sensitively in lowercased ASCII text
    (a tenth of the time of ``re.IGNORECASE`` on a class name; the same matches: in ASCII text, case-insensitive
    equality is equality of lower case) and as itself in any other text."""

    def __init__(self, pattern: re.Pattern) -> None:
        if pattern.pattern != pattern.pattern.lower() or "\\" in pattern.pattern:
            raise ValueError(f"{pattern.pattern!r}: not a lower-case pattern without escapes")
        self.pattern, self.lowered = pattern, re.compile(pattern.pattern)

    def search(self, text: str) -> re.Match | None:
        return self.lowered.search(text.lower()) if text.isascii() else self.pattern.search(text)


UNLIKELY, MAYBE_A_CANDIDATE, POSITIVE, NEGATIVE = (AsciiFolded(REGEXES[name]) for name in (
    "unlikelyCandidatesRe", "okMaybeItsACandidateRe", "positiveRe", "negativeRe"))


class ParsedDocument(Document):
    """readability-lxml's Document on a tree newsmirror has parsed and stripped of scripts, styles and embeds,
    at a quarter of its time: a copy of the tree for each of its passes instead of a serialisation parsed again,
    cleaned of scripts and given absolute links; link density from whitespace-collapsed lengths instead of
    three regular-expression passes over each element's text; the unlikely candidates sought among elements
    with a class or id only, without a debug description of each; a div's block-level content found by its
    descendants' tags instead of a serialisation searched. The article text stays readability-lxml's (the
    same on 200 of 200 dev pages for the tree, on 2,453 of 2,454 for the link density, on all 2,454 for the
    last two). These are readability-lxml's own steps (pinned in pyproject.toml); tests/test_agreement.py
    checks the text."""

    def _parse(self, input: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
        tree = copy.deepcopy(input)
        for element in tree.xpath("//*[@hidden]"):  # what readability-lxml's own _parse drops
            element.drop_tree()
        for element in tree.xpath("//*[@style]"):
            if REGEXES["displayNoneRe"].search(element.get("style")):
                element.drop_tree()
        return tree

    def remove_unlikely_candidates(self) -> None:
        for elem in self.html.xpath(".//*[@class or @id]"):
            names = f"{elem.get('class', '')} {elem.get('id', '')}"
            if (UNLIKELY.search(names) and not MAYBE_A_CANDIDATE.search(names) and elem.tag not in ("html", "body", "pre", "code")
                    and next(elem.iterancestors("pre", "code"), None) is None  # nor inside one,
                    and next(elem.iter("main", "article", "math"), None) is None):  # nor holding the article
                elem.drop_tree()

    def transform_misused_divs_into_paragraphs(self) -> None:
        """readability-lxml's, with ``holds_blocks`` for its search of the children's serialisation."""
        for elem in list(self.html.iter("div")):
            if not any(holds_blocks(child) for child in elem):
                elem.tag = "p"
        for elem in list(self.html.iter("div")):
            children = list(elem)
            paragraph = None
            if elem.text and elem.text.strip():
                paragraph = lxml.html.Element("p")
                paragraph.text = elem.text
                elem.text = None
                elem.insert(0, paragraph)
            for child in children:
                if child.tag == "br":
                    paragraph = None
                    continue
                if child.tag not in INLINE_TAGS or holds_blocks(child):
                    paragraph = None
                    continue
                if paragraph is None:
                    paragraph = lxml.html.Element("p")
                    child.addprevious(paragraph)
                paragraph.append(child)
            for pos, child in reversed(list(enumerate(elem))):
                if child.tail and child.tail.strip():
                    tail = lxml.html.Element("p")
                    tail.text = child.tail
                    child.tail = None
                    elem.insert(pos + 1, tail)
                if child.tag == "br":
                    child.drop_tree()

    def class_weight(self, e: lxml.html.HtmlElement) -> int:
        """readability-lxml's, with its patterns ``AsciiFolded``."""
        weight = 0
        for feature in (e.get("class"), e.get("id")):
            if feature:
                weight += 25 * (bool(POSITIVE.search(feature)) - bool(NEGATIVE.search(feature)))
                if self.positive_keywords and self.positive_keywords.search(feature):
                    weight += 25
                if self.negative_keywords and self.negative_keywords.search(feature):
                    weight -= 25
        if self.positive_keywords and self.positive_keywords.match("tag-" + e.tag):
            weight += 25
        if self.negative_keywords and self.negative_keywords.match("tag-" + e.tag):
            weight -= 25
        return weight

    def get_link_density(self, elem: lxml.html.HtmlElement) -> float:
        """The share of the element's text inside links (readability-lxml's figure, whitespace collapsed)."""
        linked = sum(len(collapsed(link.text_content())) for link in elem.iter("a") if link is not elem)
        return linked / max(len(collapsed(elem.text_content())), 1)


def holds_blocks(element: lxml.html.HtmlElement) -> bool:
    """Whether the element or a descendant is one that readability-lxml's ``divToPElementsRe`` finds in its
    serialisation: a tag starting with blockquote, dl, div, img, ol, p, pre, table or ul."""
    return any(isinstance(node.tag, str) and node.tag.lower().startswith(BLOCK_TAG_STARTS) for node in element.iter())


def readability_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    """readability-lxml's article (its summary), one block per block-level element; [] when it finds none."""
    try:
        summary = ParsedDocument(root).summary(html_partial=True)
    except Unparseable:
        return []
    return element_blocks(lxml.html.fromstring(summary)) if summary.strip() else []


def agreement_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    """trafilatura's blocks that a second engine keeps too, with what resiliparse alone adds inside the body
    (``agreed_blocks``).

    trafilatura's own extractor (no fallbacks) and resiliparse run first. When resiliparse confirms the
    extractor (``confirmed``: four pages in five) the extractor's blocks stand. Otherwise the extractor may have
    missed the body or kept boilerplate, and trafilatura runs in full, fallbacks included; its blocks are
    voted on by both: a block that only a fallback (justext, its readability port) brought in stays when
    resiliparse keeps it too."""
    own, other = trafilatura_blocks(root, url, fast=True), resiliparse_blocks(root, url)
    outputs = {"trafilatura": own, "resiliparse": other}
    voted = vote(outputs)
    if confirmed(voted, "trafilatura", "resiliparse"):
        return agreed_blocks(outputs, "trafilatura", agreed=1, voted=voted)
    return agreed_blocks({"trafilatura": trafilatura_blocks(root, url), "resiliparse": other, "trafilatura-own": own},
                         "trafilatura")


def agreement_readability_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    """``agreement_blocks`` without the boilerplate trailing the article where readability-lxml ends it
    (``trimmed_tail``): related links, filing and comment lines, tables of more stories, promo paragraphs."""
    blocks = agreement_blocks(root, url)
    return trimmed_tail(blocks, readability_blocks(root, url)) if blocks else blocks


ENGINES = {"trafilatura": trafilatura_blocks, "resiliparse": resiliparse_blocks, "readability": readability_blocks,
           "agreement": agreement_blocks, "agreement+readability": agreement_readability_blocks}


DEFAULT_ENGINE = "agreement+readability"


def engine_from_settings(settings) -> str:
    """``NEWSMIRROR_EXTRACT_ENGINE`` (default agreement+readability); UsageError naming the choices for any other."""
    engine = settings.get("NEWSMIRROR_EXTRACT_ENGINE") or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise UsageError(f"NEWSMIRROR_EXTRACT_ENGINE={engine!r}: choose from {', '.join(ENGINES)}")
    return engine
