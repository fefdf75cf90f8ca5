"""Extraction and cleaning in a real crawl of the farm: the process pool, its in-process fallback, and a site
whose article bodies carry boilerplate (share bar, mirror notice, promos, most-read, a house blurb)."""

import re
import sqlite3

from crawler.clean.layers import block_key

BOILERPLATE = re.compile(r"Share on|alternate addresses|www\.harbornews|Roku|Google Play|subscribe|Most Read", re.I)
HOUSE_BLURB = "Harbor News has reported from the harbours of the region since 1998, funded by its readers."


def stat(stderr: bytes, name: str) -> int:
    match = re.search(rf"'{re.escape(name)}': (\d+)", stderr.decode())
    return int(match[1]) if match else 0


def test_pool_extracts_in_other_processes_and_in_process_fallback_gives_same_records(farm_run):
    pooled = farm_run.crawl("-v")  # -v: the stats dump in the log
    assert pooled.returncode == 0, pooled.stderr.decode()[-3000:]
    pooled_records = farm_run.records()
    assert len(pooled_records) == len(farm_run.site.articles)
    assert stat(pooled.stderr, "newsmirror/extract/in_worker") == len(pooled_records)
    assert stat(pooled.stderr, "newsmirror/extract/in_process") == 0

    farm_run.output = farm_run.workdir / "in-process"
    single = farm_run.crawl("-v", "-s", "NEWSMIRROR_EXTRACT_WORKERS=0")
    assert single.returncode == 0, single.stderr.decode()[-3000:]
    assert stat(single.stderr, "newsmirror/extract/in_process") == len(pooled_records)
    assert stat(single.stderr, "newsmirror/extract/in_worker") == 0

    def comparable(records):
        return sorted(({k: v for k, v in r.items() if k != "fetched_at"} for r in records), key=lambda r: r["id"])

    assert comparable(farm_run.records()) == comparable(pooled_records)


def test_site_boilerplate_inside_the_body_is_cleaned_and_the_template_persists(farm_factory):
    farm_run = farm_factory(articles=15, inline_boilerplate=True)
    # the built-in rules and the learned template alone: no profile clean rules
    farm_run.profile.write_text(farm_run.site.profile_toml().split("\n\n[harbor.clean]")[0] + "\n")
    result = farm_run.crawl("-s", "NEWSMIRROR_TEMPLATE_THRESHOLD=5")
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    records = farm_run.records()
    by_title = {a.title: a for a in farm_run.site.articles}
    assert sorted(r["title"] for r in records) == sorted(by_title)
    with_blurb = 0
    for record in records:
        blocks = record["text"].split("\n")
        body = [b for b in blocks if b != HOUSE_BLURB]
        assert body == by_title[record["title"]].paragraphs  # complete, in order, nothing else
        assert not any(BOILERPLATE.search(b) for b in blocks)
        with_blurb += len(blocks) - len(body)
    assert with_blurb == 4  # only the articles cleaned before it had been seen five times

    db = sqlite3.connect(farm_run.output / "state.sqlite3")
    learned = dict(db.execute("SELECT block_key, articles FROM site_templates WHERE site = 'harbor'").fetchall())
    assert learned[block_key(HOUSE_BLURB)] == 15
    # a later scrape of one of the site's URLs uses the learned template; without the state it cannot
    article = farm_run.site.articles[0]
    url = f"http://{farm_run.site.hosts[1]}{article.path}"
    scrape = ("scrape", url, "--sites", str(farm_run.profile))
    with_state = farm_run.cli(*scrape, "-s", f"NEWSMIRROR_STATE={farm_run.output / 'state.sqlite3'}")
    without_state = farm_run.cli(*scrape, "-s", f"NEWSMIRROR_STATE={farm_run.workdir / 'none.sqlite3'}")
    assert with_state.returncode == 0 and without_state.returncode == 0, with_state.stderr.decode()[-2000:]
    assert HOUSE_BLURB not in with_state.stdout.decode()
    assert HOUSE_BLURB in without_state.stdout.decode()
