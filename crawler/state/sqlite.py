"""Crawl state in SQLite: emitted articles, their content prints (exact hash, MinHash bands, sketch),
every URL each was seen at, learned site templates, discovered mirrors, and the runs. One file serves every site
(``output/state.sqlite3``); texts stay in the run files."""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
import time
from pathlib import Path

from crawler.dedup.identity import BY_ID, BY_TEXT, Copy, find_copy, hash64, idkey
from crawler.dedup.minhash import ContentPrint, ContentPrinter, MinHasher, content_print, unpack_text
from crawler.reporting.outcome import EXIT_OK, RUN_TOTALS
from crawler.state.runfile import run_file_records
from crawler.state.store import PendingArticle, Revision, pending_entry, replay

logger = logging.getLogger(__name__)

# every URL an article was seen at, keyed by its idkey in one B-tree: the URL + ~30 bytes
ARTICLE_URLS_COLUMNS = "(id BLOB NOT NULL, url TEXT NOT NULL, PRIMARY KEY (id, url)) WITHOUT ROWID"
# the LSH band index, in two tables of these columns (``band_range_end``): an article's num under each band key
LSH_BANDS_COLUMNS = "(band INTEGER NOT NULL, num INTEGER NOT NULL, PRIMARY KEY (band, num)) WITHOUT ROWID"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS articles (
    num INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: bands and sketches refer to it
    id BLOB NOT NULL UNIQUE,  -- the 20 hex digits of the article id as 10 bytes (idkey)
    site TEXT NOT NULL,
    hash64 INTEGER,
    revision INTEGER NOT NULL DEFAULT 1,
    published TEXT,
    modified TEXT
);
CREATE TABLE IF NOT EXISTS listing_validators (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT
);
CREATE TABLE IF NOT EXISTS lsh_bands {LSH_BANDS_COLUMNS};
CREATE TABLE IF NOT EXISTS lsh_bands_recent {LSH_BANDS_COLUMNS};  -- new entries, moved into lsh_bands a key range a flush
CREATE TABLE IF NOT EXISTS article_sketches (
    num INTEGER PRIMARY KEY,
    sketch BLOB NOT NULL  -- 256 bytes: MinHasher.sketch of the clean text
);
CREATE TABLE IF NOT EXISTS article_urls {ARTICLE_URLS_COLUMNS};
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT,
    summary TEXT  -- JSON: the run's counts and exit status (RUN_SUMMARY), once it ended
);
CREATE INDEX IF NOT EXISTS runs_by_site ON runs (site, started_at);
CREATE TABLE IF NOT EXISTS pending_articles (
    site TEXT NOT NULL,
    key TEXT NOT NULL,  -- the article's mirror key
    entry TEXT NOT NULL,  -- JSON: URLs, reason, tries, first_seen, last_seen
    PRIMARY KEY (site, key)
);
CREATE TABLE IF NOT EXISTS site_holds (
    site TEXT PRIMARY KEY,
    entry TEXT NOT NULL  -- JSON: why the site is not asked (banned, throttled), by which host, since and until when
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS discovered_hosts (
    site TEXT NOT NULL,
    host TEXT NOT NULL,
    status TEXT NOT NULL,  -- candidate, admitted or rejected
    entry TEXT NOT NULL,  -- JSON: how, where and when it was found; the verification's verdict and evidence
    PRIMARY KEY (site, host)
);
CREATE TABLE IF NOT EXISTS site_templates (
    site TEXT NOT NULL,
    block_key TEXT NOT NULL,
    articles INTEGER NOT NULL,
    PRIMARY KEY (site, block_key)
);
"""

BAND_KEY_START, BAND_KEY_END = -(1 << 31), 1 << 31  # band keys are signed 32-bit integers (MinHasher.band_keys)
BAND_KEYS = BAND_KEY_END - BAND_KEY_START

SCHEMA_TABLES = {match[1]: match[0] for match in re.finditer(r"CREATE TABLE IF NOT EXISTS (\w+) .*?\)(?: WITHOUT ROWID)?;", SCHEMA, re.S)}


class PrintFormatError(sqlite3.DatabaseError):
    """The state's content prints were made by another print format and it keeps no texts to make them anew."""


def prints_problem(db: sqlite3.Connection, wanted: str) -> str | None:
    """Why the state's near-duplicate index cannot serve prints made as ``wanted`` describes, or None: another
    format made it and the state keeps no texts to make it anew (states of earlier newsmirrors keep them)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'content_print'").fetchone() if has_table(db, "meta") else None
    made_by = row[0] if row else "an unknown format"
    indexed = any(has_table(db, table) and db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None
                  for table in ("lsh_bands", "lsh_bands_recent"))
    if made_by == wanted or has_table(db, "article_texts") or not indexed:
        return None
    return (f"its near-duplicate index was made by another print format ({made_by}, now {wanted}) and the state "
            "keeps no texts to make it anew: `newsmirror state rebuild` makes the state from the run files")


def band_range_end(start: int, indexed: int, added: int) -> int:
    """Where the band keys a flush moves from ``lsh_bands_recent`` into ``lsh_bands`` end (exclusive), from
    ``start`` on, when the index holds ``indexed`` entries and the flush added ``added``.

    A flush's entries land at random places in the band index; written straight into one large B-tree they
    would rewrite a page each once it outgrows them. The recent table takes them instead, and each flush moves
    one range of keys, 1/k of them, into the large tree in key order: that rewrites 1/k of its pages, and the
    recent table holds about k/2 flushes. k = sqrt(2 * indexed / added) makes the two about equal, the least
    pages written in all (at ten million articles, a flush of 8,192: k = 49, ~2.7 pages an article, not 14)."""
    slices = max(1, math.isqrt(2 * indexed // max(added, 1)))
    return min(start + -(-BAND_KEYS // slices), BAND_KEY_END)


def state_path(settings) -> Path:
    """The SQLite state file a crawl, scrape or export uses: NEWSMIRROR_STATE, else <output>/state.sqlite3."""
    return Path(settings.get("NEWSMIRROR_STATE") or Path(settings.get("NEWSMIRROR_OUTPUT") or "output") / "state.sqlite3")


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def copy_legacy_urls(db: sqlite3.Connection, target: str) -> None:
    """Copy the URL table of earlier newsmirrors (``mirror_urls``: text ids, a rowid table and its index,
    ~260 bytes a URL) into ``target``, a table of ``ARTICLE_URLS_COLUMNS``."""
    db.create_function("idkey", 1, idkey, deterministic=True)
    db.execute(f"INSERT OR IGNORE INTO {target} (id, url) SELECT idkey(id), url FROM main.mirror_urls")


def stored_urls(db: sqlite3.Connection, article_id: str) -> list[str]:
    """Every URL the state recorded for an article, in URL order (the store's and ``export``'s one reading)."""
    return [url for (url,) in db.execute("SELECT url FROM article_urls WHERE id = ? ORDER BY url", (idkey(article_id),))]


class SqliteState:
    """The ``StateStore`` in SQLite, shared by every site and run.

    Emitted articles and the URLs seen for them are buffered and written in one short transaction at
    least every ``flush_interval`` seconds or ``flush_after`` articles, and when the run ends; lookups
    see the buffer. A kill loses at most the buffer, which the next run recovers from the run file: each
    article's line is written before the article reaches the store (``recover_interrupted_runs``).
    """

    def __init__(self, path: str | Path, hasher: MinHasher | None = None, near_duplicate: float = 0.5,
                 flush_after: int = 8192, flush_interval: float = 10.0, read_only: bool = False):
        self.path = Path(path)
        if read_only:  # a reader (scrape's templates, `sites`) never changes the file, nor migrates it
            self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30, isolation_level=None)
            for table, statement in SCHEMA_TABLES.items():  # tables an older state lacks read as empty
                if not has_table(self.db, table):
                    self.db.execute(statement.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA cache_size=-131072")  # 128 MiB, and pages read through mmap: the band index
            self.db.execute("PRAGMA mmap_size=4294967296")  # outgrows a small cache (bench/dedup.py: +11% at 500,000)
            self.db.executescript(SCHEMA)
        self.hasher = hasher or MinHasher()
        self.near_duplicate = near_duplicate
        self.printer = ContentPrinter(self.hasher)
        self.flush_after, self.flush_interval = flush_after, flush_interval
        self.pending: dict[str, tuple[dict, ContentPrint | None]] = {}  # id → (record, print), not yet written
        self.pending_bands: dict[int, list[str]] = {}
        self.pending_urls: list[tuple[str, str]] = []
        self.buffered_since: float | None = None
        if not read_only:
            self.upgrade()

    def close(self) -> None:
        self.flush()
        self.db.close()

    # -- identity ------------------------------------------------------------------------------------
    def is_emitted(self, article_id: str) -> bool:
        return article_id in self.pending or self.db.execute(
            "SELECT 1 FROM articles WHERE id = ?", (idkey(article_id),)).fetchone() is not None

    def content_print(self, text: str | None, content_hash: str | None) -> ContentPrint | None:
        return self.printer(text, content_hash)

    def find_copy(self, site: str, article_id: str, printed: ContentPrint | None) -> Copy | None:
        """The emitted article this one is a copy of (``crawler.dedup.identity.find_copy``), or None."""
        candidates: dict = {}

        def step(checked: list[str]) -> Copy | list[str] | None:
            if checked:  # every band candidate came in the first step
                return None
            if self.is_emitted(article_id):
                return Copy(article_id, BY_ID)
            if printed is None:
                return None
            candidates.update(self.stored_candidates(site, printed) | self.pending_candidates(site, printed))
            exact = hash64(printed.content_hash)
            same_text = next((c for c, (candidate_hash, _) in candidates.items() if candidate_hash == exact), None)
            return Copy(same_text, BY_TEXT) if same_text else list(candidates) or None

        return find_copy(step, lambda ids: ((c, candidates[c][1]) for c in ids), printed, self.near_duplicate)

    def stored_candidates(self, site: str, printed: ContentPrint) -> dict:
        """{id: (hash64, sketch)} of the site's written articles sharing an LSH band with the print."""
        marks = ",".join("?" * len(printed.band_keys))
        rows = self.db.execute(
            # CROSS JOIN keeps SQLite from scanning a site's articles: probe the band index first (both of its
            # tables). An identical text shares all its bands, so the exact layer needs no index of its own.
            f"SELECT DISTINCT a.id, a.hash64, k.sketch FROM (SELECT num FROM lsh_bands WHERE band IN ({marks}) UNION ALL "
            f"SELECT num FROM lsh_bands_recent WHERE band IN ({marks})) b CROSS JOIN articles a CROSS JOIN article_sketches k "
            f"WHERE a.num = b.num AND k.num = a.num AND a.site = ?",
            (*printed.band_keys, *printed.band_keys, site),
        ).fetchall()
        return {key.hex(): (candidate_hash, sketch) for key, candidate_hash, sketch in rows}

    def pending_candidates(self, site: str, printed: ContentPrint) -> dict:
        """The same for buffered articles (a buffered revision replaces its written version)."""
        found = {}
        for band in printed.band_keys:
            for candidate_id in self.pending_bands.get(band, ()):
                record, candidate_print = self.pending[candidate_id]
                if record["site"] == site and candidate_print is not None:
                    found[candidate_id] = (hash64(candidate_print.content_hash), candidate_print.sketch)
        return found

    def claim(self, site: str, article_id: str, text: str | None, content_hash: str | None) -> Copy | None:
        """``find_copy`` before emitting; one process emits (the site lock), so there is nothing to reserve
        until ``mark_emitted``."""
        return self.find_copy(site, article_id, self.content_print(text, content_hash))

    def record_urls(self, article_id: str, urls) -> None:
        """Remember URLs an emitted article was seen at (buffered like the articles)."""
        self.pending_urls.extend((article_id, url) for url in urls)
        self.flush_when_due()

    def revision_of(self, article_id: str) -> Revision | None:
        if article_id in self.pending:
            record = self.pending[article_id][0]
            return Revision(hash64(record["content_hash"]), record.get("revision") or 1, record.get("published"),
                            record.get("modified"))
        row = self.db.execute(
            "SELECT hash64, revision, published, modified FROM articles WHERE id = ?", (idkey(article_id),)).fetchone()
        return Revision(*row) if row else None

    def mark_emitted(self, record: dict, run_id: str, printed: ContentPrint | None) -> None:
        """Record an emitted article — or a new revision of one — with its URLs and content print: in
        the buffer now, in the file at the next flush."""
        idkey(record["id"])  # a malformed id fails here, for its own article, not at every later flush
        self.pending[record["id"]] = (record, printed)
        for band in printed.band_keys if printed is not None else ():
            self.pending_bands.setdefault(band, []).append(record["id"])
        self.record_urls(record["id"], record["mirror_urls"])

    def flush_when_due(self) -> None:
        now = time.monotonic()
        if self.buffered_since is None:
            self.buffered_since = now
        if len(self.pending) >= self.flush_after or now - self.buffered_since >= self.flush_interval:
            self.flush()

    def flush(self) -> None:
        """Write the buffered articles and URLs in one transaction: band entries into the recent table in key
        order (neighbours share index pages, so fewer pages are rewritten), and one range of it moved on
        (``band_range_end``)."""
        if not self.pending and not self.pending_urls:
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            bands, sketches = [], []
            for _, (record, printed) in sorted(self.pending.items()):  # in id order, like the id index
                num = self.write_article(record)
                if num is not None and printed is not None:
                    bands += [(band, num) for band in printed.band_keys]
                    sketches.append((num, printed.sketch))
            self.db.executemany("INSERT OR REPLACE INTO article_sketches (num, sketch) VALUES (?, ?)", sketches)
            self.db.executemany("INSERT OR IGNORE INTO lsh_bands_recent (band, num) VALUES (?, ?)", sorted(bands))
            if bands:
                self.move_band_range(len(bands))
            self.db.executemany("INSERT OR IGNORE INTO article_urls (id, url) VALUES (?, ?)",
                                [(idkey(article_id), url) for article_id, url in self.pending_urls])
        self.pending.clear()
        self.pending_bands.clear()
        self.pending_urls.clear()
        self.buffered_since = None

    def move_band_range(self, added: int) -> None:
        """Move the next range of band keys (``band_range_end``) from the recent table into the large one, in key
        order; where the last flush stopped is kept in ``meta`` (``band_range_start``), so that every range
        comes round, however short the runs."""
        start = int(self.meta("band_range_start") or BAND_KEY_START)
        total = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'articles'").fetchone()
        end = band_range_end(start, (total[0] if total else 0) * self.hasher.bands, added)
        self.db.execute("INSERT OR IGNORE INTO lsh_bands (band, num) "
                        "SELECT band, num FROM lsh_bands_recent WHERE band >= ? AND band < ?", (start, end))
        self.db.execute("DELETE FROM lsh_bands_recent WHERE band >= ? AND band < ?", (start, end))
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('band_range_start', ?)",
                        (str(end if end < BAND_KEY_END else BAND_KEY_START),))

    def write_article(self, record: dict) -> int | None:
        """Insert an article's row, or update it for a new revision: its ``num``, or None when it is known."""
        revision = record.get("revision") or 1
        inserted = self.db.execute(
            "INSERT OR IGNORE INTO articles (id, site, hash64, revision, published, modified) VALUES (?, ?, ?, ?, ?, ?)",
            (idkey(record["id"]), record["site"], hash64(record["content_hash"]), revision, record.get("published"),
             record.get("modified")))
        if inserted.rowcount:
            return inserted.lastrowid
        row = self.db.execute("SELECT num FROM articles WHERE id = ?", (idkey(record["id"]),)).fetchone()
        if revision > 1:
            self.db.execute(
                "UPDATE articles SET hash64 = ?, revision = ?, published = ?, modified = ? WHERE num = ?",
                (hash64(record["content_hash"]), revision, record.get("published"), record.get("modified"), row[0]),
            )
            return row[0]
        return None

    def upgrade(self) -> None:
        """Bring a state written by an earlier newsmirror up to date, once, under the write lock: text ids become
        10-byte keys, the old URL table (``mirror_urls``) moves to ``article_urls``, and the LSH bands and
        sketches are made anew from the texts earlier states kept (``article_texts``), which are then dropped:
        texts stay in the run files. A state whose prints another format made and that keeps no texts cannot
        be upgraded in place (``PrintFormatError``: ``state rebuild`` makes it from the run files)."""
        wanted = self.hasher.describe()
        if "summary" not in columns(self.db, "runs"):  # runs ended before newsmirror kept their summaries
            self.db.execute("ALTER TABLE runs ADD COLUMN summary TEXT")
        if self.meta("content_print") == wanted and not has_table(self.db, "mirror_urls") \
                and not has_table(self.db, "article_texts"):
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")  # another process may be upgrading: check again under the lock
            if has_table(self.db, "mirror_urls"):
                copy_legacy_urls(self.db, "main.article_urls")
                self.db.execute("DROP TABLE mirror_urls")
            text_ids = self.db.execute("SELECT num, id FROM articles WHERE typeof(id) = 'text'").fetchall()
            self.db.executemany("UPDATE articles SET id = ? WHERE num = ?", [(idkey(i), num) for num, i in text_ids])
            if has_table(self.db, "article_texts"):
                self.prints_from_texts()
            elif problem := prints_problem(self.db, wanted):
                raise PrintFormatError(f"{self.path}: {problem}")
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('content_print', ?)", (wanted,))

    def prints_from_texts(self) -> None:
        """Bands and sketches from the texts an earlier newsmirror kept in the state, then the texts dropped."""
        count = self.db.execute("SELECT COUNT(*) FROM article_texts").fetchone()[0]
        if count:
            logger.warning("%s: making the near-duplicate index of %d articles anew from the texts the state kept "
                           "(prints were made by %s, now %s; texts stay in the run files from now on)", self.path, count,
                           self.meta("content_print") or "an older version", self.hasher.describe())
        self.db.execute("DELETE FROM lsh_bands")
        self.db.execute("DELETE FROM lsh_bands_recent")
        self.db.execute("DELETE FROM article_sketches")
        for num, blob in self.db.execute("SELECT num, text FROM article_texts"):
            printed = content_print(unpack_text(blob), "", self.hasher)
            self.db.execute("INSERT INTO article_sketches (num, sketch) VALUES (?, ?)", (num, printed.sketch))
            self.db.executemany("INSERT OR IGNORE INTO lsh_bands (band, num) VALUES (?, ?)",
                                [(band, num) for band in printed.band_keys])
        self.db.execute("DROP TABLE article_texts")

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def published_since(self, site: str, day: str) -> list[tuple[str, str, list[str]]]:
        """(id, published, URLs) of the site's articles published on or after ``day`` (YYYY-MM-DD, by the
        date as written; callers compare exact times)."""
        self.flush()
        rows = self.db.execute("SELECT id, published FROM articles WHERE site = ? AND published >= ?", (site, day))
        return [(key.hex(), published, self.urls_of(key.hex())) for key, published in rows.fetchall()]

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) a feed or sitemap answered with when it was last read in full."""
        row = self.db.execute("SELECT etag, last_modified FROM listing_validators WHERE url = ?", (url,)).fetchone()
        return row or (None, None)

    def save_validators(self, validators: dict[str, tuple[str | None, str | None]]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO listing_validators (url, etag, last_modified) VALUES (?, ?, ?)",
                                [(url, etag, modified) for url, (etag, modified) in validators.items()])

    def urls_of(self, article_id: str) -> list[str]:
        self.flush()
        return stored_urls(self.db, article_id)

    # -- runs ----------------------------------------------------------------------------------------
    def last_run_status(self, site: str) -> str | None:
        """How the site's latest run ended ('finished', 'shutdown' when paused, ...), None if it never
        ended (killed) or there was none."""
        row = self.db.execute("SELECT status FROM runs WHERE site = ? ORDER BY started_at DESC LIMIT 1", (site,)).fetchone()
        return row[0] if row else None

    def record_run(self, run_id: str, site: str, status: str) -> None:
        """A run known only from its run files (``state rebuild``): ended; its run id stands for its times."""
        self.db.execute("INSERT OR IGNORE INTO runs (run_id, site, started_at, finished_at, status) VALUES (?, ?, ?, ?, ?)",
                        (run_id, site, run_id, run_id, status))

    def start_run(self, run_id: str, site: str, when: str) -> None:
        self.db.execute("INSERT INTO runs (run_id, site, started_at) VALUES (?, ?, ?)", (run_id, site, when))

    def finish_run(self, run_id: str, when: str | None, status: str, summary: dict | None = None) -> None:
        """Mark a run ended, after writing everything it emitted (a finished run is never recovered)."""
        self.flush()
        self.db.execute("UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?",
                        (when, status, json.dumps(summary) if summary is not None else None, run_id))

    def sites_with_runs(self) -> list[str]:
        return [site for (site,) in self.db.execute("SELECT DISTINCT site FROM runs ORDER BY site")]

    def run_totals(self, site: str) -> dict:
        """One aggregate over the site's summaries (JSON), in SQLite: 2 ms per 1,000 runs."""
        sums = ", ".join(f"SUM(json_extract(summary, '$.{name}'))" for name in RUN_TOTALS)
        counted, *totals, last_success = self.db.execute(
            f"SELECT COUNT(*), {sums}, MAX(CASE WHEN json_extract(summary, '$.exit_status') = ? THEN finished_at END) "
            "FROM runs WHERE site = ? AND summary IS NOT NULL", (EXIT_OK, site)).fetchone()
        return {"runs": counted, **{name: total or 0 for name, total in zip(RUN_TOTALS, totals)}, "last_success": last_success}

    def run_history(self, site: str, limit: int = 100) -> list[dict]:
        summary = "summary" if "summary" in columns(self.db, "runs") else "NULL"  # a state older than summaries, read only
        rows = self.db.execute(f"SELECT run_id, started_at, finished_at, status, {summary} FROM runs WHERE site = ? "
                               "ORDER BY started_at DESC LIMIT ?", (site, limit)).fetchall()
        return [{"run_id": run_id, "started_at": started, "finished_at": finished, "status": status,
                 "summary": json.loads(summary) if summary else None} for run_id, started, finished, status, summary in rows]

    # -- what a run left for the next ----------------------------------------------------------------
    def pending_articles(self, site: str) -> dict[str, dict]:
        rows = self.db.execute("SELECT key, entry FROM pending_articles WHERE site = ?", (site,)).fetchall()
        return {key: json.loads(entry) for key, entry in rows}

    def save_pending(self, site: str, left: list[PendingArticle], when: str) -> None:
        known = self.pending_articles(site)
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO pending_articles (site, key, entry) VALUES (?, ?, ?)",
                                [(site, article.key, json.dumps(pending_entry(known.get(article.key), article, when)))
                                 for article in left])

    def clear_pending(self, site: str, keys) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("DELETE FROM pending_articles WHERE site = ? AND key = ?", [(site, key) for key in keys])

    def site_hold(self, site: str) -> dict | None:
        row = self.db.execute("SELECT entry FROM site_holds WHERE site = ?", (site,)).fetchone()
        return json.loads(row[0]) if row else None

    def save_site_hold(self, site: str, hold: dict | None) -> None:
        if hold is None:
            self.db.execute("DELETE FROM site_holds WHERE site = ?", (site,))
        else:
            self.db.execute("INSERT OR REPLACE INTO site_holds (site, entry) VALUES (?, ?)", (site, json.dumps(hold)))

    def recover_interrupted_runs(self, site: str, site_dir: Path) -> int:
        """Commit the articles that interrupted runs wrote to their run files but never committed.

        A run that was killed between writing a line and committing it would otherwise emit the article
        again. A torn last line (the kill hit mid-write) is ignored: that article was not emitted. So is a
        corrupt line before it, with a warning: its article is emitted again rather than the crawl refused.
        Returns how many articles were recovered.
        """
        interrupted = [row[0] for row in self.db.execute(
            "SELECT run_id FROM runs WHERE site = ? AND finished_at IS NULL", (site,))]
        recovered = 0
        for run_id in interrupted:
            path = site_dir / f"{run_id}.jsonl"
            records = run_file_records(path, logger.warning, strict=False) if path.exists() else ()
            recovered += sum(replay(self, record, run_id) for _, record in records)
            self.finish_run(run_id, None, "interrupted")
        if interrupted:  # read every feed in full once more: nothing an interrupted run saw may hide behind a 304
            self.db.execute("DELETE FROM listing_validators")
        return recovered

    def template_counts(self, site: str) -> dict[str, int]:
        """A site's template block keys and the number of distinct articles each was seen in, oldest first."""
        rows = self.db.execute("SELECT block_key, articles FROM site_templates WHERE site = ? ORDER BY rowid", (site,))
        return dict(rows.fetchall())

    def save_template_counts(self, site: str, counts: dict[str, int]) -> None:
        """Replace a site's template counts (already bounded by the caller) in one transaction."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM site_templates WHERE site = ?", (site,))
            self.db.executemany("INSERT INTO site_templates (site, block_key, articles) VALUES (?, ?, ?)",
                                [(site, key, n) for key, n in counts.items()])

    # -- discovered mirrors ------------------------------------------------------------------------------
    def discovered_hosts(self, site: str) -> dict[str, dict]:
        """{host: entry} of the site's mirror candidates, admitted and rejected hosts (``crawler.discovery``)."""
        rows = self.db.execute("SELECT host, entry FROM discovered_hosts WHERE site = ?", (site,))
        return {host: json.loads(entry) for host, entry in rows.fetchall()}

    def save_discovered_host(self, site: str, host: str, entry: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO discovered_hosts (site, host, status, entry) VALUES (?, ?, ?, ?)",
                        (site, host, entry["status"], json.dumps(entry, sort_keys=True)))

    def add_discovered_host(self, site: str, host: str, entry: dict, known: dict | None) -> bool:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if self.discovered_hosts(site).get(host) != known:
                return False
            self.save_discovered_host(site, host, entry)
        return True

    def forget_discovered_host(self, site: str, host: str) -> bool:
        """Drop what discovery knows of a host (``sites --forget``): the next run verifies it again."""
        return self.db.execute("DELETE FROM discovered_hosts WHERE site = ? AND host = ?", (site, host)).rowcount > 0

    def claim_host_check(self, site: str, host: str, seconds: float) -> bool:
        """One process crawls a site on a local state (the site lock): nobody else verifies the host."""
        return True

    def release_host_check(self, site: str, host: str) -> None:
        """Nothing was claimed (``claim_host_check``)."""
