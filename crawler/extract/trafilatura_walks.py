"""Two of trafilatura's scans of a page tree done by one Python walk each, with the same results, lent to trafilatura
while newsmirror extracts: its measure of the whole page's text (``html2txt``, taken after every short extraction to
decide on a retry in recall mode) and its choice of boilerplate to discard (``OVERALL_DISCARD_XPATH``). Both are
XPaths that call Python regular expressions for every element; the walks call them only on classes and ids."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

from lxml.html import HtmlElement
from trafilatura.utils import remove_control_characters

trafilatura_core, trafilatura_baseline, trafilatura_settings, trafilatura_xpaths, trafilatura_main, trafilatura_external = (
    import_module(f"trafilatura.{name}")  # the package's names hide some of its modules
    for name in ("core", "baseline", "settings", "xpaths", "main_extractor", "external"))

# -- html2txt -------------------------------------------------------------------------------------------------
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

# -- OVERALL_DISCARD_XPATH: elements of the converted tree (item, list...) it discards, in two expressions ----------
BOILERPLATE_IDS = ("^shar|social|viral|newsletter|syndication|tags|sidebar|banner|bread-?crumb|button|author"
                   "|^(?:jp-|dpsp-content)|bmdh|footer|Footer|share|Share|nav|Nav|menu|related|message-container|premium|^ad-")
BOILERPLATE_CLASSES = (
    "^shar|social|viral|newsletter|syndication|tags|sidebar|banner|bread-?crumb|button|author|^(?:nav|post-nav|ZendeskForm)"
    "|subnav|avigation|navbar|navbox|menu|bar| ad |-ad-|(?:^| )ad-|dfp[Aa]d|outbrain|taboola|criteo|paid-?content|widget"
    "|footer|Footer|byline|Byline|share-|sociable|embedded|embed|tag-list|consent|modal-content|permission|elated|next-"
    "|-stories|most-popular|more-on|meta|rating|attachment|timestamp|user-info|user-profile|-icon|article-infos"
    "|message-container|slide|viewport|overlay|options|expand|obfuscated|blurred|mol-factbox|yin|zlylin|nfoline")
HIDDEN_IDS = "reader-comments|akismet"
HIDDEN_CLASSES = ("^hide-|comments-title|nocomments|-reply-|message|akismet|suggest-links|-hide-|hide-print| hidden| hide"
                  "|noprint|notloaded")
OVERALL_DISCARD = (
    ".//*[self::div or self::item or self::list or self::p or self::section or self::span][ @data-lp-replacement-content"
    " or contains(translate(@role, 'N', 'n'), 'nav') or contains(@data-component, 'MostPopularStories') or"
    f" re:test(@id|@class, 'cookie') or re:test(@id, '{BOILERPLATE_IDS}') or re:test(@class, '{BOILERPLATE_CLASSES}')]",
    ".//*[@class='comments-title' or starts-with(@id|@class, 'reply-') or re:test(@id|@style, 'hidden') or"
    f" contains(@style, 'display:none') or contains(@style, 'display: none') or re:test(@id, '{HIDDEN_IDS}') or"
    f" re:test(@class, '{HIDDEN_CLASSES}') or @aria-hidden='true']")
BOILERPLATE_TAGS = frozenset(("div", "item", "list", "p", "section", "span"))
BOILERPLATE_ID, BOILERPLATE_CLASS = re.compile(BOILERPLATE_IDS), re.compile(BOILERPLATE_CLASSES)
HIDDEN_ID, HIDDEN_CLASS = re.compile(HIDDEN_IDS), re.compile(HIDDEN_CLASSES)

STOCK_HTML2TXT = getattr(trafilatura_core, "html2txt", None)
STOCK_PRUNE = getattr(trafilatura_main, "prune_unwanted_nodes", None)
# the walks follow this trafilatura's rules; with another version's, trafilatura keeps its own scans
SAME_RULES = (STOCK_HTML2TXT is trafilatura_baseline.html2txt
              and getattr(getattr(trafilatura_settings, "BASIC_CLEAN_XPATH", None), "path", None) == BASIC_CLEAN
              and set(getattr(trafilatura_baseline, "_BLOCK_ELEMS", ())) == SPACED_TAGS
              and STOCK_PRUNE is not None and getattr(trafilatura_external, "prune_unwanted_nodes", None) is STOCK_PRUNE
              and tuple(" ".join(x.path.split()) for x in getattr(trafilatura_xpaths, "OVERALL_DISCARD_XPATH", ())) == OVERALL_DISCARD)


def first_of(node, names: tuple[str, ...]) -> str:
    """What XPath reads for ``@a|@b`` as a string: the first of those attributes in document (attribute) order."""
    return next((value for name, value in node.items() if name in names), "")


def dropped(node, tag) -> bool:
    """Whether html2txt's cleaning drops this node (with what it holds, not its tail)."""
    if tag in DROPPED_TAGS:
        return True
    cls, ident = node.get("class"), node.get("id")
    if cls is None and ident is None:
        return False
    if tag == "div" and "footer" in first_of(node, ("class", "id")):
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


