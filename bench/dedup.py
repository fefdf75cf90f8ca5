"""Dedup benchmark: recall on mirror copies and false merges on distinct articles, built from the dev set's
pages, for the SQLite store and the Redis store side by side, and how often the sketches decide a pair otherwise
than the exact Jaccard similarity of its texts would; then lookup + insert throughput and state size at scale,
on simulated articles (signatures only: each a random set of news-length shingle hashes, no text).

Run: ``.venv/bin/python bench/dedup.py [--pages 990] [--scale 100000,1000000] [--stores sqlite,redis]
[--threshold 0.5] [--mirrors 3] [--no-hiredis] [--script-calls 2000]``. With ``--mirrors N`` each article of
the scale run is also recorded at N Press TV-length URLs, one a host. Redis runs on a redis-server of its own
(nothing persisted). ``--no-hiredis`` runs redis-py without its C protocol packer and parser, to measure what
hiredis saves. On Redis the scale run also counts the claim's calls an article (past one: band candidates checked
and let go, keys agreeing by chance). ``--script-calls N`` compares, on one worker and one state, the CPU of a
claim and a commit sent by ``PackedScript`` and by redis-py's ``Script``, in alternating rounds of N articles.
"""

from __future__ import annotations

import sys

if "--no-hiredis" in sys.argv:  # before redis-py is imported (here and in each spawned worker): it looks once
    sys.modules["hiredis"] = None

import argparse
import gzip
import hashlib
import json
import multiprocessing
import random
import resource
import shutil
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import redis  # noqa: E402

from crawler.dedup.identity import content_hash  # noqa: E402
from crawler.dedup.minhash import MinHasher, jaccard, shingle_hashes, shingles_print, sketch_similarity, sketch_values  # noqa: E402
from crawler.distributed.client import redis_client  # noqa: E402
from crawler.distributed.keys import state_key  # noqa: E402
from crawler.distributed.run import RedisRun  # noqa: E402
from crawler.distributed.scripts import CLAIM, COMMIT  # noqa: E402
from crawler.distributed.store import RedisState  # noqa: E402
from crawler.extract.article import ExtractionError, extract_article  # noqa: E402
from crawler.farm.redis_server import local_redis_server  # noqa: E402
from crawler.state.sqlite import SqliteState  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "data" / "extraction-dev"
BOILERPLATE = [
    "SHARE THIS ARTICLE", "Follow us on Telegram and X for the latest updates.",
    "This website can also be accessed at the following alternate addresses: www.example.co.uk",
    "Download our app on Google Play and the App Store.", "Read more: the week in pictures",
    "(Photo by AFP)", "Subscribe to our newsletter for daily headlines.",
]
DISCLAIMER = ("The views expressed in this article are the author's own and do not necessarily reflect the "
              "editorial policy of this publication. Reproduction without permission is prohibited.")


def dev_texts(folder: Path, limit: int) -> list[str]:
    """Clean texts of the dev pages (at least 4 paragraphs and 150 words: articles, not stubs). The dev set
    holds a few pages twice; only the first copy is kept, so that "distinct" pairs really are distinct."""
    annotations = json.loads((folder / "annotations.json").read_text(encoding="utf-8"))
    texts, seen = [], set()
    for name, meta in sorted(annotations.items())[:limit]:
        try:
            html = gzip.decompress((folder / "pages" / name).read_bytes())
            text = extract_article(html, meta.get("url") or "")["text"]
        except (ExtractionError, OSError):
            continue
        if text and text.count("\n") >= 3 and len(text.split()) >= 150 and content_hash(text) not in seen:
            seen.add(content_hash(text))
            texts.append(text)
    return texts


def typos(text: str, rate: float, rng: random.Random) -> str:
    """Replace, delete or double ``rate`` of the words, scattered (typo fixes)."""
    out = []
    for word in text.split(" "):
        roll = rng.random()
        if roll < rate / 3:
            out.append(rng.choice(("corrected", "reportedly", "officials", "said", "2026")))
        elif roll < 2 * rate / 3:
            continue
        elif roll < rate:
            out.extend((word, word))
        else:
            out.append(word)
    return " ".join(out)


