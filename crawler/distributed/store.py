"""Crawl state in Redis, shared by the workers of a distributed crawl: the ``StateStore`` contract, with an
atomic claim so that two workers never both emit one article (the same id, text or a near-identical text)."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

import redis

from crawler.dedup.identity import BY_ID, BY_TEXT, Copy, find_copy, hash64
from crawler.dedup.minhash import ContentPrint, ContentPrinter, MinHasher, ShingleCache, pack_text, stored_band_keys, unpack_text
from crawler.distributed.keys import every_site_key, host_check_key, site_of_key, state_key
from crawler.distributed.url_lists import APPEND_UNIQUE, split_urls
from crawler.reporting.outcome import NOT_ASKED, run_totals, worst
from crawler.state.store import PendingArticle, Revision, pending_entry

logger = logging.getLogger(__name__)

# KEYS: articles, hashes, bands, texts, claims, workers. ARGV: id, hash64 or '', compressed text or '', worker,
# '1' to claim, n, then n candidate ids already verified as different, then the band keys.
# Replies {'id', id} or {'text', id}: a copy of an emitted (or claimed by a live worker) article;
# {'check', ids...}: candidates sharing a band, to verify before calling again; {'claimed'} or {'new'}.
CLAIM = """
local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local id, worker = ARGV[1], ARGV[4]
if redis.call('HEXISTS', KEYS[1], id) == 1 then return {'id', id} end
local owner = redis.call('HGET', KEYS[5], id)
if owner and owner ~= worker then
  local expiry = redis.call('ZSCORE', KEYS[6], owner)
  if expiry and tonumber(expiry) > now then return {'id', id} end
end
if ARGV[2] ~= '' then
  local other = redis.call('HGET', KEYS[2], ARGV[2])
  if other and other ~= id then return {'text', other} end
end
local n = tonumber(ARGV[6])
local seen = {[id] = true}
for i = 7, 6 + n do seen[ARGV[i]] = true end
local new = {'check'}
for i = 7 + n, #ARGV do
  local ids = redis.call('HGET', KEYS[3], ARGV[i])
  if ids then for other in string.gmatch(ids, '%S+') do
    if not seen[other] then seen[other] = true new[#new + 1] = other end
  end end
end
if #new > 1 then return new end
if ARGV[5] ~= '1' then return {'new'} end
redis.call('HSET', KEYS[5], id, worker)
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], ARGV[2], id) end
for i = 7 + n, #ARGV do
  local ids = redis.call('HGET', KEYS[3], ARGV[i])
  if not ids then redis.call('HSET', KEYS[3], ARGV[i], id)
  elseif string.find(' ' .. ids .. ' ', ' ' .. id .. ' ', 1, true) == nil then
    redis.call('HSET', KEYS[3], ARGV[i], ids .. ' ' .. id)
  end
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[4], id, ARGV[3]) end
return {'claimed'}
"""


def epoch(iso: str) -> float | None:
    """An ISO 8601 date or time as seconds since the epoch (UTC when it has no offset), or None."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


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


def stored_urls(client: redis.Redis, site: str, article_id: str) -> list[str]:
    """Every URL the state recorded for an article of ``site`` (the store's and ``export``'s one reading)."""
    return split_urls(client.hget(state_key(site, "urls"), article_id))


