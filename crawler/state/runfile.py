"""Reading run files (``<output>/<site>/<run-id>.jsonl``, one article record a line) back: crawl recovery, export,
and the texts mirror verification compares with (the state keeps none).

A kill can tear a file's last line: every reader skips it with a warning (that article was never committed,
so the next crawl emits it again). A bad line before the last is corruption, and the reader says what to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path


class CorruptRunFile(ValueError):
    """A line before a run file's last that is not an article record."""

    def __init__(self, path: Path, number: int, problem: str):
        super().__init__(f"{path}:{number}: corrupt run file: {problem}")


def parse_record(line: bytes) -> dict:
    """One line's article record; ValueError if it is not JSON, not UTF-8, or has no string ``id``."""
    record = json.loads(line)
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise ValueError("not an article record (no id)")
    return record


def run_file_records(path: Path, warn: Callable[[str], None], strict: bool) -> Iterator[tuple[int, dict]]:
    """(line number, record) of each line of one run file, blank lines aside.

    A torn last line is skipped with ``warn``; a bad line before it raises CorruptRunFile when ``strict``,
    else is skipped with ``warn`` too.
    """
    with path.open("rb") as lines:
        pending: tuple[int, bytes] | None = None
        for number, line in enumerate(lines, 1):
            if pending is not None:
                try:
                    yield pending[0], parse_record(pending[1])
                except ValueError as exc:
                    corrupt = CorruptRunFile(path, pending[0], str(exc))
                    if strict:
                        raise corrupt from None
                    warn(f"{corrupt}; line ignored")
            pending = (number, line) if line.strip() else None
    if pending is None:
        return
    try:
        yield pending[0], parse_record(pending[1])
    except ValueError:
        warn(f"{path}: ignored torn last line {pending[0]} (an interrupted write)")


def run_files(output_dir: Path, site: str | None = None) -> list[Path]:
    """Every ``<output>/<site>/<run-id>[-<worker>].jsonl``, oldest run first (run ids sort chronologically)."""
    files = (output_dir / site).glob("*.jsonl") if site else output_dir.glob("*/*.jsonl")
    return sorted(files, key=lambda path: (path.stem, path.parent.name))


def recent_records(site_dir: Path, limit: int) -> list[dict]:
    """Up to ``limit`` article records of a site's run files, the newest run's first (a line being written is
    skipped, as a torn one)."""
    records: list[dict] = []
    for path in sorted(site_dir.glob("*.jsonl"), key=lambda path: path.stem, reverse=True):
        for _, record in run_file_records(path, lambda torn: None, strict=False):
            if len(records) == limit:
                return records
            records.append(record)
    return records

def missing_records(expected: dict[str, int], found: dict[str, int], site: str) -> list[str]:
    """What the run files lack of what the state counts each worker wrote (``expected`` and ``found``: {run
    file name: articles}), one line a file: a file missing, or holding fewer articles than were committed."""
    problems = []
    for name, count in sorted(expected.items()):
        run_id, _, worker = name.partition("-")
        whose = f"worker {worker}'s run file {site}/{name}.jsonl" if worker else f"run file {site}/{name}.jsonl"
        if name not in found:
            machine = f"{worker}'s machine" if worker else "the machine that ran it"
            problems.append(f"{whose} is missing: the state counts {count} articles of run {run_id} in it (copy it from "
                            f"{machine} into the output directory's {site}/)")
        elif found[name] < count:
            problems.append(f"{whose} holds {found[name]} of the {count} articles the state counts in it (cut short, "
                            "or an older copy?)")
    return problems
