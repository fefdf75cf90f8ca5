"""Main-text engines: a parsed page → its main-text blocks (paragraphs), one function per engine.

trafilatura is the default; resiliparse and readability-lxml are optional (the ``bench`` extra) and
imported only when chosen, so ``bench/extraction.py`` can compare them under the same cleaning layers.
"""

from __future__ import annotations

import copy
import logging

import lxml.html

# trafilatura warns for every page it finds no text in; the spider logs those itself, naming the host.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("readability").setLevel(logging.ERROR)

BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dd", "dt")


def trafilatura_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    from trafilatura import bare_extraction

    document = bare_extraction(root, url=url or None, with_metadata=False, include_comments=False,
                               include_tables=True, include_images=False)
    text = getattr(document, "text", None) if document is not None else None
    return text.split("\n") if text else []


def resiliparse_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    from resiliparse.extract.html2text import extract_plain_text

    html = lxml.html.tostring(root, encoding="unicode")
    return extract_plain_text(html, main_content=True, alt_texts=False, comments=False).split("\n")


def readability_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    from readability import Document

    # readability mutates the tree it is given, and the caller still needs the page after this.
    summary = Document(copy.deepcopy(root), url=url or None).summary(html_partial=True)
    if not summary.strip():
        return []
    tree = lxml.html.fromstring(summary.encode("utf-8"))
    blocks = [element.text_content() for element in tree.iter(*BLOCK_TAGS)
              if not any(child.tag in BLOCK_TAGS for child in element.iterdescendants())]
    return blocks or [tree.text_content()]


ENGINES = {"trafilatura": trafilatura_blocks, "resiliparse": resiliparse_blocks, "readability": readability_blocks}
