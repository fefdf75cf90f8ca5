"""Main-text engines: a parsed page → its main-text blocks (paragraphs), one function per engine.

trafilatura is the default (best F-score on the dev set); resiliparse (the ``bench`` extra, imported only
when chosen) is about twice as fast at a lower F-score. readability-lxml did not earn a place (recall 0.52).
"""

from __future__ import annotations

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


ENGINES = {"trafilatura": trafilatura_blocks, "resiliparse": resiliparse_blocks}


def engine_from_settings(settings) -> str:
    """``NEWSMIRROR_EXTRACT_ENGINE`` (default trafilatura); UsageError naming the choices for any other."""
    engine = settings.get("NEWSMIRROR_EXTRACT_ENGINE") or "trafilatura"
    if engine not in ENGINES:
        raise UsageError(f"NEWSMIRROR_EXTRACT_ENGINE={engine!r}: choose from {', '.join(ENGINES)}")
    return engine
