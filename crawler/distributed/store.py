"""Crawl state in Redis, shared by the workers of a distributed crawl: the ``StateStore`` contract, with an
atomic claim so that two workers never both emit one article (the same id, text or a near-identical text)."""

from __future__ import annotations

import json
import logging

import redis

from crawler.dedup.identity import BY_ID, BY_TEXT, Copy, find_copy, hash64, idkey
from crawler.dedup.minhash import ContentPrint, ContentPrinter, MinHasher
from crawler.distributed.bands import packed_bands
from crawler.distributed.client import set_once
from crawler.distributed.keys import every_site_key, host_check_key, published_day_key, site_of_key, state_key
from crawler.distributed.migration import LayoutMigration
from crawler.distributed.records import StoredArticle, epoch, pack_article, record_sketch, unpack_article
from crawler.distributed.scripts import SiteScripts
from crawler.distributed.url_lists import OriginTable
from crawler.reporting.outcome import NOT_ASKED, run_totals, worst
from crawler.state.store import PendingArticle, Revision, pending_entry

logger = logging.getLogger(__name__)

def summed(summaries: dict[str, dict] | None) -> dict | None:
    """One run's summary from its workers': counts added up, lists joined, hosts' entries merged (a host one worker
    did not ask keeps what another saw of it), the worst exit status, other values the last's."""
    if not summaries:
        return None
    total: dict = {}
    for summary in summaries.values():
        for name, value in summary.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name != "exit_status":
                total[name] = total.get(name, 0) + value
            elif isinstance(value, list):
                total[name] = list(dict.fromkeys([*total.get(name, []), *value]))
            elif isinstance(value, dict):
                known = total.get(name, {})
                total[name] = {**known, **{key: entry for key, entry in value.items() if entry != NOT_ASKED or key not in known}}
            else:
                total[name] = value
    total["exit_status"] = worst(summary.get("exit_status", 0) for summary in summaries.values())
    return total


class RedisPrintFormatError(Exception):
    """The site's prints in Redis were made by another format, and Redis keeps no texts to make them anew."""


def redis_state_problem(client, sites: list[str]) -> str | None:
    """Why a crawl of ``sites`` must not start on this Redis state, or None (a state in an earlier newsmirror's
    layout is moved to the current one first)."""
    for site in sites:
        try:
            RedisState(client, site)
        except RedisPrintFormatError as exc:
            return str(exc)
    return None


class StoredUrls:
    """Every URL the state recorded for the articles of a site (the store's and ``export``'s one reading)."""

    def __init__(self, client, site: str):
        self.client, self.site = client, site
        self.origins = OriginTable(client, state_key(site, "origins"))

    def __call__(self, article_id: str) -> list[str]:
        return self.origins.urls(self.client.hget(state_key(self.site, "urls"), idkey(article_id)))


