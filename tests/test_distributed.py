"""Distributed crawls on a real redis-server: atomic claims, leases, and worker processes sharing one run."""

from __future__ import annotations

import collections
import html
import json
import shutil
import signal
import subprocess
import sys
import time
import zlib

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from scrapy.settings import Settings

from crawler.dedup.minhash import MinHasher
from crawler.distributed.client import PackedScript, redis_client, register_script, set_once
from crawler.distributed.mode import use_redis
from crawler.distributed.keys import published_day_key, run_key, site_pointer, state_key
from crawler.distributed.run import RedisRun
from crawler.farm.redis_server import free_port
from crawler.farm.sites import make_articles
from crawler.distributed.found import RedisFoundArticles
from crawler.state.found import LocalFoundArticles
from crawler.distributed.health import RedisHostHealth
from crawler.sites.profiles import parse_profile
from crawler.distributed.store import RedisPrintFormatError, RedisState
from crawler.dedup.identity import content_hash, hash64
from crawler.state.store import Revision

from .conftest import assert_none_survive, process_tree


def worker_state(url: str, worker: str, lease: float = 30.0) -> RedisState:
    run = RedisRun.join(redis.Redis.from_url(url), "harbor", "run1", worker, lease)
    return RedisState(run.client, "harbor", run)


TEXTS = ["\n".join(article.paragraphs) for article in make_articles(6, seed=11)]


# -- configuration ---------------------------------------------------------------------------------
def test_redis_is_chosen_by_setting_or_environment_and_keeps_the_queue_for_other_workers(monkeypatch):
    def configured(**values) -> Settings:
        settings = Settings()
        settings.setmodule("crawler.settings")
        settings.update(values)
        use_redis(settings)
        return settings

    monkeypatch.delenv("NEWSMIRROR_REDIS", raising=False)
    assert configured().get("SCHEDULER") == "crawler.state.jobdir.JobDirScheduler"  # one process: Scrapy's, subclassed
    monkeypatch.setenv("NEWSMIRROR_REDIS", "redis://from-env:6379/1")
    settings = configured()
    assert settings.get("SCHEDULER") == "crawler.distributed.frontier.LeasedScheduler" and settings.getbool("SCHEDULER_PERSIST")
    assert settings.get("DUPEFILTER_CLASS") == "crawler.distributed.frontier.MirrorAwareDupeFilter"
    assert settings.get("NEWSMIRROR_REDIS") == "redis://from-env:6379/1"
    assert configured(NEWSMIRROR_REDIS="redis://from-setting:6379/0").get("NEWSMIRROR_REDIS") == "redis://from-setting:6379/0"


def legacy_state(client, site: str = "harbor") -> None:
    """A site's state as newsmirror kept it in Redis before hash tags: compressed texts, hex ids, one key per
    index; a finished run with two workers' summaries, and a run in progress with its frontier and a claim."""
    def key(name: str) -> str:
        return f"newsmirror:{site}:{name}"

    for number, text in enumerate(TEXTS[:3]):
        article, digest = f"{number + 1:020x}", content_hash(text)
        client.hset(key("articles"), article, "run0")
        client.hset(key("meta"), article, json.dumps([hash64(digest), 1, f"2026-11-2{number}T10:00:00+03:30", None]))
        client.hset(key("texts"), article, zlib.compress(text.encode(), 6))
        client.hset(key("hashes"), str(hash64(digest)), article)
        client.hset(key("urls"), article, f"http://www.harbornews.ir/Detail/{number}/a\nhttp://www.harbornews.co.uk/Detail/{number}/a")
    client.hset(key("texts"), "9" * 20, zlib.compress(TEXTS[3].encode(), 6))  # claimed by the run in progress
    client.hset(key("hashes"), str(hash64(content_hash(TEXTS[3]))), "9" * 20)
    client.set(key("content_print"), "v2 shingle=3 bands=16x4 seed=20261125")
    client.hset(key("bands"), "12345", "00000000000000000001")
    client.hset(key("runs"), "run0", json.dumps({"started_at": "2026-11-20T00:00:00+00:00", "status": "finished",
                                                 "summaries": {"w1": {"new": 2, "revised": 0}, "w2": {"new": 1}}}))
    client.hset(key("hosts"), "www.harbornews.net", json.dumps({"status": "admitted"}))
    client.set(key("run"), "run1")
    client.zadd(key("run1:requests"), {b"a queued request": -5})
    client.hset(key("run1:found"), "harbor:/Detail/9/a", "http://www.harbornews.ir/Detail/9/a")
    client.hset(key("run1:claims"), "9" * 20, "w3")


