"""Whether a page says its content is not freely accessible: schema.org ``isAccessibleForFree`` false, in JSON-LD
(at any depth: the article, its ``hasPart``, a ``@graph`` member) or microdata, or a site profile's paywall
markers present. Pure: the page's parsed JSON-LD and tree in, a yes or no out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import lxml.html

NOT_FREE = {"false", "http://schema.org/false", "https://schema.org/false"}  # schema.org Boolean, compared lowercased
MICRODATA = "//*[@itemprop='isAccessibleForFree']"


def is_false(value: Any) -> bool:
    """schema.org's False: the JSON boolean, or "False"/"false" (with or without the schema.org prefix)."""
    return value is False or (isinstance(value, str) and value.strip().lower() in NOT_FREE)


def not_free_in_json_ld(data: Any) -> bool:
    """Whether any object in JSON-LD ``data``, however deep, has ``isAccessibleForFree`` false."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if is_false(item.get("isAccessibleForFree")):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def not_free_in_microdata(root: lxml.html.HtmlElement) -> bool:
    """Whether an ``itemprop="isAccessibleForFree"`` says false: a meta's content, a link's href, or its text."""
    return any(is_false(element.get("content") or element.get("href") or element.text_content())
               for element in root.xpath(MICRODATA))


def is_paywalled(root: lxml.html.HtmlElement, json_ld: Iterable[Any], markers: Iterable[str] = ()) -> bool:
    """The page declares its content not free (JSON-LD or microdata), or holds one of the CSS ``markers``."""
    return (any(not_free_in_json_ld(data) for data in json_ld) or not_free_in_microdata(root)
            or any(root.cssselect(selector) for selector in markers))
