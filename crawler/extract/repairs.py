"""Page repairs before and after extraction, each for a fault seen on real news pages: an unclosed ``<title>``
(the parser reads the whole page as the title) and an article carried twice (print or AMP copies, "read
more" expansions). Pure functions."""

from __future__ import annotations

import re

TITLE_OPEN = re.compile(r"<title\b[^>]*>", re.I)
TITLE_CLOSE = re.compile(r"</title\s*>", re.I)
MARKUP_IN_TITLE = re.compile(r"</?(?:head|body|meta|link|script|style|div|p|h1|a)\b", re.I)
REPEAT_MIN_RUN = 2  # consecutive blocks repeated in order: a copy of the article, not a block said twice
REPEAT_MIN_WORDS = 8  # shorter repeated blocks ("Advertisement", "Read more") are the cleaners' business


def close_title(html: str) -> str:
    """The page with an unclosed ``<title>`` closed where its text ends (the first tag after it).

    A title's text is raw text to an HTML parser, up to ``</title>``: without one, the whole page becomes the
    title and there is no body left. A title that holds markup (``</head>``, ``<body>``, ``<meta>``...) before
    its closing tag is cut at that markup.
    """
    opening = TITLE_OPEN.search(html)
    if opening is None:
        return html
    closing = TITLE_CLOSE.search(html, opening.end())
    markup = MARKUP_IN_TITLE.search(html, opening.end(), closing.start() if closing else len(html))
    if markup is None:
        return html
    return f"{html[:markup.start()]}</title>{html[markup.start():]}"


def without_repeats(blocks: list[str], min_run: int = REPEAT_MIN_RUN, min_words: int = REPEAT_MIN_WORDS) -> list[str]:
    """The blocks without a second copy of the article or part of it: a run of at least ``min_run``
    consecutive blocks (of ``min_words`` words or more) that repeats an earlier run in the same order. A
    single block said twice (a caption under two photos, a refrain, a line of code) stays."""
    keys = [" ".join(block.casefold().split()) for block in blocks]
    first: dict[str, int] = {}
    kept: list[str] = []
    at = 0
    while at < len(blocks):
        earlier = first.get(keys[at])
        run = 0
        if earlier is not None:
            while (at + run < len(blocks) and earlier + run < at and keys[earlier + run] == keys[at + run]
                   and len(keys[at + run].split()) >= min_words):
                run += 1
        if run >= min_run:
            at += run  # the copy
            continue
        first.setdefault(keys[at], at)
        kept.append(blocks[at])
        at += 1
    return kept