def test_a_state_in_the_earlier_layout_is_moved_once_and_nothing_is_lost(redis_url, caplog):
    client = redis.Redis.from_url(redis_url)
    legacy_state(client)
    reader = RedisState(client, "harbor", read_only=True)  # export or `sites` first: it is moved all the same
    assert "moving the site's Redis state to the current layout (3 articles" in caplog.text
    assert client.keys("newsmirror:harbor:*") == []
    assert reader.urls_of(f"{1:020x}") == ["http://www.harbornews.ir/Detail/0/a", "http://www.harbornews.co.uk/Detail/0/a"]
    assert reader.revision_of(f"{2:020x}") == Revision(hash64(content_hash(TEXTS[1])), 1, "2026-11-21T10:00:00+03:30", None)
    assert not reader.is_emitted("9" * 20) and reader.discovered_hosts("harbor") == {"www.harbornews.net": {"status": "admitted"}}
    assert reader.written_files() == {"run0-w1": 2, "run0-w2": 1}
    assert [day for day, _, _ in reader.published_since("harbor", "2026-11-21")] == [f"{2:020x}", f"{3:020x}"]
    worker = worker_state(redis_url, "w4")  # joins the run in progress, with its queue, findings and claims
    assert worker.run.run_id == "run1" and worker.run.pop()[1] == b"a queued request"
    assert RedisFoundArticles(worker.run).urls("harbor:/Detail/9/a") == ["http://www.harbornews.ir/Detail/9/a"]
    assert worker.claim("harbor", "8" * 20, TEXTS[3], content_hash(TEXTS[3])) == ("9" * 20, "text")  # claimed
    copy = TEXTS[0].replace(" the ", " a ", 3) + "\nFollow Harbor News on Telegram."
    assert worker.claim("harbor", "7" * 20, copy, content_hash(copy)) == (f"{1:020x}", "near-duplicate")
    caplog.clear()
    RedisState(client, "harbor")
    assert "moving" not in caplog.text  # once


def test_prints_of_another_format_are_read_but_refused_by_a_crawl(redis_url):
    client = redis.Redis.from_url(redis_url)
    old = RedisState(client, "harbor", hasher=MinHasher(seed=1))
    assert old.claim("harbor", "1" * 20, TEXTS[2], "a" * 40) is None
    assert RedisState(client, "harbor", read_only=True).revision_of("1" * 20) is None  # a reader reads
    with pytest.raises(RedisPrintFormatError, match=r"made by another print format .*seed=1.* keeps no texts"):
        worker_state(redis_url, "a")


# -- claims ------------------------------------------------------------------------------------------
def test_a_claim_holds_off_every_other_worker_for_id_text_and_near_copies(redis_url):
    a, b = worker_state(redis_url, "a"), worker_state(redis_url, "b")
    assert a.claim("harbor", "1" * 20, TEXTS[0], "a" * 40) is None
    assert b.claim("harbor", "1" * 20, TEXTS[0], "a" * 40) == ("1" * 20, "id")  # claimed by a live worker
    assert b.claim("harbor", "2" * 20, TEXTS[0], "a" * 40) == ("1" * 20, "text")
    near = TEXTS[0].replace("said", "stated", 3) + " A late correction."
    assert b.claim("harbor", "3" * 20, near, "b" * 40) == ("1" * 20, "near-duplicate")
    assert b.claim("harbor", "4" * 20, TEXTS[1], "c" * 40) is None  # another article
    a.mark_emitted({"id": "1" * 20, "site": "harbor", "mirror_urls": ["http://x/1"]}, "run1", None)
    assert b.is_emitted("1" * 20) and not b.is_emitted("4" * 20)
    assert b.find_copy("harbor", "9" * 20, b.content_print(TEXTS[1], "d" * 40)) == ("4" * 20, "near-duplicate")


def test_learned_templates_are_shared_and_the_workers_counts_add_up(redis_url):
    a, b = worker_state(redis_url, "a"), worker_state(redis_url, "b")  # a site of its own in the shared server
    assert a.template_counts("blurbs") == {} and b.template_counts("blurbs") == {}
    a.save_template_counts("blurbs", {"follow-us": 3, "house-blurb": 2})
    b.save_template_counts("blurbs", {"follow-us": 2})  # saved at the same time, from its own articles
    later = worker_state(redis_url, "c").template_counts("blurbs")
    assert later == {"follow-us": 5, "house-blurb": 2}
    a.save_template_counts("blurbs", {"follow-us": 4, "house-blurb": 2})  # one more article seen by a
    assert worker_state(redis_url, "d").template_counts("blurbs")["follow-us"] == 6


