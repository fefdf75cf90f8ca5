"""Distributed benchmark: one vs two newsmirror workers on one Redis frontier, on the same farm site; and Redis
memory per article at scale.

Run: ``.venv/bin/python bench/distributed.py [--articles 2000] [--simulate 100000]``. Starts its own redis-server
on a free loopback port, then crawls a fresh copy of the farm site with 1 worker and with 2 (extraction included,
same settings as bench/crawl.py); prints articles/s, the speed-up, the workers' CPU seconds, how much parallel
CPU the machine really has (two busy processes vs one), and Redis memory per article (INFO memory after the crawl
minus before; the last worker has deleted the run's own keys by then). Then ``--simulate`` articles go through
a worker's claim and commit (bench/dedup.py's simulated articles, each at three Press TV-length URLs, a thousand
a day): Redis bytes per article by ``INFO memory`` and by ``MEMORY USAGE`` of each key family, projected to 100
million articles.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from crawl import parallel_capacity  # noqa: E402  (bench/crawl.py: the same measure of the machine)
from dedup import Stores, scale_run  # noqa: E402  (bench/dedup.py: simulated articles, Redis bytes per key family)

from crawler.farm.proxy import MirrorFarm  # noqa: E402
from crawler.farm.redis_server import local_redis_server  # noqa: E402
from crawler.farm.sites import harbor_news  # noqa: E402

SETTINGS = {"AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS": "16", "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
            "LOG_LEVEL": "WARNING"}


def crawl(workers: int, articles: int, url: str, scratch: Path) -> dict:
    """Crawl a fresh farm site with ``workers`` processes on Redis ``url``: seconds, articles, memory."""
    client = redis.Redis.from_url(url)
    client.flushall()
    before = client.info("memory")["used_memory"]
    site = harbor_news(articles=articles, hosts=3)
    site.section_page_size = 50
    output = scratch / f"out-{workers}"
    with MirrorFarm([site]) as farm:
        profile = scratch / "sites.toml"
        profile.write_text(site.profile_toml())
        env = {**os.environ, "http_proxy": farm.proxy_url, "no_proxy": ""}
        settings = [arg for name, value in SETTINGS.items() for arg in ("-s", f"{name}={value}")]
        started = time.perf_counter()
        processes = [subprocess.Popen([sys.executable, "-m", "crawler.cli", "crawl", site.id, "--sites", str(profile),
                                       "--output", str(output), "--redis", url, "-s", f"NEWSMIRROR_WORKER=w{n}", *settings],
                                      env=env, cwd=ROOT) for n in range(workers)]
        usage = [os.wait4(process.pid, 0) for process in processes]
        seconds = time.perf_counter() - started
        if any(status for _, status, _ in usage):
            raise SystemExit("a worker failed")
    records = sum(1 for path in (output / site.id).glob("*.jsonl") for _ in path.open())
    used = client.info("memory")["used_memory"] - before
    return {"workers": workers, "articles": records, "seconds": round(seconds, 2),
            "articles_per_s": round(records / seconds, 1), "redis_bytes_per_article": round(used / records),
            "worker_cpu_seconds": [round(rusage.ru_utime + rusage.ru_stime, 1) for _, _, rusage in usage]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--simulate", type=int, default=100_000, help="articles of the memory simulation (0: none)")
    args = parser.parse_args()
    binary = shutil.which("redis-server") or sys.exit("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory() as scratch, local_redis_server(binary, scratch) as url:
        one, two = (crawl(workers, args.articles, url, Path(scratch)) for workers in (1, 2))
        redis.Redis.from_url(url).flushall()
        simulated = scale_run(args.simulate, Stores(Path(scratch), url), "redis", mirrors=3) if args.simulate else None
    result = {"one_worker": one, "two_workers": two, "cpu_parallelism": parallel_capacity(),
              "speedup_two_vs_one": round(two["articles_per_s"] / one["articles_per_s"], 2),
              "redis_mib_per_million_articles": round(one["redis_bytes_per_article"] * 1e6 / 2**20)}
    if simulated:
        result["simulated"] = {**simulated, "projected_gib_per_100_million_articles": {
            "info_memory": round(simulated["redis_bytes_per_article_info_memory"] * 1e8 / 2**30, 1),
            "memory_usage": round(simulated["redis_bytes_per_article_memory_usage"] * 1e8 / 2**30, 1)}}
    print(json.dumps(result, indent=2))
    print(f"1 worker {one['articles_per_s']} articles/s, 2 workers {two['articles_per_s']} articles/s: "
          f"x{result['speedup_two_vs_one']}; Redis keeps {one['redis_bytes_per_article']} bytes per article "
          f"(~{result['redis_mib_per_million_articles']} MiB per million); this machine runs two CPU-bound "
          f"processes x{result['cpu_parallelism']} as fast as one")
    if simulated:
        print(f"{args.simulate:,} simulated articles: Redis {simulated['redis_bytes_per_article_info_memory']} bytes per article "
              f"(INFO memory), {simulated['redis_bytes_per_article_memory_usage']} (MEMORY USAGE: "
              f"{simulated['redis_bytes_per_article_by_family']}); 100 million articles: "
              f"{result['simulated']['projected_gib_per_100_million_articles']['info_memory']} GiB")


if __name__ == "__main__":
    main()
