"""The state's way back: a crawl refuses a damaged state, or none beside run files, in one line; `state
rebuild` makes it anew from the run files and `state backup` copies it online."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from crawler.farm.sites import make_articles


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


# -- write failures ---------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of its own (as root, as CI runs): mount(size), remount(size) to free space, unmounted after."""
    mounted = []

    def mount(size: str, *options: str) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join((f"size={size}", *options)), "tmpfs", str(point)],
                              capture_output=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    def resize(point: Path, size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(point)], check=True)

    mount.resize = resize
    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_a_read_only_output_stops_in_one_line_before_crawling(farm_run, small_disk):
    read_only = small_disk("1m", "ro")
    result = farm_run.cli("crawl", "harbor", "--sites", str(farm_run.profile), "--output", str(read_only / "out"))
    log = result.stderr.decode()
    assert result.returncode == 74 and len(log.splitlines()) == 1 and "Traceback" not in log
    assert f"cannot write to {read_only / 'out'}: Read-only file system" in log
    assert farm_run.farm.requests == []


def test_a_forbidden_output_stops_in_one_line_before_crawling(farm_run, tmp_path):
    forbidden = tmp_path / "forbidden"
    forbidden.mkdir(mode=0o555)
    result = farm_run.cli_as_user("crawl", "harbor", "--sites", str(farm_run.profile), "--output", str(forbidden / "out"))
    log = result.stderr.decode()
    assert result.returncode == 74 and len(log.splitlines()) == 1 and "Traceback" not in log
    assert f"cannot write to {forbidden / 'out'}: Permission denied" in log
    assert farm_run.farm.requests == []


@pytest.mark.parametrize("owned", ["state", "run files"])
def test_output_another_user_owns_stops_the_crawl_in_one_line_and_loses_nothing(farm_factory, owned):
    run = farm_factory(articles=20)
    assert run.crawl().returncode == 0
    before = export(run)
    path, mode = {"state": (run.output / "state.sqlite3", 0o444), "run files": (run.output / "harbor", 0o555)}[owned]
    path.chmod(mode)  # as left by a crawl that another user ran
    for added in make_articles(5, seed=99, first_id=990000):
        added.channel = "news"
        run.site.articles.insert(0, added)
    result = run.cli_as_user(*run.crawl_args())
    log = result.stderr.decode()
    assert result.returncode == 74 and len(log.splitlines()) == 1 and "Traceback" not in log, log[-2000:]
    assert f"{path}: Permission denied; not starting" in log
    path.chmod(0o644 if owned == "state" else 0o755)
    assert export(run) == before  # nothing half-written
    resumed = run.crawl()
    assert resumed.returncode == 0 and "harbor: 5 new articles" in resumed.stderr.decode()
    assert len(export(run)) == 25


def test_state_backup_and_rebuild_into_a_forbidden_directory_are_one_line_each(farm_factory, tmp_path):
    run = farm_factory(articles=5)
    assert run.crawl().returncode == 0
    state = run.output / "state.sqlite3"
    before = state.read_bytes()
    forbidden = tmp_path / "forbidden"
    forbidden.mkdir(mode=0o555)
    backup = run.cli_as_user("state", "backup", "--output", str(run.output), "-o", str(forbidden / "copy.sqlite3"))
    run.output.chmod(0o555)
    rebuild = run.cli_as_user("state", "rebuild", "--output", str(run.output))
    run.output.chmod(0o755)
    for result, where in ((backup, forbidden), (rebuild, run.output)):
        log = result.stderr.decode()
        assert result.returncode == 74 and len(log.splitlines()) == 1 and "Traceback" not in log, log
        assert f"cannot write to {where}: Permission denied; nothing done" in log
    assert state.read_bytes() == before and list(forbidden.iterdir()) == []


def test_a_disk_that_fills_mid_crawl_loses_nothing_once_space_is_freed(farm_factory, small_disk):
    run = farm_factory(articles=120)
    disk = small_disk("640k")
    run.output = disk / "output"
    full = run.crawl("-s", "NEWSMIRROR_MIN_FREE_MB=0")  # no guard: the writes themselves fail
    log = full.stderr.decode()
    assert full.returncode == 74, log[-3000:]
    assert "No space left on device" in log and "Traceback" not in log
    assert len([line for line in log.splitlines() if "ERROR" in line]) == 1
    written = run.records()  # strict: a corrupt line before the last would raise here
    assert 0 < len(written) < 120
    assert all(path.read_bytes().endswith(b"\n") for path in run.run_files())  # cut back to whole lines
    small_disk.resize(disk, "64m")  # space freed
    again = run.crawl()
    assert again.returncode == 0, again.stderr.decode()[-3000:]
    ids = [record["id"] for record in run.records()]
    assert len(ids) == len(set(ids)) == 120
    exported = run.cli("export", "--output", str(run.output))
    assert exported.returncode == 0 and len(exported.stdout.splitlines()) == 120


def test_the_free_space_guard_stops_a_crawl_before_writes_fail(farm_factory, small_disk):
    farm_run = farm_factory(articles=60)
    disk = small_disk("2m")
    farm_run.output = disk / "output"
    result = farm_run.crawl()  # NEWSMIRROR_MIN_FREE_MB defaults to 8
    log = result.stderr.decode()
    assert result.returncode == 74 and len(log.splitlines()) == 1 and "Traceback" not in log
    assert f"only 2.0 MiB free in {farm_run.output} (NEWSMIRROR_MIN_FREE_MB=8); not starting" in log
    assert farm_run.farm.requests == []
    # mid-crawl, the guard stops the crawl in one line before any write fails
    farm_run.output = small_disk("24m") / "output"
    filler = farm_run.output.parent / "filler"
    slow = farm_run.start_crawl("-s", "DOWNLOAD_DELAY=0.3", "-s", "NEWSMIRROR_MIN_FREE_MB=16", stderr=subprocess.PIPE)
    while not list(farm_run.output.glob("harbor/*.jsonl")) and slow.poll() is None:
        time.sleep(0.05)
    filler.write_bytes(b"\0" * 12 * 1048576)  # another program fills the disk
    log = slow.communicate(timeout=60)[1].decode()
    assert slow.returncode == 74 and "NEWSMIRROR_MIN_FREE_MB=16" in log and "Traceback" not in log
    assert 0 < len(farm_run.records()) < len(farm_run.site.articles)
    assert not [p for p in farm_run.output.rglob("*") if p.is_file() and p.stat().st_size == 0]