def test_a_lock_sent_again_is_still_its_owners_and_one_worker_verifies_a_host(shared_redis):
    one, other = (RedisState(run.client, "harbor", run) for run in
                  (RedisRun.join(redis_client(shared_redis, 5), "harbor", "run1", worker, 30.0) for worker in ("a", "b")))
    host = "www.harbornews.net"
    assert one.claim_host_check("harbor", host, 600)
    assert one.claim_host_check("harbor", host, 600)  # the same SET again, as a retry after a lost reply sends it
    assert not other.claim_host_check("harbor", host, 600)
    assert not RedisState(redis_client(shared_redis, 5), "harbor").claim_host_check("harbor", host, 600)  # a's, not "-"'s
    one.release_host_check("harbor", host)
    assert other.claim_host_check("harbor", host, 600) and not one.claim_host_check("harbor", host, 600)
    client = redis_client(shared_redis, 5)  # the lock the wave and the layout migration take too
    assert set_once(client, "{harbor}:lock", "host-1", px=60_000) and set_once(client, "{harbor}:lock", "host-1", px=60_000)
    assert not set_once(client, "{harbor}:lock", "host-2", ex=60) and client.pttl("{harbor}:lock") > 0


def test_host_health_is_shared_by_every_worker(redis_url):
    now = [1000.0]
    client = redis.Redis.from_url(redis_url)
    one, other = (RedisHostHealth(client, threshold=3, cooldown=10, clock=lambda: now[0]) for _ in range(2))
    host = "www.dead-mirror.ir"
    assert not one.record_failure(host, "connection refused") and not other.record_failure(host, "timed out")
    assert other.available(host)
    assert one.record_failure(host, "connection refused")  # the third failure, counted over both workers
    assert not other.available(host) and other.failures(host) == 3 and other.last_reason(host) == "connection refused"
    now[0] += 10
    assert other.available(host)  # one probe after the cool-down
    assert other.record_success(host) and one.available(host) and one.failures(host) == 0


