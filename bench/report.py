"""Report benchmark: `newsmirror report` over a state of 100 runs of each of 10 sites.

Run: ``.venv/bin/python bench/report.py [--sites 10] [--runs 100] [--articles 10]``. A state is made as crawls would
leave it: each site has three hosts (one down, seized or throttled now and then), a run every six hours (25 days),
``--articles`` new records per run in its run file (farm article texts, some truncated, paywalled or short).
Printed: the whole command's wall time (Python start and matplotlib's import included), best of three, and the
time inside (state read, run files read, plots drawn, page written), with the page's size.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.farm.sites import make_articles  # noqa: E402
from crawler.output.report import RUNS_PER_SITE, render, report_data  # noqa: E402
from crawler.reporting.outcome import HOST_STATES  # noqa: E402
from crawler.state.sqlite import SqliteState  # noqa: E402

FIRST_RUN = datetime(2026, 11, 1, tzinfo=timezone.utc)


def run_summary(rng: random.Random, hosts: list[str], new: int) -> dict:
    """A run's stored summary (``crawler.reporting.outcome.run_summary``'s layout) with hosts in random states."""
    states = {host: rng.choices(HOST_STATES[:5], weights=(90, 3, 4, 2, 1))[0] for host in hosts}
    down = {host: "seizure notice" if state == "seized" else "connection refused"
            for host, state in states.items() if state in ("down", "seized")}
    return {"listed": new + 30, "new": new, "known": 30, "revised": rng.randint(0, 2), "duplicates": 0, "pending": 0,
            "lost": 0, "throttled": rng.randint(0, 5) if "throttled" in states.values() else 0,
            "failed_requests": 4 * len(down), "failovers": 2 * len(down), "archive_fetches": rng.randint(0, 1) * len(down),
            "hosts_up": [h for h, s in states.items() if s == "up"], "hosts_down": down, "mirrors_admitted": [],
            "hosts": states, "on_hold": None, "stale": None, "exit_status": 0}


def make_state(output: Path, sites: int, runs: int, articles: int) -> None:
    rng = random.Random(25)
    texts = ["\n".join(article.paragraphs) for article in make_articles(200, seed=3)]
    state = SqliteState(output / "state.sqlite3")
    for number in range(sites):
        site = f"site{number:02d}"
        hosts = [f"www.{site}.{tld}" for tld in ("ir", "co.uk", "tv")]
        (output / site).mkdir(parents=True)
        for run in range(runs):
            started = FIRST_RUN + timedelta(hours=6 * run, seconds=number)  # run ids are unique across sites
            run_id = started.strftime("%Y%m%dT%H%M%S%fZ")
            state.start_run(run_id, site, started.isoformat(timespec="seconds"))
            new = max(0, articles + rng.randint(-3, 3))
            with (output / site / f"{run_id}.jsonl").open("w") as lines:
                for index in range(new):
                    text = texts[rng.randrange(len(texts))]
                    record = {"id": f"{number:04d}{run:06d}{index:04d}", "site": site, "url": f"http://{hosts[0]}/a/{run}/{index}",
                              "title": f"Article {index} of run {run}", "text": text, "published": started.isoformat(),
                              "truncated": rng.random() < 0.02, "paywalled": rng.random() < 0.05,
                              "word_count": len(text.split()) if rng.random() > 0.04 else 80, "schema_version": "1.3"}
                    lines.write(json.dumps(record, ensure_ascii=False) + "\n")
            finished = started + timedelta(seconds=rng.uniform(20, 200))
            state.finish_run(run_id, finished.isoformat(timespec="seconds"), "finished", run_summary(rng, hosts, new))
    state.close()


def timed_inside(output: Path) -> tuple[float, int]:
    started = time.perf_counter()
    state = SqliteState(output / "state.sqlite3", read_only=True)
    histories = {site: state.run_history(site, RUNS_PER_SITE) for site in state.sites_with_runs()}
    state.close()
    page = render(report_data(histories, output, 30, print), str(output / "state.sqlite3"), datetime.now(timezone.utc))
    (output / "inside.html").write_text(page, encoding="utf-8")
    return time.perf_counter() - started, len(page.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--articles", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "output"
        make_state(output, args.sites, args.runs, args.articles)
        records = sum(1 for path in output.glob("*/*.jsonl") for _ in path.open())
        walls = []
        for _ in range(3):
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "crawler.cli", "report", "--output", str(output)], cwd=ROOT,
                                    capture_output=True, text=True)
            walls.append(time.perf_counter() - started)
            if result.returncode:
                sys.exit(result.stderr)
        inside, size = timed_inside(output)
    print(json.dumps({"sites": args.sites, "runs_per_site": args.runs, "records": records,
                      "command_seconds_best_of_3": round(min(walls), 2), "inside_seconds": round(inside, 2),
                      "page_kb": round(size / 1024)}, indent=1))
    print(f"newsmirror report over {args.runs} runs x {args.sites} sites ({records} records): "
          f"{min(walls):.2f} s for the command, {inside:.2f} s inside; a {size / 1024:.0f} KB page")


if __name__ == "__main__":
    main()