class RedisState:
    """The state of one site in Redis, only what shared decisions need (about 0.8 KB an article; texts stay in
    the run files; docs/operations.md lists the keys), all in the site's slot (``newsmirror:{<site>}:<name>``): hashes ``articles`` (id → packed
    record), ``bands`` (the LSH band index), ``urls`` (id → its URLs) and ``origins``, ``writers`` (run file →
    articles committed), ``runs``, ``validators``, ``templates``, ``hosts``, ``pending``; the sorted set
    ``published`` of days and a string of ids per day; ``content_print`` (how prints were made). Article ids
    are kept as 10 bytes. A run's ``claims`` (id → worker) reserve articles between claim and ``mark_emitted``.

    A claim whose worker died (its heartbeat expired) is taken over by the worker that fetches the
    article again (the dead worker's lease re-queues the request).
    """

    def __init__(self, client: redis.Redis, site: str, run=None, hasher: MinHasher | None = None,
                 near_duplicate: float = 0.5, read_only: bool = False):
        self.client, self.site, self.run = client, site, run
        self.hasher = hasher or MinHasher()
        self.near_duplicate = near_duplicate
        self.printer = ContentPrinter(self.hasher)
        self.template_base: dict[str, dict[str, int]] = {}
        self.scripts = SiteScripts(client, site)
        self.stored_urls = StoredUrls(client, site)
        LayoutMigration(client, site, self.hasher, self.scripts).run()
        if not read_only:  # a reader (`sites`, `export`) reads whatever prints the state has
            self.check_print_format()

    def check_print_format(self) -> None:
        """Refuses prints made by another format: the state keeps no texts to make them anew (RedisPrintFormatError)."""
        wanted = self.hasher.describe()
        if set_once(self.client, self.key("content_print"), wanted):
            return
        raise RedisPrintFormatError(
            f"{self.site}: the near-duplicate index in Redis was made by another print format "
            f"({self.client.get(self.key('content_print')).decode()}, now {wanted}) and keeps no texts to make it "
            "anew: crawl with the newsmirror that made it, or start the site's state afresh (docs/operations.md, Reset)")

    def key(self, name: str, site: str | None = None) -> str:
        return state_key(site or self.site, name)

    def close(self) -> None:
        self.client.close()

    # -- identity ------------------------------------------------------------------------------------
    def content_print(self, text: str | None, content_hash: str | None) -> ContentPrint | None:
        return self.printer(text, content_hash)

    def stored(self, article_id: str) -> StoredArticle | None:
        blob = self.client.hget(self.key("articles"), idkey(article_id))
        return unpack_article(blob) if blob else None

    def is_emitted(self, article_id: str) -> bool:
        stored = self.stored(article_id)
        return stored is not None and stored.emitted

    def find_copy(self, site: str, article_id: str, printed: ContentPrint | None) -> Copy | None:
        """The emitted article this one is a copy of, without claiming anything."""
        return self.lookup(site, article_id, printed, claim=False)

    def claim(self, site: str, article_id: str, text: str | None, content_hash: str | None) -> Copy | None:
        """``find_copy`` whose last step, when there is no copy, reserves the article for this worker in the same
        atomic script (its record, claimed, holds its print): a copy claimed by a live worker counts as emitted."""
        return self.lookup(site, article_id, self.content_print(text, content_hash), claim=True)

    def lookup(self, site: str, article_id: str, printed: ContentPrint | None, claim: bool) -> Copy | None:
        """``crawler.dedup.identity.find_copy`` with the CLAIM script as its step."""
        keys = [self.key("articles", site), self.key("bands", site), *self.run_keys(site, "claims", "workers")]
        claimed = pack_article(StoredArticle(False, hash64(printed.content_hash) if printed else None, 0,
                                             printed.sketch if printed else None, None, None))
        exact = hash64(printed.content_hash).to_bytes(8, "big", signed=True) if printed is not None else b""
        bands = packed_bands(printed)
        candidates: dict[str, bytes] = {}

        def step(checked: list[str]) -> Copy | list[str] | None:
            reply = self.scripts.claim(keys=keys, args=[
                idkey(article_id), exact, claimed, self.worker, "1" if claim else "0",
                b"".join(idkey(c) for c in checked), bands])
            kind = reply[0].decode()
            if kind in (BY_ID, BY_TEXT):
                return Copy(reply[1].hex(), kind)
            if kind != "check":
                return None
            found = {other.hex(): record_sketch(record) for other, record in zip(reply[1::2], reply[2::2])}
            candidates.update(found)
            return list(found)

        def sketches(ids: list[str]):
            return [(c, candidates[c]) for c in ids if candidates[c] is not None]

        return find_copy(step, sketches, printed, self.near_duplicate)

    def run_keys(self, site: str, *names: str) -> list[str]:
        """The run's keys, or (no run: a reader, a rebuild) keys of the site's slot that nothing writes."""
        return [self.run.key(name) if self.run else self.key(f"norun:{name}", site) for name in names]

    def record_urls(self, article_id: str, urls) -> None:
        urls = list(urls)
        if urls:
            self.scripts.record_urls(keys=[self.key("urls"), self.key("origins")], args=[idkey(article_id), *urls])

    def revision_of(self, article_id: str) -> Revision | None:
        stored = self.stored(article_id)
        if stored is None or not stored.emitted:
            return None
        return Revision(stored.hash64, stored.revision, stored.published, stored.modified)

    def mark_emitted(self, record: dict, run_id: str, printed: ContentPrint | None) -> None:
        """Commit an emitted article (or a new revision) in one atomic script: its record, emitted; its claim
        ended; its URLs; its publication day; its run file's count (``writers``: what ``export`` expects to find).
        The moment between the run file's line and this commit is the only one in which a kill can make another
        worker emit the article again (export keeps one record per id)."""
        revision = record.get("revision") or 1
        known = self.stored(record["id"]) if revision > 1 or printed is None else None
        if printed is not None:
            text_hash, sketch = hash64(printed.content_hash), printed.sketch
        else:  # without a text, the print its claim stored stands
            text_hash, sketch = (known.hash64, known.sketch) if known else (None, None)
        article = StoredArticle(True, text_hash, revision, sketch, record.get("published"), record.get("modified"))
        revised = known if revision > 1 else None  # a revision: its day may be another
        self.scripts.commit(idkey(record["id"]), article, *self.run_keys(self.site, "claims"),
                            run_file=f"{run_id}-{self.worker}" if self.run else "",
                            bands=packed_bands(printed),
                            urls=record["mirror_urls"], new_day=revised is None or revised.published != article.published)

    def urls_of(self, article_id: str) -> list[str]:
        return self.stored_urls(article_id)

    def written_files(self) -> dict[str, int]:
        """{run file name (``<run-id>-<worker>``): articles committed from it} (hash ``writers``)."""
        return {name.decode(): int(count) for name, count in self.client.hgetall(self.key("writers")).items()}

    def count_run_files(self, counts: dict[str, int]) -> None:
        """Name run files the state had no count for (``state rebuild``) with the articles they hold."""
        if counts:
            self.client.hset(self.key("writers"), mapping=counts)

    # -- runs ----------------------------------------------------------------------------------------
    def start_run(self, run_id: str, site: str, when: str) -> None:
        self.client.hsetnx(self.key("runs", site), run_id, json.dumps({"started_at": when}))

    def record_run(self, run_id: str, site: str, status: str) -> None:
        self.client.hsetnx(self.key("runs", site), run_id,
                           json.dumps({"started_at": run_id, "finished_at": run_id, "status": status}))

    def finish_run(self, run_id: str, when: str | None, status: str, summary: dict | None = None) -> None:
        """Every worker records its finish and its own summary; the last one to finish has the last word on
        the run's end (``run_history`` adds the workers' counts up)."""
        def finished(known: dict | None) -> dict:
            known = known or {}
            summaries = {**known.get("summaries", {}), **({self.worker: summary} if summary is not None else {})}
            return {**known, "finished_at": when, "status": status, "summaries": summaries}

        self.merge_field(self.key("runs"), run_id, finished)

    def merge_field(self, key: str, field: str, merged) -> None:
        """Set a JSON hash field to ``merged(what it holds)``, workers merging at once: compare and set, again
        until no other worker changed the field between the read and the write."""
        while True:
            known = self.client.hget(key, field)
            change = json.dumps(merged(json.loads(known) if known else None))
            if self.scripts.replace_field(keys=[key], args=[field, "1" if known is not None else "0", known or "", change]):
                return

    @property
    def worker(self) -> str:
        return self.run.worker if self.run is not None else "-"

    def sites_with_runs(self) -> list[str]:
        return sorted(site_of_key(key.decode(), "runs") for key in self.client.scan_iter(match=every_site_key("runs")))

    def run_history(self, site: str, limit: int = 100) -> list[dict]:
        runs = [(run_id.decode(), json.loads(value)) for run_id, value in self.client.hgetall(self.key("runs", site)).items()]
        runs.sort(key=lambda run: run[1].get("started_at") or "", reverse=True)
        return [{"run_id": run_id, "started_at": run.get("started_at"), "finished_at": run.get("finished_at"),
                 "status": run.get("status"), "summary": summed(run.get("summaries"))} for run_id, run in runs[:limit]]

    def run_totals(self, site: str) -> dict:
        return run_totals(self.run_history(site, self.client.hlen(self.key("runs", site))))

    def last_run_status(self, site: str) -> str | None:
        runs = [json.loads(value) for value in self.client.hvals(self.key("runs", site))]
        latest = max(runs, key=lambda run: run.get("started_at") or "", default={})
        return latest.get("status")

    def published_since(self, site: str, day: str) -> list[tuple[str, str, list[str]]]:
        """From the days of ``published`` on or after ``day`` (UTC) and their ids, those whose publication time
        (as the record has it now: a revision may have moved it) is not before the day's first second."""
        since = epoch(day)
        found = []
        for listed in self.client.zrangebyscore(self.key("published", site), since, "+inf"):
            ids = self.client.get(published_day_key(site, listed.decode())) or b""
            found += [ids[at:at + 10] for at in range(0, len(ids), 10)]
        recent = []
        for key in dict.fromkeys(found):
            stored = self.stored(key.hex())
            moment = epoch(stored.published) if stored is not None and stored.published else None
            if moment is not None and moment >= since:
                recent.append((key.hex(), stored.published, StoredUrls(self.client, site)(key.hex())))
        return recent

    def validators(self, url: str) -> tuple[str | None, str | None]:
        value = self.client.hget(self.key("validators"), url)
        return tuple(json.loads(value)) if value else (None, None)

    def save_validators(self, validators: dict[str, tuple[str | None, str | None]]) -> None:
        if validators:
            self.client.hset(self.key("validators"), mapping={url: json.dumps(v) for url, v in validators.items()})

    def template_counts(self, site: str) -> dict[str, int]:
        """The site's learned template counts as every worker and run left them (hash ``templates``)."""
        counts = {key.decode(): int(n) for key, n in self.client.hgetall(self.key("templates", site)).items()}
        self.template_base[site] = dict(counts)
        return counts

    def save_template_counts(self, site: str, counts: dict[str, int]) -> None:
        """Add what this worker counted since it loaded the counts: workers see distinct articles, so their
        counts add up (two workers saving at once lose nothing)."""
        base = self.template_base.get(site, {})
        increments = [part for key, n in counts.items() if n > base.get(key, 0) for part in (key, n - base.get(key, 0))]
        if increments:
            self.scripts.increment(keys=[self.key("templates", site)], args=increments)
        self.template_base[site] = dict(counts)

    def recover_interrupted_runs(self, site: str, site_dir) -> int:
        """Nothing to recover: an interrupted distributed run resumes (the next worker joins it, its
        frontier, claims and the leases of dead workers are in Redis)."""
        return 0

    # -- what runs left for the next, and sites on hold -----------------------------------------------
    def pending_articles(self, site: str) -> dict[str, dict]:
        return {key.decode(): json.loads(entry) for key, entry in self.client.hgetall(self.key("pending", site)).items()}

    def save_pending(self, site: str, left: list[PendingArticle], when: str) -> None:
        """Workers leave articles pending at once (a run cut short): each entry is merged (``merge_field``)."""
        for article in left:
            self.merge_field(self.key("pending", site), article.key, lambda known: pending_entry(known, article, when))

    def clear_pending(self, site: str, keys) -> None:
        keys = list(keys)
        if keys:
            self.client.hdel(self.key("pending", site), *keys)

    def site_hold(self, site: str) -> dict | None:
        value = self.client.get(self.key("hold", site))
        return json.loads(value) if value else None

    def save_site_hold(self, site: str, hold: dict | None) -> None:
        if hold is None:
            self.client.delete(self.key("hold", site))
        else:
            self.client.set(self.key("hold", site), json.dumps(hold))

    # -- discovered mirrors ------------------------------------------------------------------------------
    def discovered_hosts(self, site: str) -> dict[str, dict]:
        """{host: entry} of the site's discovered hosts (hash ``hosts``, kept across runs), as every worker left it."""
        return {host.decode(): json.loads(entry) for host, entry in self.client.hgetall(self.key("hosts", site)).items()}

    def save_discovered_host(self, site: str, host: str, entry: dict) -> None:
        self.client.hset(self.key("hosts", site), host, json.dumps(entry, sort_keys=True))

    def add_discovered_host(self, site: str, host: str, entry: dict, known: dict | None) -> bool:
        stored = self.client.hget(self.key("hosts", site), host)
        if (json.loads(stored) if stored else None) != known:
            return False
        return bool(self.scripts.replace_field(keys=[self.key("hosts", site)], args=[
            host, "1" if stored is not None else "0", stored or "", json.dumps(entry, sort_keys=True)]))

    def forget_discovered_host(self, site: str, host: str) -> bool:
        self.release_host_check(site, host)
        return bool(self.client.hdel(self.key("hosts", site), host))

    def claim_host_check(self, site: str, host: str, seconds: float) -> bool:
        """Whether this worker verifies ``host`` (the first to ask, for ``seconds``, or already this worker): one
        verification per host."""
        return set_once(self.client, host_check_key(site, host), self.worker, ex=max(1, int(seconds)))

    def release_host_check(self, site: str, host: str) -> None:
        self.client.delete(host_check_key(site, host))
