"""A site's state in the Redis layout of earlier newsmirrors (``newsmirror:<site>:<name>``, texts kept in Redis),
moved to the current layout once, by whoever opens the site's state first."""

from __future__ import annotations

import json
import logging
import secrets
import time

from crawler.dedup.identity import idkey
from crawler.dedup.minhash import MinHasher, content_print, unpack_text
from crawler.distributed.bands import packed_bands
from crawler.distributed.client import set_once
from crawler.distributed.keys import legacy_state_key, run_key, state_key
from crawler.distributed.records import StoredArticle
from crawler.distributed.run import RUN_KEYS
from crawler.distributed.url_lists import split_urls

logger = logging.getLogger(__name__)

CONTENT = ("articles", "meta", "texts", "hashes", "bands", "urls", "published", "content_print", "rebuilding")
KEPT = ("runs", "validators", "templates", "hosts", "pending", "hold", "pace", "pause", "run")


class LayoutMigration:
    """Moves one site's state from the old layout, if it has one (``run``), holding the ``migrating`` key while
    other workers wait. Nothing is lost: each article's record, prints (made anew from its text), URLs and
    publication day; runs, validators, templates, discovered hosts, pending articles, holds and pace; a run in
    progress with its frontier, findings, leases and claims. The files each worker wrote are named in
    ``writers`` from the runs' summaries. The old keys go last, so a migration cut short is run again."""

    def __init__(self, client, site: str, hasher: MinHasher, scripts):
        self.client, self.site, self.hasher, self.scripts = client, site, hasher, scripts

    def old(self, name: str) -> str:
        return legacy_state_key(self.site, name)

    def current(self) -> bool:
        return bool(self.client.exists(state_key(self.site, "content_print")))

    def run(self) -> None:
        if self.current() or not any(self.client.exists(self.old(name)) for name in CONTENT + KEPT):
            return
        lock, owner = state_key(self.site, "migrating"), secrets.token_hex(8)  # this migration, not only this process
        while not set_once(self.client, lock, owner, ex=600):
            if self.current():
                return
            time.sleep(0.2)
        try:
            if not self.current():
                self.migrate()
        finally:
            self.client.delete(lock)

    def migrate(self) -> None:
        articles = self.client.hlen(self.old("articles"))
        logger.warning("%s: moving the site's Redis state to the current layout (%d articles; texts stay in the run "
                       "files from now on)", self.site, articles)
        run = self.client.get(self.old("run"))
        moved = [*KEPT, *(f"{run.decode()}:{name}" for name in RUN_KEYS if run)]
        for name in moved:
            self.move(self.old(name), state_key(self.site, name))
        if run:
            self.rekey_claims(run_key(self.site, run.decode(), "claims"))
        self.move_articles()
        self.name_writers()
        self.client.set(state_key(self.site, "content_print"), self.hasher.describe())
        for name in (*CONTENT, *moved):
            self.client.delete(self.old(name))

    def move(self, old: str, new: str) -> None:
        """A key as it is (any type, its expiry kept): DUMP and RESTORE work across cluster slots."""
        dumped = self.client.dump(old)
        if dumped is not None:
            self.client.restore(new, max(self.client.pttl(old), 0), dumped, replace=True)

    def rekey_claims(self, key: str) -> None:
        """A run's claims were keyed by hex ids; the scripts now key them by 10 bytes."""
        for article_id, worker in self.client.hgetall(key).items():
            if len(article_id) == 20:
                self.client.hset(key, idkey(article_id.decode()), worker)
                self.client.hdel(key, article_id)

    def move_articles(self) -> None:
        """Every article with its text (emitted, or claimed by a run in progress) or emitted without one, as
        records, bands, URLs and days."""
        claimed = []
        for key, blob in self.client.hscan_iter(self.old("texts"), count=1000):
            if self.client.hexists(self.old("articles"), key):
                self.move_article(key, content_print(unpack_text(blob), "", self.hasher))
            else:
                claimed.append((key, blob))
        for key, _ in self.client.hscan_iter(self.old("articles"), count=1000):
            if not self.client.hexists(self.old("texts"), key):
                self.move_article(key, None)
        if claimed:  # a claim's hash was kept in ``hashes`` (hash → id) only
            owners = dict(claimed)
            hashes = {owner: int(text_hash) for text_hash, owner in self.client.hscan_iter(self.old("hashes"), count=1000)
                      if owner in owners}
            for key, blob in claimed:
                self.move_article(key, content_print(unpack_text(blob), "", self.hasher), claimed_hash=hashes.get(key, 0))

    def move_article(self, key: bytes, printed, claimed_hash: int | None = None) -> None:
        """An emitted article (its ``meta``: hash, revision, dates), or a claimed one (``claimed_hash``)."""
        meta = self.client.hget(self.old("meta"), key)
        text_hash, revision, published, modified = json.loads(meta) if meta else (claimed_hash, 0, None, None)
        article = StoredArticle(claimed_hash is None, text_hash if printed is not None else None, revision,
                                printed.sketch if printed is not None else None, published, modified)
        self.scripts.commit(idkey(key.decode()), article, state_key(self.site, "norun:claims"),
                            urls=split_urls(self.client.hget(self.old("urls"), key)),
                            bands=packed_bands(printed))

    def name_writers(self) -> None:
        """Each finished run's workers and the articles they wrote (new and revised), from the runs' summaries."""
        for run_id, value in self.client.hgetall(state_key(self.site, "runs")).items():
            for worker, summary in json.loads(value).get("summaries", {}).items():
                written = (summary or {}).get("new", 0) + (summary or {}).get("revised", 0)
                if written:
                    self.client.hset(state_key(self.site, "writers"), f"{run_id.decode()}-{worker}", written)

