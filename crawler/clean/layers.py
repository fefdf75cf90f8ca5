"""Boilerplate cleaning of extracted text, in layers that each remove whole blocks (lines), never add any.

Pure functions and small classes: site profile phrases, the built-in rule table
(``crawler/clean/boilerplate.toml``), and per-site template learning. ``crawler.clean.pipelines`` wraps them
as Scrapy pipelines; ``newsmirror scrape`` chains the same layers in-process.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources


def drop_phrase_blocks(blocks: list[str], phrases: Iterable[str]) -> list[str]:
    """The blocks that contain none of ``phrases`` (case-insensitive substring)."""
    lowered = [p.lower() for p in phrases if p]
    if not lowered:
        return list(blocks)
    return [block for block in blocks if not any(p in block.lower() for p in lowered)]


@dataclass(frozen=True)
class BoilerplateRules:
    """Built-in rules: short blocks containing a phrase, blocks matching a pattern in full, and the short
    blocks (link titles) following a heading that announces a link list.

    Matching is case-insensitive: the rules are compiled in lower case and see lower-cased blocks, which
    Python's regex engine scans several times faster than with ``re.I``."""

    phrases: re.Pattern[str]
    patterns: re.Pattern[str]
    list_headings: re.Pattern[str]
    max_chars: int
    list_item_chars: int
    list_items: int

    @classmethod
    def from_toml(cls, text: str) -> "BoilerplateRules":
        data = tomllib.loads(text)
        tables = [table for table in data.values() if isinstance(table, dict)]
        phrases = sorted({p.lower() for table in tables for p in table.get("phrases", [])}, key=len, reverse=True)
        def alternatives(key: str) -> re.Pattern[str]:
            lowered = (_lower_letters(p) for table in tables for p in table.get(key, []))
            return re.compile("|".join(f"(?:{p})" for p in lowered) or "(?!)")

        return cls(
            phrases=re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, phrases)) + r")(?!\w)"),
            patterns=alternatives("patterns"),
            list_headings=alternatives("list_headings"),
            max_chars=int(data.get("max_chars", 220)),
            list_item_chars=int(data.get("list_item_chars", 100)),
            list_items=int(data.get("list_items", 10)),
        )

    @classmethod
    def builtin(cls) -> "BoilerplateRules":
        return cls.from_toml(resources.files(__package__).joinpath("boilerplate.toml").read_text(encoding="utf-8"))

    def is_boilerplate(self, block: str) -> bool:
        lowered = block.lower()
        if self.patterns.fullmatch(lowered.strip()):
            return True
        return len(block) <= self.max_chars and self.phrases.search(lowered) is not None

    def clean(self, blocks: list[str]) -> list[str]:
        kept: list[str] = []
        list_left = 0  # link-list items still expected after a list heading
        for block in blocks:
            if self.list_headings.fullmatch(block.strip().lower()):
                list_left = self.list_items
                continue
            if list_left and len(block) <= self.list_item_chars:
                list_left -= 1
                continue
            list_left = 0
            if not self.is_boilerplate(block):
                kept.append(block)
        return kept


def _lower_letters(pattern: str) -> str:
    """A regex in lower case, its escapes (``\\S``, ``\\W``, ``\\D``) kept: for matching lower-cased text."""
    return re.sub(r"(?<!\\)[^\W\d_]", lambda letter: letter.group().lower(), pattern)


def block_key(block: str) -> str:
    """Identity of a block for template learning: case, punctuation and spacing do not count."""
    normal = re.sub(r"\W+", " ", unicodedata.normalize("NFKC", block).casefold()).strip()
    return hashlib.sha1(normal.encode("utf-8")).hexdigest()[:16]


class SiteTemplate:
    """One site's recurring blocks: how many distinct articles each block key was seen in, bounded.

    A block seen in ``threshold`` or more articles is template (boilerplate) for the site. Blocks longer
    than ``max_chars`` are not counted: recurring long paragraphs are more likely body than template.
    At most ``max_keys`` keys are kept; the oldest keys seen in fewest articles go first.
    """

    def __init__(self, counts: dict[str, int] | None = None, threshold: int = 5, max_chars: int = 400,
                 max_keys: int = 50_000):
        self.counts: dict[str, int] = dict(counts or {})
        self.threshold, self.max_chars, self.max_keys = max(2, threshold), max_chars, max_keys

    def learn_and_clean(self, blocks: list[str]) -> list[str]:
        """Count one article's blocks (each distinct block once), then drop those that are template now."""
        keys = [block_key(b) if len(b) <= self.max_chars else None for b in blocks]
        for key in set(keys) - {None}:
            self.counts[key] = self.counts.pop(key, 0) + 1  # re-insert: most recently seen last
        if len(self.counts) > self.max_keys:
            self._prune()
        return [block for block, key in zip(blocks, keys) if key is None or self.counts.get(key, 0) < self.threshold]

    def _prune(self) -> None:
        target = int(self.max_keys * 0.9)
        for floor in range(1, self.threshold):
            for key in [k for k, n in self.counts.items() if n <= floor][: len(self.counts) - target]:
                del self.counts[key]
            if len(self.counts) <= target:
                return

    def is_template(self, block: str) -> bool:
        return len(block) <= self.max_chars and self.counts.get(block_key(block), 0) >= self.threshold

    def clean(self, blocks: list[str]) -> list[str]:
        """Drop the blocks that are template, learning nothing (a scraped page teaches nothing)."""
        return [block for block in blocks if not self.is_template(block)]
