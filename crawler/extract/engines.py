"""Main-text engines: a parsed page → its main-text blocks (paragraphs), one function per engine.

trafilatura is the default (best F-score on extraction-dev; docs/performance.md has both dev sets);
resiliparse (the ``bench`` extra, imported only when chosen) is about twice as fast at a lower F-score.
``agreement`` keeps trafilatura's blocks that an independent engine (trafilatura's readability port,
resiliparse) also keeps (``crawler.extract.agreement``): it wins on one dev set and loses on the other, so
it is not the default (docs/design.md, "Engine agreement").
"""

from __future__ import annotations

import copy
import logging

import lxml.html
from scrapy.exceptions import UsageError
from trafilatura import bare_extraction

# trafilatura warns for every page it finds no text in; the spider logs those itself, naming the host.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def trafilatura_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    document = bare_extraction(root, url=url or None, with_metadata=False, include_comments=False,
                               include_tables=True, include_images=False)
    text = getattr(document, "text", None) if document is not None else None
    return text.split("\n") if text else []


def resiliparse_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    from resiliparse.extract.html2text import extract_plain_text

    html = lxml.html.tostring(root, encoding="unicode")
    return extract_plain_text(html, main_content=True, alt_texts=False, comments=False).split("\n")


BLOCK_TAGS = ("p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote",
              "pre", "table", "tr", "td", "th", "dd", "dt", "figcaption", "caption", "br")


def element_blocks(element: lxml.html.HtmlElement) -> list[str]:
    """The text of an HTML element, one block per block-level element."""
    parts: list[str] = []

    def walk(node) -> None:
        block = node.tag in BLOCK_TAGS
        if isinstance(node.tag, str):  # not a comment or processing instruction
            parts.append("\n" if block else "")
            parts.append(node.text or "")
            for child in node:
                walk(child)
            parts.append("\n" if block else "")
        parts.append(node.tail or "")

    walk(element)
    return [" ".join(line.split()) for line in "".join(parts).split("\n") if line.strip()]


def readability_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    """trafilatura's port of readability-lxml (the one trafilatura itself falls back on), on a copy."""
    from trafilatura.external import try_readability

    return element_blocks(try_readability(copy.deepcopy(root)))


def agreement_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    """trafilatura's blocks that the engines agree on (``agreed_blocks``); the others see the page first,
    as trafilatura changes the tree it reads."""
    from crawler.extract.agreement import agreed_blocks

    others = {"readability": readability_blocks(root, url), "resiliparse": resiliparse_blocks(root, url)}
    return agreed_blocks({"trafilatura": trafilatura_blocks(root, url), **others}, "trafilatura")


ENGINES = {"trafilatura": trafilatura_blocks, "resiliparse": resiliparse_blocks, "agreement": agreement_blocks}


def engine_from_settings(settings) -> str:
    """``NEWSMIRROR_EXTRACT_ENGINE`` (default trafilatura); UsageError naming the choices for any other."""
    engine = settings.get("NEWSMIRROR_EXTRACT_ENGINE") or "trafilatura"
    if engine not in ENGINES:
        raise UsageError(f"NEWSMIRROR_EXTRACT_ENGINE={engine!r}: choose from {', '.join(ENGINES)}")
    return engine