def test_concurrent_claims_emit_each_article_once(redis_url):
    """Two workers race to claim the same copies (by id and by text): every article goes to exactly one."""
    import threading

    texts = ["\n".join(article.paragraphs) for article in make_articles(40, seed=5)]
    won = collections.Counter()

    def work(worker: str, order: list[int]) -> None:
        state = worker_state(redis_url, worker)
        for n in order:
            for copy in range(2):  # the article under its own id, and a renamed copy with the same text
                if state.claim("harbor", f"{n:018x}{copy:02x}", texts[n], f"{n:02x}" * 20) is None:
                    won[n] += 1

    threads = [threading.Thread(target=work, args=(w, order)) for w, order in
               (("a", list(range(40))), ("b", list(reversed(range(40)))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert won == {n: 1 for n in range(40)}


def test_the_claim_of_a_dead_worker_is_taken_over(redis_url):
    dead, alive = worker_state(redis_url, "dead", lease=0.3), worker_state(redis_url, "alive")
    assert dead.claim("harbor", "1" * 20, TEXTS[0], "a" * 40) is None
    assert alive.claim("harbor", "1" * 20, TEXTS[0], "a" * 40) == ("1" * 20, "id")
    time.sleep(0.5)  # no heartbeat: the lease expired
    assert alive.claim("harbor", "1" * 20, TEXTS[0], "a" * 40) is None
    assert alive.client.hget(alive.run.key("claims"), bytes.fromhex("1" * 20)) == b"alive"


def test_a_commit_sent_again_after_its_reply_was_lost_counts_once(redis_url):
    store = worker_state(redis_url, "w1")
    printed = store.content_print(TEXTS[0], content_hash(TEXTS[0]))
    assert store.claim("harbor", "1" * 20, TEXTS[0], content_hash(TEXTS[0])) is None
    record = {"id": "1" * 20, "site": "harbor", "revision": 1, "published": "2026-11-21T10:00:00+03:30", "modified": None,
              "mirror_urls": ["http://www.harbornews.ir/Detail/1/a"]}
    for _ in range(2):  # as OutageRetry sends it again when the connection drops before the reply
        store.mark_emitted(record, "run1", printed)
    assert store.written_files() == {"run1-w1": 1}  # what export expects to find in the run file: one record
    assert store.client.get(published_day_key("harbor", "2026-11-21")) == bytes.fromhex("1" * 20)
    assert store.is_emitted("1" * 20) and store.urls_of("1" * 20) == record["mirror_urls"]
    store.mark_emitted({**record, "id": "2" * 20}, "run1", store.content_print(TEXTS[1], content_hash(TEXTS[1])))
    assert store.written_files() == {"run1-w1": 2}  # another article's commit counts


# -- scripts -----------------------------------------------------------------------------------------
ECHO = """
if ARGV[1] == 'fail' then return redis.error_reply('asked to fail') end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {ARGV[1], ARGV[2], tonumber(ARGV[3]) * 2, {KEYS[2], redis.call('HGET', KEYS[1], 'missing')}, #ARGV}
"""


def test_a_script_answers_alike_however_it_is_sent(shared_redis):
    client = redis_client(shared_redis, 5)
    registered, plain = register_script(client, ECHO), client.register_script(ECHO)
    assert isinstance(registered, PackedScript) == (not shared_redis.startswith("redis-cluster"))
    keys = ["{scripts}:hash", "{scripts}:other"]
    for args in ([b"\x00\xff\r\n$3", "caf\u00e9", 21], ["id", 1.5, 0.25], [b"", b"", 0]):
        assert registered(keys=keys, args=args) == plain(keys=keys, args=args)
    assert registered(keys=keys, args=["caf\u00e9", 2, 4]) == [b"caf\xc3\xa9", b"2", 8, [b"{scripts}:other", None], 3]
    with pytest.raises(redis.ResponseError, match="asked to fail"):
        registered(keys=keys, args=["fail", "", 0])
    assert registered(keys=keys, args=["after", "an error", 1])[:2] == [b"after", b"an error"]  # the connection still answers


def test_a_packed_script_reloads_after_a_flush_and_reconnects_after_a_lost_connection(redis_url):
    client, admin = redis_client(redis_url, 5), redis.Redis.from_url(redis_url)
    script = register_script(client, ECHO)
    assert script(keys=["{s}:h", "{s}:o"], args=["a", "1", 1])[:2] == [b"a", b"1"]
    admin.script_flush()  # as a restarted server has no scripts
    assert script(keys=["{s}:h", "{s}:o"], args=["b", "2", 1])[:2] == [b"b", b"2"]
    assert admin.client_kill_filter(_type="normal", skipme=True) >= 1  # the pool's connection, closed by the server
    assert script(keys=["{s}:h", "{s}:o"], args=["c", "3", 1])[:2] == [b"c", b"3"]
    assert admin.hgetall("{s}:h") == {b"a": b"1", b"b": b"2", b"c": b"3"}
    with pytest.raises(TypeError):
        script(keys=["{s}:h", "{s}:o"], args=[None, "4", 1])  # an argument Redis has no form for, refused before sending
    pool = client.connection_pool
    assert not pool._in_use_connections and len(pool._available_connections) == 1  # each call gave its connection back


# -- leases ------------------------------------------------------------------------------------------
def test_leases_of_a_dead_worker_are_requeued_and_a_live_one_keeps_its_own(redis_url):
    client = redis.Redis.from_url(redis_url)
    dead = RedisRun.join(client, "harbor", "run1", "dead", 0.3)
    alive = RedisRun.join(client, "harbor", "run2-ignored", "alive", 30)
    assert alive.run_id == "run1"  # a worker that comes later joins the running crawl
    for n, score in enumerate((0, -100, -5)):
        dead.push(score, f"request-{n}".encode(), None)
    assert dead.pop()[1] == b"request-1"  # highest priority first
    lease, data = alive.pop()
    assert data == b"request-2" and alive.requeue_expired() == 0
    time.sleep(0.5)
    alive.heartbeat()
    assert alive.requeue_expired() == 1  # the dead worker's request, not the live one's
    assert alive.pop()[1] == b"request-1"
    client.zrem(alive.key("workers"), "gone")
    client.hset(alive.key("inflight"), "gone|1", b"-7|request-3")  # a worker no longer in the run
    assert alive.requeue_expired() == 1 and alive.pop()[1] == b"request-3"
    alive.push(-5, b"request-2", lease)  # a request that came back (failover) ends its lease
    assert not client.hexists(alive.key("inflight"), lease)


def test_the_last_worker_to_finish_deletes_the_run_but_an_interrupted_run_stays(redis_url):
    client = redis.Redis.from_url(redis_url)
    a = RedisRun.join(client, "harbor", "run1", "a", 30)
    b = RedisRun.join(client, "harbor", "run1", "b", 30)
    a.push(0, b"request", None)
    assert not a.leave(finished=True)
    assert not b.leave(finished=False)  # cut short: the queue stays for the next worker
    b = RedisRun.join(client, "harbor", "other", "b", 30)
    assert b.run_id == "run1" and b.pop() is not None
    b.release([f"b|{b.leases_taken}"])
    assert b.leave(finished=True)
    assert client.keys(run_key("harbor", "run1", "*")) == [] and not client.exists(site_pointer("harbor"))


# -- worker processes on the farm ----------------------------------------------------------------------
def worker_command(farm_run, url: str, worker: str, *settings: str) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", "crawl", farm_run.site.id, "--sites", str(farm_run.profile),
            "--output", str(farm_run.output), "--redis", url, "-q", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", f"NEWSMIRROR_WORKER={worker}", *(arg for setting in settings for arg in ("-s", setting))]


def start_worker(farm_run, url, worker, *settings) -> subprocess.Popen:
    """A worker process logging to a file (a pipe nobody reads while waiting for another worker would
    fill up and stall it)."""
    log = open(farm_run.workdir / f"{worker}.log", "wb")
    process = subprocess.Popen(worker_command(farm_run, url, worker, *settings), cwd=farm_run.workdir,
                               env=farm_run.env(), stdout=log, stderr=log)
    process.log = farm_run.workdir / f"{worker}.log"
    log.close()
    return process


def finish(worker: subprocess.Popen, timeout: float = 90) -> str:
    worker.wait(timeout=timeout)
    log = worker.log.read_text(errors="replace")
    assert worker.returncode == 0, log[-3000:]
    return log


def per_worker_records(farm_run) -> dict[str, list[dict]]:
    files = sorted((farm_run.output / farm_run.site.id).glob("*.jsonl"))
    return {path.stem.rsplit("-", 1)[1]: [json.loads(line) for line in path.open() if line.strip()] for path in files}


def exported(farm_run, *args: str) -> dict[str, set[str]]:
    """id -> mirror URLs of the merged dataset."""
    export = farm_run.cli("export", "--sites", str(farm_run.profile), *args)
    assert export.returncode == 0, export.stderr.decode()
    records = [json.loads(line) for line in export.stdout.splitlines()]
    return {record["id"]: set(record["mirror_urls"]) for record in records}


def test_two_workers_share_one_crawl_each_article_once_as_one_process_would(farm_factory, redis_url, tmp_path):
    farm_run = farm_factory(articles=200, renamed_on_mirrors=10)  # renamed copies: dedup by text across workers
    alone = farm_run.cli("crawl", farm_run.site.id, "--sites", str(farm_run.profile), "--output", str(tmp_path / "alone"),
                         "-s", "AUTOTHROTTLE_ENABLED=False", "-q")
    assert alone.returncode == 0, alone.stderr.decode()
    one_process = exported(farm_run, "--output", str(tmp_path / "alone"))
    alone_pages = collections.Counter(f"{r.host}{r.path}" for r in farm_run.farm.requests if r.path.startswith("/Detail/"))

    metrics = tmp_path / "newsmirror.prom"
    workers = [start_worker(farm_run, redis_url, name, "DOWNLOAD_DELAY=0.005", f"NEWSMIRROR_METRICS={metrics}")
               for name in ("a", "b")]
    for worker in workers:
        finish(worker)
    outputs = per_worker_records(farm_run)
    assert set(outputs) == {"a", "b"} and all(len(records) >= 20 for records in outputs.values()), \
        {name: len(records) for name, records in outputs.items()}  # both fetched and emitted a share
    ids = collections.Counter(record["id"] for records in outputs.values() for record in records)
    assert len(ids) == 200 and max(ids.values()) == 1
    assert set(ids) == set(one_process)
    pages = collections.Counter(f"{r.host}{r.path}" for r in farm_run.farm.requests if r.path.startswith("/Detail/"))
    assert pages - alone_pages - alone_pages == collections.Counter()  # no page fetched by both workers
    # mirror copies found after their article was written are in Redis: export completes mirror_urls
    two_workers = exported(farm_run, "--output", str(farm_run.output), "--redis", redis_url)
    assert two_workers == one_process
    assert redis.Redis.from_url(redis_url).keys(run_key("harbor", "2*", "*")) == []  # the finished run's keys are gone
    # the run's record adds the workers' counts up; every worker wrote the metrics of the run as it saw it
    [run] = [json.loads(line) for line in farm_run.cli("runs", "--redis", redis_url, "--json").stdout.splitlines()]
    assert run["new"] == 200 and run["exit_status"] == 0 and set(run["hosts"].values()) == {"up"}
    written = {sample.name: sample.value for family in text_string_to_metric_families(metrics.read_text())
               for sample in family.samples if sample.labels.get("site") == "harbor"}
    assert written["newsmirror_runs_total"] == 1 and written["newsmirror_last_run_exit_status"] == 0


def emitted_by(farm_run, worker: str) -> int:
    """How many lines a worker's run file has so far."""
    return sum(1 for path in (farm_run.output / farm_run.site.id).glob(f"*-{worker}.jsonl") for _ in path.open())


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def leases_held(url: str, worker: str) -> int:
    client = redis.Redis.from_url(url)
    run = client.get(site_pointer("harbor"))
    inflight = client.hkeys(run_key("harbor", run.decode(), "inflight")) if run else []
    return sum(1 for lease in inflight if lease.startswith(f"{worker}|".encode()))


def kill_holding_leases(worker: subprocess.Popen, url: str, name: str, timeout: float = 60) -> None:
    """SIGKILL the worker at a moment it holds leased requests: stopped (SIGSTOP) it cannot release them
    between the look and the kill."""
    deadline = time.monotonic() + timeout
    while True:
        worker.send_signal(signal.SIGSTOP)
        if leases_held(url, name):
            worker.send_signal(signal.SIGKILL)
            return
        worker.send_signal(signal.SIGCONT)
        assert time.monotonic() < deadline, f"{name} never held a lease"
        time.sleep(0.01)


def test_a_worker_that_joins_takes_work_and_one_killed_mid_crawl_loses_nothing(farm_factory, redis_url):
    farm_run = farm_factory(articles=200)
    settings = ("DOWNLOAD_DELAY=0.1", "NEWSMIRROR_LEASE=2", "CONCURRENT_REQUESTS_PER_DOMAIN=4")  # work left to kill
    victim = start_worker(farm_run, redis_url, "victim", *settings)
    wait_for(lambda: emitted_by(farm_run, "victim") >= 10, "the first worker emits articles")
    survivor = start_worker(farm_run, redis_url, "survivor", *settings)  # joins the running crawl
    wait_for(lambda: emitted_by(farm_run, "survivor") >= 5, "the worker that joined emits articles")
    victim_processes = process_tree(victim.pid)
    kill_holding_leases(victim, redis_url, "victim")
    victim.wait()
    assert_none_survive(victim_processes)  # its extraction pool went with it
    assert "re-queued" in finish(survivor)  # the victim's leased requests went back to the queue
    outputs = per_worker_records(farm_run)
    assert len(outputs["victim"]) < 200
    ids = collections.Counter(record["id"] for records in outputs.values() for record in records)
    # nothing lost; the kill can double at most the article whose line it caught before the line's commit
    # (one Redis round trip), and the dataset has it once
    assert len(ids) == 200 and sum(count - 1 for count in ids.values()) <= 1
    assert len(exported(farm_run)) == 200
    assert redis.Redis.from_url(redis_url).keys(run_key("harbor", "2*", "*")) == []


def test_listing_dates_merge_across_workers_and_known_articles_are_settled_once(redis_url):
    profile = parse_profile("t.toml", "harbor", {"hosts": ["www.harbornews.ir", "www.harbornews.co.uk"]})
    client = redis.Redis.from_url(redis_url)
    workers = [RedisFoundArticles(RedisRun.join(client, "harbor", "run1", name, 30.0)) for name in ("a", "b")]
    local = LocalFoundArticles()
    url = "http://www.harbornews.ir/Detail/2026/3/9/770125/x"
    listings = [("2026-03-09T11:50:00+03:30", None), (None, None), (None, "2026-12-03T08:00:00+00:00"),
                (None, "2026-12-01"), (None, "2026-12-03T10:00:00+03:30")]  # 10:00+03:30 is 06:30 UTC: older
    for number, (published, modified) in enumerate(listings):
        workers[number % 2].note("k1", url, published, modified)
        local.note("k1", url, published, modified)
    expected = ("2026-03-09T11:50:00+03:30", "2026-12-03T08:00:00+00:00")
    assert workers[0].dates("k1") == workers[1].dates("k1") == local.dates("k1") == expected
    for discoveries in (workers[0], local):
        discoveries.add_known("k1")
        discoveries.add_known("k2")
        decided = []
        wave = discoveries.take_wave(profile, lambda key, dates: decided.append((key, dates)) or key == "k1")
        assert sorted(decided) == [("k1", expected), ("k2", (None, None))]
        assert [key for key, _ in wave] == ["k1"]
        discoveries.taken(wave)
        assert discoveries.take_wave(profile, lambda key, dates: pytest.fail("settled twice")) == []


# -- Redis outages ---------------------------------------------------------------------------------
def test_a_worker_whose_redis_dies_stops_in_one_line_within_the_outage_bound(farm_factory, own_redis):
    farm_run = farm_factory(articles=200)
    worker = start_worker(farm_run, own_redis, "w1", "DOWNLOAD_DELAY=0.05", "NEWSMIRROR_REDIS_OUTAGE=4",
                          "NEWSMIRROR_LEASE=3")
    wait_for(lambda: emitted_by(farm_run, "w1") >= 5, "the worker emits articles")
    processes = process_tree(worker.pid)
    redis.Redis.from_url(own_redis).shutdown(nosave=True)  # Redis gone for good
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(own_redis).ping()
    lost = time.monotonic()
    worker.wait(timeout=60)
    assert time.monotonic() - lost < 4 + 10  # NEWSMIRROR_REDIS_OUTAGE + 10 s
    log = worker.log.read_text(errors="replace")
    assert worker.returncode == 69, log[-3000:]
    assert "Traceback" not in log and len(log.splitlines()) < 40
    errors = [line for line in log.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and f"Redis at {own_redis}: unreachable for 4 s" in errors[0]
    assert "ConnectionError" not in log.replace(errors[0], "")  # never blamed on a news host
    summary = log.splitlines()[-1]
    assert summary.split(" ", 1)[1].startswith("harbor: ") and "0 failed requests" in summary and "FAILED: Redis at" in summary
    assert_none_survive(processes)
    assert all(json.loads(line) for path in farm_run.output.glob("harbor/*.jsonl") for line in path.open())


def test_an_outage_is_counted_once_per_client_then_every_call_fails_at_once():
    client = redis_client(f"redis://127.0.0.1:{free_port()}/0", outage=1.5)  # nothing listens there
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    assert 1.4 < time.monotonic() - started < 4  # retried with backoff for the outage window
    started = time.monotonic()
    for _ in range(3):
        with pytest.raises(redis.ConnectionError):
            client.get(site_pointer("harbor"))
        with pytest.raises(redis.ConnectionError):
            register_script(client, "return 1")()
    another = client.connection_pool.make_connection()  # as the pool makes one when calls overlap
    with pytest.raises(redis.ConnectionError):
        another.connect()
    assert time.monotonic() - started < 0.5  # no call, nor a new connection, waits out a window of its own


def test_an_unreachable_redis_at_start_is_one_line(farm_run):
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = farm_run.cli(*worker_command(farm_run, url, "w1")[3:])
    log = result.stderr.decode()
    assert result.returncode == 69 and len(log.splitlines()) == 1 and "Traceback" not in log
    assert log.startswith(f"newsmirror crawl: cannot reach Redis at {url}: ")


def test_a_redis_that_lost_the_run_stops_the_worker_instead_of_a_false_success(farm_factory, own_redis):
    farm_run = farm_factory(articles=200)
    worker = start_worker(farm_run, own_redis, "w1", "DOWNLOAD_DELAY=0.05", "NEWSMIRROR_LEASE=1.5")
    wait_for(lambda: emitted_by(farm_run, "w1") >= 5, "the worker emits articles")
    redis.Redis.from_url(own_redis).flushall()  # a restart without persistence: the run's keys are gone
    worker.wait(timeout=60)
    log = worker.log.read_text(errors="replace")
    assert worker.returncode == 69 and "lost this run's keys" in log and "Traceback" not in log
    assert emitted_by(farm_run, "w1") < 200


# -- Redis Cluster ---------------------------------------------------------------------------------------
def test_two_workers_on_a_redis_cluster_share_one_output_directory_each_article_once(farm_factory, cluster_url, tmp_path):
    farm_run = farm_factory(articles=120, renamed_on_mirrors=6)
    workers = [start_worker(farm_run, cluster_url, name, "DOWNLOAD_DELAY=0.005") for name in ("a", "b")]
    for worker in workers:
        finish(worker)
    outputs = per_worker_records(farm_run)  # both wrote into one directory, as on a shared (NFS) mount
    assert set(outputs) == {"a", "b"} and all(len(records) >= 10 for records in outputs.values())
    ids = collections.Counter(record["id"] for records in outputs.values() for record in records)
    assert len(ids) == 120 and max(ids.values()) == 1
    export = farm_run.cli("export", "--sites", str(farm_run.profile), "--redis", cluster_url)
    assert export.returncode == 0 and "warning" not in export.stderr.decode()
    assert {json.loads(line)["id"] for line in export.stdout.splitlines()} == set(ids)
    elsewhere = tmp_path / "one-machine"  # worker b's files never copied over: export names what is missing
    (elsewhere / "harbor").mkdir(parents=True)
    for path in (farm_run.output / "harbor").glob("*-a.jsonl"):
        shutil.copy(path, elsewhere / "harbor")
    partial = farm_run.cli("export", "--sites", str(farm_run.profile), "--redis", cluster_url, "--output", str(elsewhere))
    run_id = next((farm_run.output / "harbor").glob("*-b.jsonl")).stem.rsplit("-", 1)[0]
    assert partial.returncode == 0 and len(partial.stdout.splitlines()) == len(outputs["a"])
    assert (f"warning: worker b's run file harbor/{run_id}-b.jsonl is missing: the state counts {len(outputs['b'])} "
            f"articles of run {run_id} in it") in partial.stderr.decode()
    client = redis_client(cluster_url, 5)
    site_keys = [key for key in client.scan_iter(match="newsmirror:*") if not key.startswith(b"newsmirror:host:")]
    assert site_keys and {client.keyslot(key) for key in site_keys} == {client.keyslot(state_key("harbor", "articles"))}
    assert client.keys(run_key("harbor", "2*", "*"), target_nodes=client.get_primaries()) == []  # the run's keys are gone
    # the run history and the report read the cluster: every site's runs key, whichever node holds its slot
    [run] = [json.loads(line) for line in farm_run.cli("runs", "--redis", cluster_url, "--json").stdout.splitlines()]
    assert run["site"] == "harbor" and run["new"] == 120 and run["exit_status"] == 0
    report = farm_run.cli("report", "--redis", cluster_url, "-o", str(tmp_path / "report.html"))
    newest = max((record for records in outputs.values() for record in records), key=lambda record: record["published"])
    assert report.returncode == 0 and html.escape(newest["title"]) in (tmp_path / "report.html").read_text()
    # state rebuild --redis adds what the state lacks: from the partial copy nothing, and it names b's file too
    partial = farm_run.cli("state", "rebuild", "--redis", cluster_url, "--output", str(elsewhere))
    assert partial.returncode == 0 and ": 0 articles it lacked" in partial.stderr.decode()
    assert f"warning: worker b's run file harbor/{run_id}-b.jsonl is missing" in partial.stderr.decode()
    client.flushall(target_nodes=client.get_primaries())  # Redis lost everything: the shared output has it all
    rebuilt = farm_run.cli("state", "rebuild", "--redis", cluster_url)
    assert rebuilt.returncode == 0 and ": 120 articles it lacked" in rebuilt.stderr.decode()
    assert "warning" not in rebuilt.stderr.decode()
    state = RedisState(redis_client(cluster_url, 5), "harbor", read_only=True)
    assert all(state.is_emitted(article_id) for article_id in ids)
    assert all(set(state.urls_of(record["id"])) >= set(record["mirror_urls"]) for records in outputs.values() for record in records)
    # the files are counted again: export expects both workers' files, and b's is still missing from the copy
    assert farm_run.cli("export", "--sites", str(farm_run.profile), "--redis", cluster_url, "--output", str(elsewhere)
                        ).stderr.decode().count("is missing") == 1


def test_a_cluster_node_down_mid_crawl_stops_the_worker_in_one_line_within_the_outage_bound(farm_factory, own_redis_cluster):
    farm_run = farm_factory(articles=200)
    worker = start_worker(farm_run, own_redis_cluster, "w1", "DOWNLOAD_DELAY=0.05", "NEWSMIRROR_REDIS_OUTAGE=4",
                          "NEWSMIRROR_LEASE=3")
    wait_for(lambda: emitted_by(farm_run, "w1") >= 5, "the worker emits articles")
    node = redis_client(own_redis_cluster, 5).get_node_from_key(site_pointer("harbor"))
    redis.Redis(host=node.host, port=node.port).shutdown(nosave=True)  # the master of the site's slot is gone
    lost = time.monotonic()
    worker.wait(timeout=60)
    assert time.monotonic() - lost < 4 + 10  # NEWSMIRROR_REDIS_OUTAGE + 10 s
    log = worker.log.read_text(errors="replace")
    assert worker.returncode == 69, log[-3000:]
    errors = [line for line in log.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and f"Redis at {own_redis_cluster}: unreachable for 4 s" in errors[0], log[-3000:]
    assert "Traceback" not in log and len(log.splitlines()) < 40
    assert all(json.loads(line) for path in farm_run.output.glob("harbor/*.jsonl") for line in path.open())
