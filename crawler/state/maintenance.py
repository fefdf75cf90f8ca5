"""The state's health and its way back: checks before a crawl, ``state rebuild`` from the run files (the
source of truth: every emitted article is in one), and ``state backup`` through SQLite's online backup API."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from crawler.state.runfile import missing_records, run_file_records, run_files
from crawler.dedup.minhash import MinHasher
from crawler.state.sqlite import SqliteState, prints_problem
from crawler.state.store import StateStore, replay

SQLITE_HEADER = b"SQLite format 3\x00"
QUICK_CHECK_BYTES = 64 * 1024 * 1024  # smaller states get SQLite's quick_check too; larger ones the cheap checks
SIDE_FILES = ("-wal", "-shm", "-journal")


class StateError(Exception):
    """The state cannot be used as it is; the message says why and what to do."""


@dataclass
class Rebuilt:
    articles: int
    run_files: int
    set_aside: Path | None  # the damaged state, kept beside the new one


def unreadable(path: Path) -> str | None:
    """Why an existing SQLite state file cannot be read (damaged header, cut short, failed check), or None."""
    path = path.resolve()  # a symlink's WAL is the real file's: beside it, not beside the link
    with path.open("rb") as head:
        if head.read(16) != SQLITE_HEADER:
            return "not an SQLite database (damaged header)"
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            page_size, pages = (db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_size", "page_count"))
            wal = Path(f"{path}-wal")
            if not (wal.exists() and wal.stat().st_size) and path.stat().st_size < page_size * pages:
                return f"cut short ({path.stat().st_size} of {page_size * pages} bytes)"
            if path.stat().st_size <= QUICK_CHECK_BYTES:
                verdict = db.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    return f"damaged ({verdict})"
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None


def state_problem(state: Path, output_dir: Path, sites: list[str]) -> str | None:
    """Why a crawl of ``sites`` must not start on this state, or None: a damaged state, or none at all while
    the output holds run files of these sites (a crawl would emit every article again)."""
    if state.exists() and state.stat().st_size:
        why = unreadable(state)
        if why:
            return (f"the state {state} is unreadable: {why}. `newsmirror state rebuild --output {output_dir} "
                    f"--state {state}` rebuilds it from the run files (the damaged file is kept beside it)")
        db = sqlite3.connect(f"{state.resolve().as_uri()}?mode=ro", uri=True)
        try:
            stale = prints_problem(db, MinHasher().describe())
        finally:
            db.close()
        return f"the state {state}: {stale}" if stale else None
    files = [path for site in sites for path in run_files(output_dir, site)]
    if files:
        return (f"no state at {state}, but {output_dir} holds {len(files)} run files of {', '.join(sites)}: a crawl "
                f"now would emit every article again. `newsmirror state rebuild --output {output_dir} --state {state}` "
                "rebuilds the state from them (-s NEWSMIRROR_NEW_STATE=True starts afresh instead)")
    return None


def run_id_of(path: Path) -> str:
    """The run id of a run file: ``<run-id>.jsonl`` or a worker's ``<run-id>-<worker>.jsonl``."""
    return path.stem.split("-", 1)[0]


def replay_run_files(files: list[Path], store_of: Callable[[str], StateStore],
                     warn: Callable[[str], None]) -> tuple[int, dict[str, int]]:
    """Every record of the run files into its site's store (``replay``), each run recorded: (articles committed,
    {run file name: records read})."""
    articles, found = 0, {}
    for path in files:
        run_id, site = run_id_of(path), path.parent.name
        store = store_of(site)
        store.record_run(run_id, site, "rebuilt")
        found[path.stem] = 0
        for _, record in run_file_records(path, warn, strict=False):
            articles += replay(store, record, run_id)
            found[path.stem] += 1
    return articles, found


def rebuild_state(output_dir: Path, state: Path, warn: Callable[[str], None]) -> Rebuilt:
    """A new state made from every run file under ``output_dir``: articles, content hashes and bands,
    revisions, the URLs each record lists, and the runs; it replaces ``state``, whose old file (if any)
    is kept as ``<state>.damaged-<time>``. What only the old state held is not recovered: URLs first seen
    after their article was emitted, learned site templates, feed validators."""
    files = found_run_files(output_dir)
    fresh = state.with_name(f"{state.name}.rebuilding")
    remove_with_side_files(fresh)
    store = SqliteState(fresh)
    articles, _ = replay_run_files(files, lambda site: store, warn)
    store.close()
    set_aside = None
    if state.exists():
        set_aside = state.with_name(f"{state.name}.damaged-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}")
        os.replace(state, set_aside)
    for suffix in SIDE_FILES:  # the old state's journal must not be applied to the new file
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    os.replace(fresh, state)
    return Rebuilt(articles, len(files), set_aside)


def complete_shared_state(output_dir: Path, store_of: Callable[[str], StateStore], warn: Callable[[str], None]) -> Rebuilt:
    """``state rebuild --redis``: the shared state made whole from the run files under ``output_dir``, adding
    what it lacks and removing nothing (workers may be crawling). Each run file the state counts articles in
    that is missing here or holds fewer is named with its worker (``missing_records``): its articles cannot be
    checked; files the state had no count for are counted now, so that ``export`` expects them."""
    files = found_run_files(output_dir)
    expected: dict[str, dict[str, int]] = {}

    def counted(site: str) -> StateStore:
        store = store_of(site)
        expected.setdefault(site, store.written_files())
        return store

    articles, found = replay_run_files(files, counted, warn)
    for site, counts in expected.items():
        here = {path.stem: found[path.stem] for path in files if path.parent.name == site}
        for problem in missing_records(counts, here, site):
            warn(problem)
        store_of(site).count_run_files({name: count for name, count in here.items() if name not in counts})
    return Rebuilt(articles, len(files), None)


def found_run_files(output_dir: Path) -> list[Path]:
    files = run_files(output_dir) if output_dir.is_dir() else []
    if not files:
        raise StateError(f"no run files under {output_dir}: nothing to rebuild the state from")
    return files


def backup_state(state: Path, target: Path) -> None:
    """An online copy of the state (SQLite's backup API: consistent while a crawl writes), written under a
    temporary name and renamed when complete."""
    if not state.exists():
        raise StateError(f"no state at {state}")
    partial = target.with_name(f"{target.name}.partial")
    source = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
    except sqlite3.DatabaseError as exc:
        raise StateError(f"cannot back up {state}: {exc}") from None
    finally:
        copy.close()
        source.close()
    os.replace(partial, target)


def remove_with_side_files(path: Path) -> None:
    for name in (str(path), *(f"{path}{suffix}" for suffix in SIDE_FILES)):
        Path(name).unlink(missing_ok=True)
