"""What a run got and did not get of the articles it set out to fetch: the articles left for later runs (the
store's pending queue) and those got that earlier runs had left."""

from __future__ import annotations

from crawler.state.store import FoundArticles, PendingArticle, StateStore


class RunLeftovers:
    """A run's account of its articles: ``taken`` into a fetch wave, ``got`` (a response came: emitted, a copy,
    or not an article), ``failed`` (every host, and archive, failed it). When the run ends, what it did not get
    stays pending with its reason, and what earlier runs left and this one got is no longer pending."""

    def __init__(self, store: StateStore, site: str, earlier: dict[str, dict]):
        self.store, self.site, self.earlier = store, site, earlier
        self.taken: set[str] = set()
        self.got: set[str] = set()
        self.failed: dict[str, str] = {}

    def in_flight(self) -> int:
        """Articles taken into a wave that neither came nor failed yet."""
        return len(self.taken - self.got - self.failed.keys())

    def fail(self, key: str, reason: str) -> None:
        if key not in self.got:
            self.failed[key] = reason

    def close(self, found: FoundArticles, why_unfinished: str, when: str) -> int:
        """Keep what is left pending; how many articles that is."""
        unfinished = found.left_over(self.taken - self.got - self.failed.keys())
        left = [PendingArticle(key, found.urls(key), reason, True) for key, reason in self.failed.items()]
        left += [PendingArticle(key, found.urls(key), why_unfinished, False) for key in unfinished if key not in self.failed]
        if left:
            self.store.save_pending(self.site, left, when)
        if got := self.got & self.earlier.keys():
            self.store.clear_pending(self.site, got)
        return len(left)