class RedisState:
    """The state of one site in Redis: hashes ``articles`` (id → run), ``meta`` (id → revision), ``hashes``
    (content hash → id), ``bands`` (LSH band key → ids), ``texts`` (id → zlib text), ``urls`` (id → URLs, one
    a line), ``runs``, the sorted set ``published`` and the string ``content_print`` (how the bands were made);
    a run's ``claims`` (id → worker) reserve articles between claim and ``mark_emitted``.

    A claim whose worker died (its heartbeat expired) is taken over by the worker that fetches the
    article again (the dead worker's lease re-queues the request).
    """

    def __init__(self, client: redis.Redis, site: str, run=None, hasher: MinHasher | None = None,
                 near_duplicate: float = 0.5, read_only: bool = False):
        self.client, self.site, self.run = client, site, run
        self.hasher = hasher or MinHasher()
        self.near_duplicate = near_duplicate
        self.shingles = ShingleCache(self.hasher.shingle)
        self.printer = ContentPrinter(self.hasher)
        self.template_base: dict[str, dict[str, int]] = {}
        self.claim_script = client.register_script(CLAIM)
        self.append = client.register_script(APPEND_UNIQUE)
        if not read_only:  # a reader (`sites`) never rebuilds anything
            self.ensure_band_format()

    def ensure_band_format(self) -> None:
        """``SqliteState.upgrade`` of the bands for Redis: one worker rebuilds the site's ``bands`` from its
        ``texts`` (holding the ``rebuilding`` key), the others wait for the new ``content_print``."""
        wanted = self.hasher.describe()
        while (current := self.client.get(self.key("content_print"))) != wanted.encode():
            if not self.client.set(self.key("rebuilding"), "1", nx=True, ex=600):
                time.sleep(0.2)
                continue
            try:
                bands: dict[int, list[str]] = {}
                for article_id, blob in self.client.hscan_iter(self.key("texts")):
                    for band in stored_band_keys(blob, self.hasher):
                        bands.setdefault(band, []).append(article_id.decode())
                if bands:
                    logger.warning("%s: rebuilding the near-duplicate index of the site's articles in Redis (content "
                                   "prints were made by %s, now %s)", self.site,
                                   current.decode() if current else "an older version", wanted)
                entries = [(band, " ".join(ids)) for band, ids in bands.items()]
                with self.client.pipeline() as batch:
                    batch.delete(self.key("bands"))
                    for chunk in range(0, len(entries), 10_000):
                        batch.hset(self.key("bands"), mapping=dict(entries[chunk:chunk + 10_000]))
                    batch.set(self.key("content_print"), wanted)
                    batch.execute()
            finally:
                self.client.delete(self.key("rebuilding"))

    def key(self, name: str, site: str | None = None) -> str:
        return state_key(site or self.site, name)

    def close(self) -> None:
        self.client.close()

    # -- identity ------------------------------------------------------------------------------------
    def content_print(self, text: str | None, content_hash: str | None) -> ContentPrint | None:
        return self.printer(text, content_hash)

    def is_emitted(self, article_id: str) -> bool:
        return bool(self.client.hexists(self.key("articles"), article_id))

    def find_copy(self, site: str, article_id: str, printed: ContentPrint | None) -> Copy | None:
        """The emitted article this one is a copy of, without claiming anything."""
        return self.lookup(site, article_id, printed, None, claim=False)

    def claim(self, site: str, article_id: str, text: str | None, content_hash: str | None) -> Copy | None:
        """``find_copy`` whose last step, when there is no copy, reserves the article for this worker in the same
        atomic script: a copy claimed by a live worker counts as emitted."""
        printed = self.content_print(text, content_hash)
        return self.lookup(site, article_id, printed, pack_text(text) if printed is not None else None, claim=True)

    def lookup(self, site: str, article_id: str, printed: ContentPrint | None, blob: bytes | None,
               claim: bool) -> Copy | None:
        """``crawler.dedup.identity.find_copy`` with the CLAIM script as its step."""
        keys = [self.key(name, site) for name in ("articles", "hashes", "bands", "texts")]
        keys += [self.run.key("claims"), self.run.key("workers")] if self.run else ["-", "-"]
        prints = [str(hash64(printed.content_hash)), blob or ""] if printed is not None else ["", ""]
        bands = [str(band) for band in printed.band_keys] if printed is not None else []

        def step(checked: list[str]) -> Copy | list[str] | None:
            reply = [part.decode() if isinstance(part, bytes) else part for part in self.claim_script(
                keys=keys, args=[article_id, *prints, self.run.worker if self.run else "", "1" if claim else "0",
                                 len(checked), *checked, *bands])]
            if reply[0] in (BY_ID, BY_TEXT):
                return Copy(reply[1], reply[0])
            return reply[1:] if reply[0] == "check" else None

        def shingles(candidates: list[str]):
            texts = self.client.hmget(self.key("texts", site), candidates)
            return [(c, self.shingles.get(c, lambda t=t: unpack_text(t))) for c, t in zip(candidates, texts) if t]

        return find_copy(step, shingles, printed, self.near_duplicate)

    def record_urls(self, article_id: str, urls) -> None:
        for url in urls:
            self.append(keys=[self.key("urls")], args=[article_id, url])

    def revision_of(self, article_id: str) -> Revision | None:
        value = self.client.hget(self.key("meta"), article_id)
        return Revision(*json.loads(value)) if value else None

    def mark_emitted(self, record: dict, run_id: str, printed: ContentPrint | None) -> None:
        """Commit an emitted article (or a new revision): its claim becomes an emitted id (the claim stored
        its prints; a revision replaces the stored text)."""
        meta = [hash64(record.get("content_hash")), record.get("revision") or 1, record.get("published"), record.get("modified")]
        self.shingles.forget(record["id"])
        # one round trip, atomic: the moment between the run file's line and this commit is the only one in
        # which a kill can make another worker emit the article again (export keeps one record per id)
        commit = self.client.pipeline(transaction=True)
        commit.hset(self.key("meta", record["site"]), record["id"], json.dumps(meta))
        if meta[1] > 1 and record.get("text"):
            commit.hset(self.key("texts", record["site"]), record["id"], pack_text(record["text"]))
        commit.hset(self.key("articles", record["site"]), record["id"], run_id)
        if record.get("published") and (moment := epoch(record["published"])) is not None:
            commit.zadd(self.key("published", record["site"]), {record["id"]: moment})
        if self.run is not None:
            commit.hdel(self.run.key("claims"), record["id"])
        commit.execute()
        self.record_urls(record["id"], record["mirror_urls"])

    def urls_of(self, article_id: str) -> list[str]:
        return stored_urls(self.client, self.site, article_id)

    # -- runs ----------------------------------------------------------------------------------------
    def start_run(self, run_id: str, site: str, when: str) -> None:
        self.client.hsetnx(self.key("runs", site), run_id, json.dumps({"started_at": when}))

    def finish_run(self, run_id: str, when: str | None, status: str, summary: dict | None = None) -> None:
        """Every worker records its finish and its own summary; the last one to finish has the last word on
        the run's end (``run_history`` adds the workers' counts up)."""
        runs = self.key("runs")
        record = json.loads(self.client.hget(runs, run_id) or "{}")
        summaries = {**record.get("summaries", {}), **({self.worker: summary} if summary is not None else {})}
        self.client.hset(runs, run_id, json.dumps({**record, "finished_at": when, "status": status, "summaries": summaries}))

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
        """From the sorted set ``published`` (id scored by its publication time, UTC)."""
        ids = [i.decode() for i in self.client.zrangebyscore(self.key("published", site), epoch(day), "+inf")]
        if not ids:
            return []
        metas, urls = self.client.hmget(self.key("meta", site), ids), self.client.hmget(self.key("urls", site), ids)
        return [(i, json.loads(meta)[2], split_urls(found)) for i, meta, found in zip(ids, metas, urls) if meta]

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
        with self.client.pipeline(transaction=False) as batch:
            for key, n in counts.items():
                if n > base.get(key, 0):
                    batch.hincrby(self.key("templates", site), key, n - base.get(key, 0))
            batch.execute()
        self.template_base[site] = dict(counts)

    def recover_interrupted_runs(self, site: str, site_dir) -> int:
        """Nothing to recover: an interrupted distributed run resumes (the next worker joins it, its
        frontier, claims and the leases of dead workers are in Redis)."""
        return 0

    # -- what runs left for the next, and sites on hold -----------------------------------------------
    def pending_articles(self, site: str) -> dict[str, dict]:
        return {key.decode(): json.loads(entry) for key, entry in self.client.hgetall(self.key("pending", site)).items()}

    def save_pending(self, site: str, left: list[PendingArticle], when: str) -> None:
        """Workers leave articles pending at once (a run cut short): each entry is merged under WATCH."""
        key = self.key("pending", site)
        for article in left:
            with self.client.pipeline() as merge:
                while True:
                    try:
                        merge.watch(key)
                        known = merge.hget(key, article.key)
                        merge.multi()
                        merge.hset(key, article.key, json.dumps(pending_entry(json.loads(known) if known else None, article, when)))
                        merge.execute()
                        break
                    except redis.WatchError:
                        continue

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

    def forget_discovered_host(self, site: str, host: str) -> bool:
        self.release_host_check(site, host)
        return bool(self.client.hdel(self.key("hosts", site), host))

    def claim_host_check(self, site: str, host: str, seconds: float) -> bool:
        """Whether this worker verifies ``host`` (the first to ask, for ``seconds``): one verification per host."""
        return bool(self.client.set(host_check_key(site, host), self.run.worker if self.run else "-",
                                    nx=True, ex=max(1, int(seconds))))

    def release_host_check(self, site: str, host: str) -> None:
        self.client.delete(host_check_key(site, host))

    def emitted_samples(self, site: str, limit: int) -> list[tuple[str, list[str], str]]:
        """(id, URLs, stored clean text) of up to ``limit`` of the site's emitted articles (any order)."""
        samples = []
        for article_id, blob in self.client.hscan_iter(self.key("texts", site), count=limit):
            article_id = article_id.decode()
            if self.client.hexists(self.key("articles", site), article_id):  # emitted, not only claimed
                samples.append((article_id, split_urls(self.client.hget(self.key("urls", site), article_id)), unpack_text(blob)))
            if len(samples) == limit:
                break
        return samples
