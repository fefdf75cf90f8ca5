"""Main-text engines: a parsed page → its main-text blocks (paragraphs), one function per engine.

``agreement`` (the default) is trafilatura checked by votes (``crawler.extract.agreement``): a block that
trafilatura's fallbacks (justext, its readability port) bring in stays only when resiliparse or
trafilatura's own extractor keeps it too. It is the only choice that beats every single engine on both dev
sets (docs/design.md, "Engine agreement"). ``trafilatura`` and ``resiliparse`` alone stay selectable.
"""

from __future__ import annotations

import logging

import lxml.html
from lxml import etree
from resiliparse.extract.html2text import extract_plain_text
from scrapy.exceptions import UsageError
from trafilatura import bare_extraction

from crawler.extract.agreement import agreed_blocks, confirmed, vote

# trafilatura warns for every page it finds no text in; the spider logs those itself, naming the host.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def trafilatura_blocks(root: lxml.html.HtmlElement, url: str, fast: bool = False) -> list[str]:
    """trafilatura's main text (it reads a copy of the tree); ``fast``: its own extractor alone, without the
    fallbacks (readability port, justext) it switches to when its own result looks poor."""
    document = bare_extraction(root, url=url or None, fast=fast, with_metadata=False, include_comments=False,
                               include_tables=True, include_images=False)
    text = getattr(document, "text", None) if document is not None else None
    return text.split("\n") if text else []


def resiliparse_blocks(root: lxml.html.HtmlElement, url: str) -> list[str]:
    html = etree.tostring(root, encoding="unicode", method="html")  # lxml.html.tostring: the same, slower
    return extract_plain_text(html, main_content=True, alt_texts=False, comments=False).split("\n")


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


ENGINES = {"trafilatura": trafilatura_blocks, "resiliparse": resiliparse_blocks, "agreement": agreement_blocks}


DEFAULT_ENGINE = "agreement"


def engine_from_settings(settings) -> str:
    """``NEWSMIRROR_EXTRACT_ENGINE`` (default agreement); UsageError naming the choices for any other."""
    engine = settings.get("NEWSMIRROR_EXTRACT_ENGINE") or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise UsageError(f"NEWSMIRROR_EXTRACT_ENGINE={engine!r}: choose from {', '.join(ENGINES)}")
    return engine
