"""Dedup benchmark: recall on mirror copies and false merges on distinct articles, built from the dev set's
pages; then fingerprint + lookup + insert throughput and state size at scale, on synthetic texts.

Run: ``.venv/bin/python bench/dedup.py [--pages 990] [--scale 100000,1000000] [--threshold 0.5] [--mirrors 3]``.
With ``--mirrors N`` each article of the scale run is also recorded at N Press TV-length URLs, one a host.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.dedup.identity import content_hash  # noqa: E402
from crawler.extract.article import ExtractionError, extract_article  # noqa: E402
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


def labelled_run(texts: list[str], threshold: float, seed: int = 1) -> dict:
    rng = random.Random(seed)
    half = len(texts) // 2
    stored, others = texts[:half], texts[half:]
    with tempfile.TemporaryDirectory() as scratch:
        state = SqliteState(Path(scratch) / "state.sqlite3", near_duplicate=threshold)
        for number, text in enumerate(stored + [DISCLAIMER * 3]):
            record = {"id": f"{number:020x}", "site": "dev", "text": text, "content_hash": content_hash(text), "mirror_urls": []}
            state.mark_emitted(record, "bench", state.content_print(text, record["content_hash"]))
        found = 0
        for number, text in enumerate(stored):
            copy, _ = mirror_copy(text, rng)
            match = state.find_copy("dev", "f" * 20, state.content_print(copy, content_hash(copy)))
            found += match is not None and match[0] == f"{number:020x}"
        scattered = 0  # not part of the goal: 10% of the words changed one by one, none in spans
        for number, text in enumerate(stored):
            copy = typos(text, 0.10, rng)
            match = state.find_copy("dev", "f" * 20, state.content_print(copy, content_hash(copy)))
            scattered += match is not None and match[0] == f"{number:020x}"
        false_merges, distinct = [], 0
        for text, other in zip(stored, others):
            for variant, kind in distinct_variants(text, other):
                distinct += 1
                if state.find_copy("dev", "f" * 20, state.content_print(variant, content_hash(variant))) is not None:
                    false_merges.append(kind)
        state.close()
    return {"copies": len(stored), "recall": round(found / len(stored), 4),
            "recall_10pct_scattered_word_edits": round(scattered / len(stored), 4), "distinct_pairs": distinct,
            "false_merges": len(false_merges), "false_merge_kinds": sorted(set(false_merges))}


FUNCTION_WORDS = ("the of and to in a is that for on said with was as by at from it his an be has are have "
                  "but were not this who they had which will their been would after also its more one").split()


def synthetic_texts(count: int, seed: int = 7):
    """Random news-length texts: 250-550 words, 45% common function words, the rest from 60,000 words."""
    rng = random.Random(seed)
    content = [f"w{n}" for n in range(60_000)]
    for _ in range(count):
        words = [rng.choice(FUNCTION_WORDS) if rng.random() < 0.45 else rng.choice(content)
                 for _ in range(rng.randint(250, 550))]
        yield "\n".join(" ".join(words[i:i + 60]) for i in range(0, len(words), 60))


MIRROR_HOSTS = ("www.presstv.ir", "www.presstv.co.uk", "presstv.tv", "www.presstv.com")


def mirror_urls(number: int, text: str, mirrors: int) -> list[str]:
    """The article's URLs on ``mirrors`` hosts, as long as Press TV's (a date, an id, a slug of the title)."""
    slug = "-".join(text.split()[:8])
    return [f"https://{host}/Detail/2026/{1 + number % 12}/{1 + number % 28}/{700000 + number}/{slug}"
            for host in MIRROR_HOSTS[:mirrors]]


def scale_run(count: int, mirrors: int = 0, chunk: int = 10_000) -> dict:
    """Fingerprint + lookup + insert ``count`` articles into an SQLite state (written in batches, as a crawl
    writes it), each seen at ``mirrors`` URLs; texts are made outside the clock."""
    texts = synthetic_texts(count)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "state.sqlite3"
        state = SqliteState(path)
        elapsed, number = 0.0, 0
        stretch = {"articles": 0, "seconds": 0.0, "lookups": 0.0}  # since the last progress line
        last_stretch = stretch
        while number < count:
            batch = [next(texts) for _ in range(min(chunk, count - number))]
            digests = [content_hash(text) for text in batch]  # extraction's work, not dedup's
            started, lookups = time.perf_counter(), 0.0
            for text, digest in zip(batch, digests):
                printed = state.content_print(text, digest)
                lookup_start = time.perf_counter()
                state.find_copy("bench", f"{number:020x}", printed)
                lookups += time.perf_counter() - lookup_start
                state.mark_emitted({"id": f"{number:020x}", "site": "bench", "text": text, "content_hash": digest,
                                    "mirror_urls": mirror_urls(number, text, mirrors)}, "bench", printed)
                number += 1
            if number == count:
                state.flush()  # the last buffered articles are part of the work
            spent = time.perf_counter() - started
            elapsed += spent
            stretch = {"articles": stretch["articles"] + len(batch), "seconds": stretch["seconds"] + spent,
                       "lookups": stretch["lookups"] + lookups}
            if number % max(chunk, count // 10) == 0 or number == count:
                print(f"  {number:>9,} articles: {stretch['articles'] / stretch['seconds']:,.0f}/s over the last "
                      f"{stretch['articles']:,}, lookup {1000 * stretch['lookups'] / stretch['articles']:.3f} ms", file=sys.stderr)
                last_stretch, stretch = stretch, {"articles": 0, "seconds": 0.0, "lookups": 0.0}
        state.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        tables = dict(state.db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
        text_bytes = state.db.execute("SELECT SUM(length(text)) FROM article_texts").fetchone()[0]  # as stored
        state.close()
        size = path.stat().st_size
    urls = tables.get("article_urls", 0)
    beyond_text = size - tables.get("article_texts", 0) - urls
    return {"articles": count, "mirror_urls_per_article": mirrors, "articles_per_s": round(count / elapsed),
            "articles_per_s_last_tenth": round(last_stretch["articles"] / last_stretch["seconds"]), "state_bytes": size,
            "state_bytes_per_article_beyond_text_and_urls": round(beyond_text / count),
            "state_bytes_per_url": round(urls / (count * mirrors)) if mirrors else None,
            "bytes_per_article_by_table": {name: round(b / count, 1) for name, b in tables.items() if b / count >= 1},
            "compressed_text_bytes_per_article": round(text_bytes / count),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    parser.add_argument("--pages", type=int, default=990)
    parser.add_argument("--scale", default="100000,1000000", help="comma-separated article counts ('' to skip)")
    parser.add_argument("--threshold", type=float, nargs="*", default=[0.4, 0.5, 0.6])
    parser.add_argument("--mirrors", type=int, default=0, choices=range(len(MIRROR_HOSTS) + 1),
                        help="URLs (hosts) each scale-run article is recorded at (default 0)")
    args = parser.parse_args()
    texts = dev_texts(args.dev_set, args.pages)
    print(f"labelled set: {len(texts)} dev-set articles", file=sys.stderr)
    for threshold in args.threshold:
        print(json.dumps({"threshold": threshold, **labelled_run(texts, threshold)}), flush=True)
    for count in filter(None, args.scale.split(",")):
        print(json.dumps(scale_run(int(count), args.mirrors)), flush=True)


if __name__ == "__main__":
    main()
