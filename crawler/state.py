"""Crawl state in SQLite: which articles earlier runs emitted, every URL each was seen at, learned templates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    url TEXT,
    content_hash TEXT,
    run_id TEXT NOT NULL,
    emitted_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mirror_urls (
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (id, url)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT
);
CREATE TABLE IF NOT EXISTS site_templates (
    site TEXT NOT NULL,
    block_key TEXT NOT NULL,
    articles INTEGER NOT NULL,
    PRIMARY KEY (site, block_key)
);
"""


class CrawlState:
    """SQLite state store; one file serves every site (``output/state.sqlite3`` by default)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def is_emitted(self, article_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def record_urls(self, article_id: str, urls) -> None:
        self.db.executemany("INSERT OR IGNORE INTO mirror_urls (id, url) VALUES (?, ?)", [(article_id, u) for u in urls])

    def mark_emitted(self, article_id: str, site: str, url: str | None, content_hash: str | None, run_id: str,
                     when: str, urls) -> None:
        """Commit one emitted article and its URLs in one transaction."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT OR IGNORE INTO articles (id, site, url, content_hash, run_id, emitted_at) VALUES (?, ?, ?, ?, ?, ?)",
                (article_id, site, url, content_hash, run_id, when),
            )
            self.record_urls(article_id, urls)

    def urls_of(self, article_id: str) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT url FROM mirror_urls WHERE id = ? ORDER BY rowid", (article_id,))]

    def start_run(self, run_id: str, site: str, when: str) -> None:
        self.db.execute("INSERT INTO runs (run_id, site, started_at) VALUES (?, ?, ?)", (run_id, site, when))

    def finish_run(self, run_id: str, when: str, status: str) -> None:
        self.db.execute("UPDATE runs SET finished_at = ?, status = ? WHERE run_id = ?", (when, status, run_id))

    def count_articles(self, site: str | None = None) -> int:
        if site is None:
            return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM articles WHERE site = ?", (site,)).fetchone()[0]

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