def edit(text: str, rate: float, rng: random.Random) -> str:
    """Edit about ``rate`` of the words the way copies of news articles differ: up to 2% scattered typo
    fixes, the rest as rewritten, added or removed sentences (a correction, an update, a trimmed line)."""
    scattered = min(rate, 0.02) * rng.random()
    words = typos(text, scattered, rng).split(" ")
    budget = int(len(words) * (rate - scattered))
    while budget > 0:
        span = min(budget, rng.randint(8, 25))
        start = rng.randrange(max(1, len(words) - span))
        action = rng.choice(("rewrite", "insert", "delete"))
        replacement = [rng.choice(("Officials", "later", "confirmed", "the", "figure", "was", "revised", "update:"))
                       for _ in range(span)]
        if action == "rewrite":
            words[start:start + span] = replacement
        elif action == "insert":
            words[start:start] = replacement
        else:
            del words[start:start + span]
        budget -= span
    return " ".join(words)


def mirror_copy(text: str, rng: random.Random) -> tuple[str, str]:
    """A copy as another mirror or URL variant would serve it: other boilerplate, edits, maybe a caption."""
    rate = rng.uniform(0.01, 0.10)
    paragraphs = edit(text, rate, rng).split("\n")
    paragraphs = [*rng.sample(BOILERPLATE, 2)[:rng.randint(0, 2)], *paragraphs, *rng.sample(BOILERPLATE, rng.randint(1, 3))]
    if rng.random() < 0.3:
        paragraphs.insert(1, "A man walks past a damaged building in the city centre. (Photo by Reuters)")
    return "\n".join(paragraphs), f"edits {rate:.0%}"


def distinct_variants(text: str, other: str) -> list[tuple[str, str]]:
    """Texts of *other* articles that share something with ``text``: a two-paragraph lead, a long quote,
    a standard disclaimer."""
    lead, rest = text.split("\n")[:2], other.split("\n")
    quote = " ".join(max(text.split("\n"), key=len).split()[:80])
    return [
        ("\n".join(lead + rest[2:]), "shares a two-paragraph lead"),
        ("\n".join(rest[:2] + [f'"{quote}"'] + rest[2:]), "quotes a long paragraph"),
        ("\n".join(rest + [DISCLAIMER]), "shares a disclaimer"),
    ]


class Stores:
    """The stores a run compares: a fresh SQLite state or a fresh Redis site state, each a worker's own view."""

    def __init__(self, scratch: Path, redis_url: str | None):
        self.scratch, self.redis_url, self.opened = scratch, redis_url, 0

    def open(self, kind: str, threshold: float = 0.5):
        self.opened += 1
        if kind == "sqlite":
            return SqliteState(self.scratch / f"state-{self.opened}.sqlite3", near_duplicate=threshold)
        site = f"bench{self.opened}"
        run = RedisRun.join(redis_client(self.redis_url, 60), site, "bench", "w1", 3600)
        return RedisState(run.client, site, run, near_duplicate=threshold)


def decide(store, site: str, article_id: str, printed, claim: bool):
    """What the crawl's dedup pipeline asks: SQLite's find_copy, Redis's atomic claim (which also reserves)."""
    if isinstance(store, RedisState):
        return store.lookup(site, article_id, printed, claim=claim)
    return store.find_copy(site, article_id, printed)


