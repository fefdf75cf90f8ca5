"""The state's way back: a crawl refuses a damaged state, or none beside run files, in one line; `state
rebuild` makes it anew from the run files and `state backup` copies it online."""

from __future__ import annotations

import json
import sqlite3

import pytest


def export(run) -> list[dict]:
    result = run.cli("export", "--output", str(run.output), "--sites", str(run.profile))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return sorted((json.loads(line) for line in result.stdout.splitlines()), key=lambda record: record["id"])


def damage_header(path):
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!\x00"
    path.write_bytes(bytes(data))


def cut_short(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("damage", ["deleted", "header", "cut short"])
def test_a_lost_or_damaged_state_stops_the_crawl_and_rebuild_restores_it(farm_factory, damage):
    run = farm_factory(articles=20)
    assert run.crawl().returncode == 0
    before = export(run)
    state = run.output / "state.sqlite3"
    {"deleted": lambda p: p.unlink(), "header": damage_header, "cut short": cut_short}[damage](state)

    refused = run.crawl()
    log = refused.stderr.decode()
    assert refused.returncode == 65 and len(log.splitlines()) == 1 and "Traceback" not in log
    assert "state rebuild" in log and ("no state at" in log if damage == "deleted" else "is unreadable" in log)
    assert len(run.run_files()) == 1  # nothing emitted again

    rebuilt = run.cli("state", "rebuild", "--output", str(run.output))
    assert rebuilt.returncode == 0 and b"rebuilt" in rebuilt.stderr and b"20 articles" in rebuilt.stderr
    assert bool(list(run.output.glob("state.sqlite3.damaged-*"))) is (damage != "deleted")
    assert export(run) == before
    again = run.crawl()
    assert again.returncode == 0 and "harbor: 0 new articles" in again.stderr.decode()
    assert len(run.run_files()) == 1


def test_new_state_on_purpose_and_an_online_backup(farm_factory, tmp_path):
    run = farm_factory(articles=10)
    assert run.crawl().returncode == 0
    backup = tmp_path / "copy.sqlite3"
    result = run.cli("state", "backup", "--output", str(run.output), "-o", str(backup))
    assert result.returncode == 0 and f"to {backup}".encode() in result.stderr
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 10
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    (run.output / "state.sqlite3").unlink()
    fresh = run.crawl("-s", "NEWSMIRROR_NEW_STATE=True")  # the user asks for a new state: everything again
    assert fresh.returncode == 0 and "harbor: 10 new articles" in fresh.stderr.decode()


def test_rebuild_without_run_files_says_so(tmp_path, farm_run):
    result = farm_run.cli("state", "rebuild", "--output", str(tmp_path / "empty"))
    assert result.returncode == 1 and b"no run files under" in result.stderr and b"Traceback" not in result.stderr
