"""The store contract: what a crawl keeps across runs (``StateStore``) and what one run's listings found
(``FoundArticles``). SQLite with memory serves one process, Redis the workers of a distributed crawl; one test
suite (tests/test_store_contract.py) holds both to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, Protocol

from crawler.dedup.identity import Copy
from crawler.dedup.minhash import ContentPrint
from crawler.sites.profiles import SiteProfile

Dates = tuple[str | None, str | None]  # (published, modified) as listings gave them
Wave = list[tuple[str, str]]  # (mirror key, URL to fetch it from)


class Revision(NamedTuple):
    """What the state knows of an emitted article's latest revision."""

    hash64: int | None  # of its clean text (``crawler.dedup.identity.hash64``)
    revision: int
    published: str | None
    modified: str | None


class PendingArticle(NamedTuple):
    """An article a run found but did not get: it stays pending, and later runs ask for it again."""

    key: str  # its mirror key
    urls: list[str]
    reason: str  # why: every host's failure, or why the run stopped before it
    tried: bool  # whether it was asked for (and failed), not only left unasked


def pending_entry(known: dict | None, article: PendingArticle, when: str) -> dict:
    """A pending article's entry as the stores keep it: the URLs ever seen, the latest reason, the number of runs
    that asked for it in vain, and when it was first and last left."""
    known = known or {"urls": [], "tries": 0, "first_seen": when}
    return {"urls": list(dict.fromkeys([*known["urls"], *article.urls])), "reason": article.reason,
            "tries": known["tries"] + article.tried, "first_seen": known["first_seen"], "last_seen": when}


class StateStore(Protocol):
    """Everything a crawl remembers across runs, per site: emitted articles and their content prints, every URL
    each was seen at, feed validators, runs, learned templates and discovered mirrors."""

    # -- content identity ------------------------------------------------------------------------
    def content_print(self, text: str | None, content_hash: str | None) -> ContentPrint | None:
        """The print a text is matched and indexed by (None without text)."""

    def is_emitted(self, article_id: str) -> bool: ...

    def find_copy(self, site: str, article_id: str, printed: ContentPrint | None) -> Copy | None:
        """The emitted article this one is a copy of, or None; nothing is claimed."""

    def claim(self, site: str, article_id: str, text: str | None, content_hash: str | None) -> Copy | None:
        """The emitted article this one is a copy of (same id, same text, near-identical text:
        ``crawler.dedup.identity.find_copy``), or None, and then the article is this process's to emit: no
        other worker emits it or a copy of it until this one's claim ends (``mark_emitted`` or its death)."""

    def revision_of(self, article_id: str) -> Revision | None:
        """The article's latest revision, or None when it was never emitted."""

    def mark_emitted(self, record: dict, run_id: str, printed: ContentPrint | None) -> None:
        """Commit an article this process claimed (or a new revision of one) with its URLs and print, once its
        line is in the run file."""

    def record_urls(self, article_id: str, urls) -> None:
        """More URLs an emitted article was seen at."""

    def urls_of(self, article_id: str) -> list[str]:
        """Every URL recorded for an article."""

    def published_since(self, site: str, day: str) -> list[tuple[str, str, list[str]]]:
        """(id, published, URLs) of the site's articles published on or after ``day`` (YYYY-MM-DD)."""

    # -- listings --------------------------------------------------------------------------------
    def validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) a feed or sitemap answered with when a complete run last read it."""

    def save_validators(self, validators: dict[str, tuple[str | None, str | None]]) -> None: ...

    # -- runs ------------------------------------------------------------------------------------
    def start_run(self, run_id: str, site: str, when: str) -> None: ...

    def record_run(self, run_id: str, site: str, status: str) -> None:
        """A run known only from its run files (``state rebuild``), unless the store knows it: ended; its run id
        stands for its times."""

    def finish_run(self, run_id: str, when: str | None, status: str, summary: dict | None = None) -> None:
        """Mark a run ended, after everything it emitted is written; ``summary``: its counts and exit status."""

    def sites_with_runs(self) -> list[str]:
        """Every site the state has runs of, in name order."""

    def run_history(self, site: str, limit: int = 100) -> list[dict]:
        """The site's latest runs, newest first: ``run_id``, ``started_at``, ``finished_at``, ``status`` and
        ``summary`` (None for a run that never ended, or ended before summaries were kept)."""

    def run_totals(self, site: str) -> dict:
        """Over every run of the site that kept its counts: how many (``runs``), each count of
        ``crawler.reporting.outcome.RUN_TOTALS`` added up, and ``last_success``, when the latest with exit status 0
        ended (None: none did); what ``crawl --metrics`` counts, at every run's end."""

    def last_run_status(self, site: str) -> str | None:
        """How the site's latest run ended ('finished', 'shutdown' when paused, ...); None when it never ended
        (killed, or still running) or there was none."""

    def recover_interrupted_runs(self, site: str, site_dir: Path) -> int:
        """Commit what runs that never ended wrote to their run files but did not commit; how many articles.
        (A distributed run is not interrupted but resumed by the next worker: nothing to recover.)"""

    # -- what runs left for the next, and sites on hold --------------------------------------------
    def pending_articles(self, site: str) -> dict[str, dict]:
        """{mirror key: ``pending_entry``} of the articles earlier runs left for later ones."""

    def save_pending(self, site: str, left: list[PendingArticle], when: str) -> None: ...

    def clear_pending(self, site: str, keys) -> None:
        """These articles were got (emitted, or found to be copies or not articles): no longer pending."""

    def site_hold(self, site: str) -> dict | None:
        """Why the site must not be asked before a time (a ban, a Retry-After past the cap), or None."""

    def save_site_hold(self, site: str, hold: dict | None) -> None: ...

    # -- learned templates -----------------------------------------------------------------------
    def template_counts(self, site: str) -> dict[str, int]: ...

    def save_template_counts(self, site: str, counts: dict[str, int]) -> None: ...

    # -- discovered mirrors ----------------------------------------------------------------------
    def discovered_hosts(self, site: str) -> dict[str, dict]: ...

    def save_discovered_host(self, site: str, host: str, entry: dict) -> None: ...

    def add_discovered_host(self, site: str, host: str, entry: dict, known: dict | None) -> bool:
        """Save ``entry`` when the host's stored entry is still ``known`` (None: it has none), all in one step:
        False, saving nothing, when another worker wrote one since it was read."""

    def forget_discovered_host(self, site: str, host: str) -> bool: ...

    def claim_host_check(self, site: str, host: str, seconds: float) -> bool:
        """Whether this process verifies ``host`` now (no other worker does, for ``seconds``)."""

    def release_host_check(self, site: str, host: str) -> None: ...

    def close(self) -> None: ...