def labelled_run(texts: list[str], threshold: float, store, seed: int = 1) -> dict:
    rng = random.Random(seed)
    half = len(texts) // 2
    stored, others = texts[:half], texts[half:]
    site = getattr(store, "site", "dev")
    for number, text in enumerate(stored + [DISCLAIMER * 3]):
        record = {"id": f"{number:020x}", "site": site, "text": text, "content_hash": content_hash(text), "mirror_urls": []}
        printed = store.content_print(text, record["content_hash"])
        decide(store, site, record["id"], printed, claim=True)
        store.mark_emitted(record, "bench", printed)

    def copy_of(number: int, text: str) -> bool:
        match = decide(store, site, "f" * 20, store.content_print(text, content_hash(text)), claim=False)
        return match is not None and match[0] == f"{number:020x}"

    found = sum(copy_of(number, mirror_copy(text, rng)[0]) for number, text in enumerate(stored))
    # not part of the goal: 10% of the words changed one by one, none in spans
    scattered = sum(copy_of(number, typos(text, 0.10, rng)) for number, text in enumerate(stored))
    false_merges, distinct = [], 0
    for text, other in zip(stored, others):
        for variant, kind in distinct_variants(text, other):
            distinct += 1
            if decide(store, site, "f" * 20, store.content_print(variant, content_hash(variant)), claim=False) is not None:
                false_merges.append(kind)
    store.close()
    return {"copies": len(stored), "recall": round(found / len(stored), 4),
            "recall_10pct_scattered_word_edits": round(scattered / len(stored), 4), "distinct_pairs": distinct,
            "false_merges": len(false_merges), "false_merge_kinds": sorted(set(false_merges))}


def sketch_agreement(texts: list[str], threshold: float, seed: int = 1) -> dict:
    """Over every labelled pair (copies, scattered edits, distinct articles): the sketches' estimate against the
    exact Jaccard similarity of the two texts, and the pairs the threshold puts on different sides."""
    rng = random.Random(seed)
    half = len(texts) // 2
    stored, others = texts[:half], texts[half:]
    pairs = [(text, mirror_copy(text, rng)[0]) for text in stored]
    pairs += [(text, typos(text, 0.10, rng)) for text in stored]
    pairs += [(text, variant) for text, other in zip(stored, others) for variant, _ in distinct_variants(text, other)]
    hasher = MinHasher()
    errors, differ = [], 0
    for left, right in pairs:
        a, b = shingle_hashes(left), shingle_hashes(right)
        exact = jaccard(a, b)
        estimate = sketch_similarity(sketch_values(hasher.sketch(a)), sketch_values(hasher.sketch(b)))
        errors.append(estimate - exact)
        differ += (exact >= threshold) != (estimate >= threshold)
    errors = np.array(errors)
    return {"pairs": len(pairs), "sketch_error_sd": round(float(errors.std()), 4),
            "sketch_error_max": round(float(np.abs(errors).max()), 4), "verdicts_differing_from_exact": int(differ)}


def simulated_article(number: int) -> tuple[np.ndarray, str]:
    """What a store sees of a news-length article, no text: a set of 250-550 distinct 32-bit shingle hashes (an
    article of 250-550 words) and a content hash; the same for the same number."""
    rng = np.random.default_rng(number)
    shingles = np.unique(rng.integers(0, 2**32, size=int(rng.integers(250, 551)), dtype=np.uint32))
    return shingles, hashlib.sha1(shingles.tobytes()).hexdigest()


MIRROR_HOSTS = ("www.presstv.ir", "www.presstv.co.uk", "presstv.tv", "www.presstv.com")


def mirror_urls(number: int, mirrors: int) -> list[str]:
    """The article's URLs on ``mirrors`` hosts, as long as Press TV's (a date, an id, a slug of the title)."""
    slug = f"iran-says-talks-on-the-nuclear-issue-will-resume-{number}"
    return [f"https://{host}/Detail/2026/{1 + number % 12}/{1 + number % 28}/{700000 + number}/{slug}"
            for host in MIRROR_HOSTS[:mirrors]]


def published(number: int) -> str:
    """A thousand articles a day, from the start of 2020."""
    return time.strftime("%Y-%m-%dT%H:%M:00+03:30", time.gmtime(1577836800 + number * 86.4))


