"""Authors from a page's byline element: trafilatura's byline search, at a fraction of its cost.

trafilatura's ``extract_author`` deep-copies the page, prunes comments, sidebars, dates and figures from all of
it, then runs three XPaths with regex tests over every element (about 7 ms a news page). The same conditions
hold only for elements whose class, id, rel, itemprop or test attributes contain one of a few words, so one
pass finds those, and the pruning is looked at around them alone. The answer is the same (tested against it).
"""

from __future__ import annotations

import re

from lxml import etree
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.json_metadata import normalize_authors
from trafilatura.utils import trim

MAX_BYLINE_CHARS = 120
BYLINE_ATTRIBUTES = ("class", "id", "itemprop", "rel", "data-testid", "data-component")
# every class, id, itemprop... value the conditions below accept contains one of these
BYLINE_WORDS = re.compile("uthor|[Bb]yl|BBL|username|screenname|channel-name|journalist-name|zuozhe|bianji|xiaobian"
                          "|writer|submitted-by|posted-by")


def _contains_any(attribute: str, literals: tuple[str, ...]) -> str:
    return " or ".join(f"contains(@{attribute}, '{literal}')" for literal in literals)


def _tag_is(*tags: str) -> str:
    return " or ".join(f"self::{tag}" for tag in tags)


# trafilatura's AUTHOR_XPATHS as tests of one element, in its order: the first test a usable element passes
# wins. Its regex alternations of literals are written as contains(); its ``rel='me'`` (a test for a child
# element named "rel", which HTML does not have) is left out.
BYLINE_TESTS = [etree.XPath(f"boolean({condition})") for condition in (
    # specific and almost specific
    f"self::author or ({_tag_is('a', 'address', 'div', 'link', 'p', 'span', 'strong')})"
    " and (@rel='author' or @id='author' or @class='author' or @itemprop='author name'"
    " or @data-testid='AuthorCard' or @data-testid='AuthorURL'"
    f" or {_contains_any('class', ('author-name', 'authorname', 'AuthorName', 'authorName'))})",
    # almost generic and generic
    f"({_tag_is('a', 'div', 'h3', 'h4', 'p', 'span')})"
    " and (@class='byline' or @class='username' or @class='byl' or @class='BBL' or contains(@itemprop, 'author')"
    f" or {_contains_any('id', ('author', 'zuozhe', 'bianji', 'xiaobian'))}"
    f" or {_contains_any('class', ('author', 'channel-name', 'zuozhe', 'bianji', 'xiaobian', 'submitted-by', 'posted-by', 'journalist-name'))})",
    # last resort: any element
    "contains(@data-component, 'Byline') or contains(@itemprop, 'author')"
    f" or {_contains_any('id', ('author', 'Author'))}"
    f" or {_contains_any('class', ('author', 'Author', 'screenname', 'writer', 'byline', 'Byline'))}",
)]
# trafilatura's AUTHOR_DISCARD_XPATHS: comments, sidebars, quotes, dates and figures, whose names are not bylines
DISCARDED = (
    f"self::time or self::figure or ({_tag_is('a', 'div', 'section', 'span')})"
    " and (@id='comments' or @class='comments' or @class='title' or @class='date' or starts-with(@id, 'comments')"
    f" or {_contains_any('id', ('commentlist', 'comment-list', 'ProductReviews'))}"
    " or starts-with(@class, 'comments') or starts-with(@class, 'Comments')"
    f" or {_contains_any('class', ('commentlist', 'comments-list', 'sidebar', 'is-hidden', 'quote', 'embedly-instagram', 'article-share', 'article-support', 'print', 'category', 'meta-date', 'meta-reviewer'))}"
    " or contains(@data-component, 'Figure'))")
IN_DISCARDED = etree.XPath(f"boolean(ancestor-or-self::*[{DISCARDED}][parent::*])")  # the root itself stays
DISCARDED_WITHIN = [etree.XPath(f".//*[{DISCARDED}]")]


def _candidates(root) -> list:
    """Elements, in document order, that may pass a byline test."""
    return [element for element in root.iter(etree.Element) if element.tag == "author" or any(
        BYLINE_WORDS.search(value) for value in map(element.get, BYLINE_ATTRIBUTES) if value)]


def byline_authors(root) -> str | None:
    """Authors ("A; B") from the first usable byline element, as trafilatura's ``extract_author`` finds them.

    Prunes discarded elements inside the candidates it reads, in place: call it when nothing else needs the tree.
    """
    candidates = [element for element in _candidates(root) if not IN_DISCARDED(element)]  # before any pruning
    for test in BYLINE_TESTS:
        for element in candidates:
            if not test(element):
                continue
            content = trim(" ".join(prune_unwanted_nodes(element, DISCARDED_WITHIN).itertext()))
            if content and 2 < len(content) < MAX_BYLINE_CHARS:
                return normalize_authors(None, content)
    return None
