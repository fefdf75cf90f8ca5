"""Whether a page's extracted text is an article: a verdict on its text blocks, with the few facts of its markup
that tell a listing, a dialog or a stub from a short article (``page_facts``). Pure: a tree or blocks in, facts
or a reason out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import lxml.html

from crawler.extract.words import collapsed, word_count

MIN_RUNNING_WORDS = 40  # fewer words outside links, on a page that does not say it is an article: a form, an error, a stub
LINK_SHARE = 0.8  # link text making up this share of the words: an index, a list of headlines
TEASER_SHARE = 0.5  # teasers of other pages (the text after a headline link) making up this share: a section front
MIN_TEASERS = 5  # a section front shows at least this many teasers; an article may quote a few linked headlines
DIALOG_SHARE = 0.5  # words inside a dialog (role="dialog", aria-modal, <dialog>): a consent or sign-in wall
NO_ARTICLE_TEXT = "no article text found"
HEADLINE_WORDS = 4  # a link with this many words names another page's headline
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
DIALOGS = "//dialog | //*[@role='dialog' or @role='alertdialog' or @aria-modal='true']"
LIST_MARKS = "-|• "  # how engines write a list item or a table row around a link's text


@dataclass(frozen=True)
class PageFacts:
    """What the verdict reads of a page's markup."""

    link_texts: frozenset[str]  # the texts of its links, whitespace collapsed
    teaser_texts: frozenset[str]  # the text right after a headline link: a teaser's summary
    dialog_texts: tuple[str, ...]  # the texts of its dialogs


def teaser_after(link: lxml.html.HtmlElement) -> str | None:
    """The text of the element after a headline link (or after the heading holding it): a teaser's summary."""
    parent = link.getparent()
    holder = parent if link.getnext() is None and parent is not None and parent.tag in HEADINGS else link
    following = holder.getnext()
    return (collapsed(following.text_content()) or None) if following is not None else None


def page_facts(root: lxml.html.HtmlElement) -> PageFacts:
    """The facts ``not_an_article`` reads: the page's link texts, teaser summaries and dialog texts."""
    links = [(link, collapsed(link.text_content())) for link in root.iter("a")]
    teasers = (teaser_after(link) for link, text in links if word_count(text) >= HEADLINE_WORDS)
    return PageFacts(link_texts=frozenset(text for _, text in links if text),
                     teaser_texts=frozenset(filter(None, teasers)),
                     dialog_texts=tuple(collapsed(dialog.text_content()) for dialog in root.xpath(DIALOGS)))


def not_an_article(blocks: list[str], facts: PageFacts, says_article: Callable[[], bool]) -> str | None:
    """Why ``blocks`` are not an article's text, or None when they are one. Not an article: no words; mostly
    link text (an index, a list of headlines); mostly teasers of other pages (a section front: five or more);
    mostly a dialog's text (a consent or sign-in wall); or fewer than ``MIN_RUNNING_WORDS`` words outside links
    on a page that does not say it is an article (a login form, an error page, a stub). ``says_article()``
    (article markup, a declared author, a date in its markup) is asked only then: it may scan the page."""
    counted = [(collapsed(block), word_count(block)) for block in blocks]
    total = sum(words for _, words in counted)
    if not total:
        return "no text"
    link_words = sum(words for text, words in counted if text.strip(LIST_MARKS) in facts.link_texts)
    if link_words >= LINK_SHARE * total:
        return f"mostly link text ({link_words} of {total} words)"
    teasers = [words for text, words in counted if text in facts.teaser_texts]
    if len(teasers) >= MIN_TEASERS and sum(teasers) >= TEASER_SHARE * total:
        return f"teasers of {len(teasers)} other pages"
    dialog_words = sum(words for text, words in counted if any(text in dialog for dialog in facts.dialog_texts))
    if dialog_words >= DIALOG_SHARE * total:
        return "the text of a dialog"
    if total - link_words < MIN_RUNNING_WORDS and not says_article():
        return f"too little running text: {total - link_words} of {MIN_RUNNING_WORDS} words"
    return None


def missing_article(extracted: dict) -> str | None:
    """Why a page's extracted fields, once cleaned, give no article: "no article text found (why)", or None."""
    why = extracted["no_article"] or (None if extracted["text"] else "none left after cleaning")
    return f"{NO_ARTICLE_TEXT} ({why})" if why else None