def emitted_record(site: str, number: int, digest: str, mirrors: int) -> dict:
    """What the crawl commits of simulated article ``number`` (recorded at ``mirrors`` URLs)."""
    return {"id": f"{number:020x}", "site": site, "content_hash": digest, "revision": 1, "published": published(number),
            "modified": None, "mirror_urls": mirror_urls(number, mirrors)}


def scale_run(count: int, stores: Stores, kind: str, mirrors: int = 0, workers: int = 1) -> dict:
    """Fingerprint (from shingles) + lookup + insert ``count`` simulated articles into a fresh state: the SQLite
    store writes in batches, as a crawl writes it; on Redis each of ``workers`` processes claims and commits its
    share of the articles one at a time, as a crawl's workers do. Articles are made outside the clock; the rate is
    the articles over the longest worker's time."""
    store = stores.open(kind)
    site = getattr(store, "site", "bench")
    memory_before = store.client.info("memory")["used_memory"] if kind == "redis" else 0
    server_before = server_cpu(store) if kind == "redis" else 0.0
    shares = [range(start, count, workers) for start in range(workers)]
    if workers == 1:
        timings = [work(store, site, kind, shares[0], mirrors)]
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            timings = pool.starmap(redis_worker, [(stores.redis_url, site, share, mirrors, f"w{n}") for n, share in enumerate(shares)])
    elapsed = max(seconds for seconds, _ in timings)
    last = [stretch for _, stretch in timings]
    cpu = {"client_cpu_ms_per_article": round(1000 * sum(s["cpu"] for s in last) / sum(s["articles"] for s in last), 3)}
    if kind == "redis":
        cpu["server_cpu_ms_per_article"] = round(1000 * (server_cpu(store) - server_before) / count, 3)
        cpu["claim_calls_per_article_last_tenth"] = round(sum(s["claims"] for s in last) / sum(s["articles"] for s in last), 3)
    size = sqlite_size(store, count, mirrors) if kind == "sqlite" else redis_size(store, count, memory_before)
    store.close()
    return {"store": kind, "workers": workers, "articles": count, "mirror_urls_per_article": mirrors,
            "articles_per_s": round(count / elapsed),
            "articles_per_s_last_tenth": round(sum(s["articles"] for s in last) / max(s["seconds"] for s in last)),
            "lookup_ms_last_tenth": round(1000 * sum(s["lookups"] for s in last) / sum(s["articles"] for s in last), 3),
            **cpu, **size, "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def server_cpu(store: RedisState) -> float:
    """Seconds of CPU the redis-server has used (its own threads, user and system)."""
    used = store.client.info("cpu")
    return used["used_cpu_user"] + used["used_cpu_sys"]


def redis_worker(url: str, site: str, numbers: range, mirrors: int, name: str) -> tuple[float, dict]:
    """One worker process of a Redis scale run: its share of the articles on the shared site state."""
    run = RedisRun.join(redis_client(url, 60), site, "bench", name, 3600)
    store = RedisState(run.client, site, run)
    return work(store, site, "redis", numbers, mirrors)


def empty_stretch() -> dict:
    """A scale run's counts since its last progress line."""
    return {"articles": 0, "seconds": 0.0, "lookups": 0.0, "cpu": 0.0, "claims": 0}


class CountedCalls:
    """A script, its calls counted: more than one claim call an article is a band candidate checked and let go."""

    def __init__(self, script):
        self.script, self.calls = script, 0

    def __call__(self, **arguments):
        self.calls += 1
        return self.script(**arguments)


def work(store, site: str, kind: str, numbers: range, mirrors: int, chunk: int = 10_000) -> tuple[float, dict]:
    """(seconds spent, the last tenth's articles, seconds, lookup seconds, CPU seconds and claim calls) of one
    process's articles."""
    elapsed, done = 0.0, 0
    claims = CountedCalls(store.scripts.claim) if kind == "redis" else None
    if claims:
        store.scripts.claim = claims
    stretch = empty_stretch()
    last_stretch = stretch
    tenth = max(chunk, len(numbers) // 10)
    for first in range(0, len(numbers), chunk):
        batch = [(number, *simulated_article(number)) for number in numbers[first:first + chunk]]
        started, lookups, cpu_started, calls_before = time.perf_counter(), 0.0, time.process_time(), claims.calls if claims else 0
        for number, shingles, digest in batch:
            printed = shingles_print(shingles, digest, store.hasher)
            lookup_start = time.perf_counter()
            decide(store, site, f"{number:020x}", printed, claim=True)
            lookups += time.perf_counter() - lookup_start
            store.mark_emitted(emitted_record(site, number, digest, mirrors), "bench", printed)
        done += len(batch)
        if done == len(numbers) and kind == "sqlite":
            store.flush()  # the last buffered articles are part of the work
        spent = time.perf_counter() - started
        elapsed += spent
        stretch = {"articles": stretch["articles"] + len(batch), "seconds": stretch["seconds"] + spent,
                   "lookups": stretch["lookups"] + lookups, "cpu": stretch["cpu"] + time.process_time() - cpu_started,
                   "claims": stretch["claims"] + (claims.calls - calls_before if claims else 0)}
        if done % tenth < chunk or done == len(numbers):
            print(f"  {kind} {done:>11,} articles: {stretch['articles'] / stretch['seconds']:,.0f}/s over the last "
                  f"{stretch['articles']:,}, lookup {1000 * stretch['lookups'] / stretch['articles']:.3f} ms"
                  + (f", {stretch['claims'] / stretch['articles']:.3f} claim calls an article" if claims else ""), file=sys.stderr)
            last_stretch, stretch = stretch, empty_stretch()
    return elapsed, last_stretch


def script_calls(stores: Stores, articles: int, rounds: int = 16) -> dict:
    """Worker CPU (µs) an article of the claim and the commit alone, the print made beforehand, on one state grown
    to 30,000 articles: rounds of ``articles`` alternate between the scripts as the store registers them
    (``PackedScript``) and redis-py's ``Script``; medians over the rounds, so that the machine's drift falls on both."""
    store = stores.open("redis")
    packed = store.scripts.claim, store.scripts.commit_script  # before ``work`` counts the claim's calls
    work(store, store.site, "redis", range(30_000), 0)
    ways = {"packed_script": packed,
            "redis_py_script": (store.client.register_script(CLAIM), store.client.register_script(COMMIT))}
    spent: dict[str, list[float]] = {way: [] for way in ways}
    for turn in range(rounds):
        way = list(ways)[turn % 2]
        store.scripts.claim, store.scripts.commit_script = ways[way]
        numbers = range(30_000 + turn * articles, 30_000 + (turn + 1) * articles)
        batch = [(number, *simulated_article(number)) for number in numbers]
        printed = [(number, digest, shingles_print(shingles, digest, store.hasher)) for number, shingles, digest in batch]
        started = time.process_time()
        for number, digest, content_print in printed:
            decide(store, store.site, f"{number:020x}", content_print, claim=True)
            store.mark_emitted(emitted_record(store.site, number, digest, 0), "bench", content_print)
        spent[way].append(1e6 * (time.process_time() - started) / articles)
    store.close()
    medians = {f"{way}_cpu_us_per_article": round(statistics.median(times), 1) for way, times in spent.items()}
    return {"script_calls": articles * rounds, **medians,
            "ratio": round(medians["redis_py_script_cpu_us_per_article"] / medians["packed_script_cpu_us_per_article"], 2)}


def sqlite_size(store: SqliteState, count: int, mirrors: int) -> dict:
    """The state file per article, and per table (``dbstat``), URLs apart."""
    store.flush()
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    tables = dict(store.db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
    size = store.path.stat().st_size
    urls = tables.get("article_urls", 0)
    return {"state_bytes_per_article": round(size / count), "state_bytes_per_article_beyond_urls": round((size - urls) / count),
            "state_bytes_per_url": round(urls / (count * mirrors)) if mirrors else None,
            "bytes_per_article_by_table": {name: round(b / count, 1) for name, b in tables.items() if b / count >= 1}}


def key_family(key: bytes, site: str) -> str:
    """``articles``, ``bands``...; the ids of each publication day are one family, ``published:<day>``, and a run's
    keys are ``<run>:<name>``."""
    name = key.decode()[len(state_key(site, "")):]
    if ":" not in name:
        return name
    return "published:<day>" if name.startswith("published:") else "<run>:" + name.rsplit(":", 1)[1]


def redis_size(store: RedisState, count: int, memory_before: int) -> dict:
    """Redis memory per article: ``INFO memory`` (what the server holds more than before the run) and
    ``MEMORY USAGE`` of every key of the site (all fields counted), per key family."""
    families: dict[str, int] = {}
    for key in store.client.scan_iter(match=state_key(store.site, "*"), count=1000):
        families[key_family(key, store.site)] = families.get(key_family(key, store.site), 0) + store.client.memory_usage(key, samples=0)
    memory = store.client.info("memory")
    return {"redis_bytes_per_article_info_memory": round((memory["used_memory"] - memory_before) / count),
            "redis_bytes_per_article_memory_usage": round(sum(families.values()) / count),
            "redis_bytes_per_article_by_family": {name: round(b / count, 1) for name, b in sorted(families.items())},
            "redis_rss_mb": round(memory["used_memory_rss"] / 2**20)}


@contextmanager
def redis_server(wanted: bool):
    """A redis-server of its own for the Redis store's runs (None when no run needs one)."""
    if not wanted:
        yield None
        return
    binary = shutil.which("redis-server") or sys.exit("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory() as scratch, local_redis_server(binary, scratch) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    parser.add_argument("--pages", type=int, default=990)
    parser.add_argument("--scale", default="100000,1000000", help="comma-separated article counts ('' to skip)")
    parser.add_argument("--stores", default="sqlite,redis", help="comma-separated: sqlite, redis")
    parser.add_argument("--redis-workers", default="1,2", help="comma-separated numbers of worker processes on Redis")
    parser.add_argument("--threshold", type=float, nargs="*", default=[0.4, 0.5, 0.6])
    parser.add_argument("--no-hiredis", action="store_true", help="redis-py without hiredis (what hiredis saves)")
    parser.add_argument("--script-calls", type=int, default=0, metavar="N",
                        help="compare PackedScript with redis-py's Script in rounds of N articles (default: not)")
    parser.add_argument("--mirrors", type=int, default=0, choices=range(len(MIRROR_HOSTS) + 1),
                        help="URLs (hosts) each scale-run article is recorded at (default 0)")
    args = parser.parse_args()
    kinds = [kind for kind in args.stores.split(",") if kind]
    if args.script_calls and "redis" not in kinds:
        parser.error("--script-calls needs the redis store")
    texts = dev_texts(args.dev_set, args.pages) if args.pages else []
    print(f"labelled set: {len(texts)} dev-set articles", file=sys.stderr)
    with tempfile.TemporaryDirectory() as scratch, redis_server("redis" in kinds) as url:
        stores = Stores(Path(scratch), url)
        for threshold in args.threshold if texts else ():
            print(json.dumps({"threshold": threshold, **sketch_agreement(texts, threshold)}), flush=True)
            for kind in kinds:
                print(json.dumps({"threshold": threshold, "store": kind, **labelled_run(texts, threshold, stores.open(kind, threshold))}),
                      flush=True)
        if args.script_calls:
            print(json.dumps(script_calls(stores, args.script_calls)), flush=True)
        for count in filter(None, args.scale.split(",")):
            for kind, workers in [(kind, int(n)) for kind in kinds for n in (args.redis_workers.split(",") if kind == "redis" else [1])]:
                if url:
                    redis.Redis.from_url(url).flushall()
                print(json.dumps(scale_run(int(count), stores, kind, args.mirrors, workers)), flush=True)
                for leftover in Path(scratch).glob("state-*"):
                    leftover.unlink()


if __name__ == "__main__":
    main()
