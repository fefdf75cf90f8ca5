"""Scrapy item pipelines cleaning each article's text, one layer each (the layers in ``crawler.clean.layers``).

The text reaches them as the extractor's blocks, one per line; each pipeline removes whole lines and
recomputes ``content_hash``. ``TextCleaner`` chains the same layers in-process for ``newsmirror scrape``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import redis
from scrapy.exceptions import DropItem

from crawler.clean.layers import BoilerplateRules, SiteTemplate, drop_phrase_blocks
from crawler.dedup.identity import content_hash
from crawler.reporting import stats as keys
from crawler.reporting.stopping import stop_for_outage
from crawler.run.pipeline import RunPipeline
from crawler.sites.profiles import SiteProfile
from crawler.state.sqlite import SqliteState, state_path
from crawler.state.writes import WRITE_ERRORS, error_text, stop_after_write_failure


def rules_from_settings(settings) -> BoilerplateRules:
    path = settings.get("NEWSMIRROR_BOILERPLATE_RULES")
    return BoilerplateRules.from_toml(Path(path).read_text(encoding="utf-8")) if path else BoilerplateRules.builtin()


def template_from_settings(settings, counts: dict[str, int]) -> SiteTemplate:
    return SiteTemplate(counts, threshold=settings.getint("NEWSMIRROR_TEMPLATE_THRESHOLD", 5),
                        max_chars=settings.getint("NEWSMIRROR_TEMPLATE_MAX_CHARS", 400),
                        max_keys=settings.getint("NEWSMIRROR_TEMPLATE_MAX_BLOCKS", 50_000))


def clean_text(text: str | None, clean: Callable[[list[str]], list[str]]) -> tuple[str | None, int]:
    """(``text`` with ``clean`` applied to its lines, number of lines removed)."""
    blocks = text.split("\n") if text else []
    kept = clean(blocks)
    return "\n".join(kept) or None, len(blocks) - len(kept)


class BlockCleaningPipeline(RunPipeline):
    """Base of the cleaning pipelines: applies ``clean(blocks)`` to the item's text, counts what it removed."""

    layer = "base"

    def clean(self, blocks: list[str]) -> list[str]:
        raise NotImplementedError

    def process_item(self, item):
        item.text, removed = clean_text(item.text, self.clean)
        if removed:  # the hash is of the clean text: unchanged text keeps its hash
            item.content_hash = content_hash(item.text)
        self.stats.inc_value(keys.cleaned_blocks(self.layer), removed)
        if item.text is None:
            self.stats.inc_value(keys.PAGES_SKIPPED)
            raise DropItem(f"no article text left after {self.layer} cleaning ({item.url})")
        return item


class ProfileTextCleaner(BlockCleaningPipeline):
    """Drops the blocks containing one of the site profile's ``clean.drop_text`` phrases."""

    layer = "profile"

    def clean(self, blocks):
        return drop_phrase_blocks(blocks, self.context.profile.clean.drop_text)


class BoilerplateRuleCleaner(BlockCleaningPipeline):
    """Drops blocks the built-in rule table (or ``NEWSMIRROR_BOILERPLATE_RULES``) calls boilerplate."""

    layer = "rules"

    def __init__(self, crawler, context):
        super().__init__(crawler, context)
        self.rules = rules_from_settings(crawler.settings)

    def clean(self, blocks):
        return self.rules.clean(blocks)


class TemplateCleaner(BlockCleaningPipeline):
    """Learns the site's recurring blocks from the crawl itself and drops them; persists them in the state.

    Runs after the emitted-article filter, so each article is counted once across mirrors and runs.
    """

    layer = "template"

    def open_spider(self):
        self.template = template_from_settings(self.crawler.settings, self.context.store.template_counts(self.context.site))

    def close_spider(self):
        try:
            self.context.store.save_template_counts(self.context.site, self.template.counts)
        except WRITE_ERRORS as exc:  # learned again next run
            stop_after_write_failure(self.crawler, f"the state ({error_text(exc)})", exc)
        except redis.RedisError as exc:
            stop_for_outage(self.crawler, exc)

    def clean(self, blocks):
        return self.template.learn_and_clean(blocks)


class TextCleaner:
    """The cleaning layers in-process (``newsmirror scrape``): profile phrases, rules, the site's learned
    template as the state store holds it (read, never updated: one scraped page teaches nothing)."""

    def __init__(self, settings, state_path: Path | None):
        self.settings = settings
        self.rules = rules_from_settings(settings)
        self.state_path = state_path if state_path is not None and state_path.exists() else None
        self.templates: dict[str, SiteTemplate] = {}

    @classmethod
    def from_settings(cls, settings) -> "TextCleaner":
        return cls(settings, state_path(settings))

    def template(self, site: str) -> SiteTemplate:
        if site not in self.templates:
            counts = {}
            if self.state_path is not None:
                state = SqliteState(self.state_path, read_only=True)
                counts = state.template_counts(site)
                state.close()
            self.templates[site] = template_from_settings(self.settings, counts)
        return self.templates[site]

    def clean_blocks(self, blocks: list[str], profile: SiteProfile | None) -> list[str]:
        if profile is not None:
            blocks = drop_phrase_blocks(blocks, profile.clean.drop_text)
        blocks = self.rules.clean(blocks)
        return self.template(profile.id).clean(blocks) if profile is not None else blocks

    def clean(self, extracted: dict, profile: SiteProfile | None) -> dict:
        """The extracted fields with ``text`` cleaned and ``content_hash`` recomputed."""
        text, _ = clean_text(extracted["text"], lambda blocks: self.clean_blocks(blocks, profile))
        return {**extracted, "text": text, "content_hash": content_hash(text)}
