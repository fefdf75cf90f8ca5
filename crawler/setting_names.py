"""Which setting names exist, so that ``-s NAME=VALUE`` with a misspelt name is said, not silently ignored."""

from __future__ import annotations

import difflib
from functools import cache

from scrapy.settings import default_settings

import crawler.settings as project_settings

# scrapy-redis's settings, which distributed crawls use (crawler.distributed.mode)
SCRAPY_REDIS = ("REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PARAMS", "REDIS_ENCODING", "SCHEDULER_PERSIST",
                "SCHEDULER_QUEUE_CLASS", "SCHEDULER_QUEUE_KEY", "SCHEDULER_DUPEFILTER_KEY", "SCHEDULER_DUPEFILTER_CLASS",
                "SCHEDULER_SERIALIZER", "SCHEDULER_IDLE_BEFORE_CLOSE", "SCHEDULER_FLUSH_ON_START")


@cache
def known_settings() -> frozenset[str]:
    """Scrapy's settings, scrapy-redis's, and newsmirror's (every one is in ``crawler/settings.py``)."""
    return frozenset(name for module in (default_settings, project_settings) for name in dir(module) if name.isupper()) \
        | frozenset(SCRAPY_REDIS)


def setting_warning(name: str) -> str | None:
    """Why ``name`` is likely a mistake: a newsmirror setting that does not exist, or a close misspelling of a
    known one (``DOWNLOAD_DELAYS``); None for known names and for other names (an add-on's own setting)."""
    known = known_settings()
    if name in known:
        return None
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    if name.startswith("NEWSMIRROR_"):
        return f"unknown newsmirror setting {name}" + (f"; did you mean {close[0]}?" if close else "")
    return f"unknown setting {name}; did you mean {close[0]}?" if close else None