class FoundArticles(Protocol):
    """What one run's listings found: each article's URLs on every host and its listing dates, the articles
    still to fetch, and which to fetch next (waves by host rank). In memory for one process, in the run's Redis
    keys for the workers of a distributed run."""

    def note(self, key: str, url: str, published: str | None = None, modified: str | None = None) -> bool:
        """Record a URL of an article (and its listing dates); True on the article's first sighting."""

    def urls(self, key: str) -> list[str]: ...

    def dates(self, key: str) -> Dates: ...

    def add_known(self, key: str) -> None:
        """An emitted article the listings named (no longer pending): decided on (fetch again or not) once
        discovery is done."""

    def add_pending(self, key: str) -> None: ...

    def is_pending(self, key: str) -> bool: ...

    def take_wave(self, profile: SiteProfile, may_have_changed: Callable[[str, Dates], bool]) -> Wave:
        """The articles to fetch next (known ones that ``may_have_changed`` join them first)."""

    def taken(self, wave: Wave) -> None:
        """The wave's requests are scheduled: they are no longer pending."""

    def busy_elsewhere(self) -> bool:
        """Whether another worker still has work (always False for one process)."""

    def left_over(self, unfinished: set[str]) -> set[str]:
        """This process ends: the articles nobody will fetch in this run (those never taken, and ``unfinished``:
        taken, never got), which the store's pending queue keeps for a later run."""


def replay(store: StateStore, record: dict, run_id: str) -> bool:
    """Commit a record read back from a run file unless the store has it (or a later revision); its URLs are
    recorded either way. True when it was committed (crash recovery, ``state rebuild``)."""
    known = store.revision_of(record["id"])
    if known is None or (record.get("revision") or 1) > known.revision:
        store.mark_emitted(record, run_id, store.content_print(record.get("text"), record.get("content_hash")))
        return True
    store.record_urls(record["id"], record.get("mirror_urls") or [])
    return False