def discarded(tree) -> tuple[list, list]:
    """The elements under ``tree`` that each of OVERALL_DISCARD_XPATH's two expressions selects, in document order."""
    boilerplate, hidden = [], []
    for node in tree.iterdescendants():
        tag = node.tag
        if not isinstance(tag, str):
            continue
        attributes = node.attrib
        if not attributes:
            continue
        ident, cls, style = attributes.get("id"), attributes.get("class"), attributes.get("style")
        id_or_class = first_of(node, ("id", "class")) if ident is not None or cls is not None else ""
        if tag in BOILERPLATE_TAGS and (
                "data-lp-replacement-content" in attributes
                or "nav" in (attributes.get("role") or "").replace("N", "n")
                or "MostPopularStories" in (attributes.get("data-component") or "")
                or "cookie" in id_or_class
                or ident is not None and BOILERPLATE_ID.search(ident)
                or cls is not None and BOILERPLATE_CLASS.search(cls)):
            boilerplate.append(node)
        if (cls == "comments-title"
                or id_or_class.startswith("reply-")
                or (ident is not None or style is not None) and "hidden" in first_of(node, ("id", "style"))
                or style is not None and ("display:none" in style or "display: none" in style)
                or ident is not None and HIDDEN_ID.search(ident)
                or cls is not None and HIDDEN_CLASS.search(cls)
                or attributes.get("aria-hidden") == "true"):
            hidden.append(node)
    return boilerplate, hidden


def pruned(tree, nodelist, with_backup: bool = False):
    """trafilatura's ``prune_unwanted_nodes``, with OVERALL_DISCARD_XPATH's selections made by ``discarded``. Its
    second expression runs after the first's deletions there: deleting what it selects in the whole tree does the
    same, as deletions change no attribute and a node in a deleted subtree stays out of the tree."""
    if nodelist is trafilatura_xpaths.OVERALL_DISCARD_XPATH:
        selections = discarded(tree)
        nodelist = [lambda _, chosen=chosen: chosen for chosen in selections]
    return STOCK_PRUNE(tree, nodelist, with_backup)


@contextmanager
def trafilatura_walks() -> Iterator[None]:
    """trafilatura scans pages with these walks inside the block (when its rules are theirs). Two threads at once
    can only leave each other trafilatura's own scans for a moment: both give the same results."""
    if not SAME_RULES:
        yield
        return
    use_scans(page_text, pruned)
    try:
        yield
    finally:
        use_scans(STOCK_HTML2TXT, STOCK_PRUNE)


def use_scans(html2txt, prune_unwanted_nodes) -> None:
    """Set trafilatura's page measure and its pruning, in every module that calls them."""
    trafilatura_core.html2txt = html2txt
    trafilatura_main.prune_unwanted_nodes = trafilatura_external.prune_unwanted_nodes = prune_unwanted_nodes
