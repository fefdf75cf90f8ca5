"""Shared fixtures: the mirror farm (a loopback proxy) and running the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest
import redis

from crawler.farm.proxy import MirrorFarm
from crawler.distributed.client import redis_client
from crawler.farm.redis_server import local_redis_cluster, local_redis_server
from crawler.farm.sites import harbor_news
from crawler.state.runfile import run_file_records

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMA = json.loads((resources.files("crawler.output") / "schema" / "article.schema.json").read_text())


class FarmRun:
    """A running farm with one site, its profile file, and a way to run newsmirror against it."""

    def __init__(self, farm: MirrorFarm, site, workdir: Path):
        self.farm, self.site, self.workdir = farm, site, workdir
        self.profile = workdir / "farm-sites.toml"
        self.profile.write_text(site.profile_toml(), encoding="utf-8")
        self.output = workdir / "output"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "no_proxy")}
        env["http_proxy"] = self.farm.proxy_url
        return env

    def cli(self, *args: str, timeout: float = 120, cwd: Path | None = None, stdin: bytes | None = None,
            wrapper: tuple[str, ...] = ()):
        return subprocess.run(
            [*wrapper, sys.executable, "-m", "crawler.cli", *args], cwd=cwd or self.workdir, env=self.env(),
            capture_output=True, timeout=timeout, input=stdin,
        )

    def cli_as_user(self, *args: str):
        """The CLI with an ordinary user's file permissions: as root (CI runs as root) without the capabilities
        that bypass them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
        root = os.geteuid() == 0
        return self.cli(*args, wrapper=("setpriv", "--bounding-set", "-dac_override,-dac_read_search") if root else ())

    def cli_process(self, *args: str) -> subprocess.Popen:
        """The CLI in the background, its standard error kept for the test."""
        return subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], cwd=self.workdir, env=self.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def crawl_args(self, *extra: str) -> list[str]:
        return ["crawl", self.site.id, "--sites", str(self.profile), "--output", str(self.output),
                "-s", "AUTOTHROTTLE_ENABLED=False", *extra]

    def crawl(self, *extra: str, timeout: float = 120):
        return self.cli(*self.crawl_args(*extra), timeout=timeout)

    def start_crawl(self, *extra: str, stderr=subprocess.DEVNULL) -> subprocess.Popen:
        """A crawl in the background, slowed by ``extra`` settings, for a test to interrupt."""
        return subprocess.Popen([sys.executable, "-m", "crawler.cli", *self.crawl_args(*extra)], cwd=self.workdir,
                                env=self.env(), stdout=subprocess.DEVNULL, stderr=stderr)

    def lines_written(self) -> int:
        return sum(path.read_text().count("\n") for path in self.run_files())

    def records(self) -> list[dict]:
        """Every record of every run file, in run order (a torn line is skipped, as every reader does)."""
        return [record for path in self.run_files()
                for _, record in run_file_records(path, lambda torn: None, strict=True)]  # tests tear lines

    def run_files(self) -> list[Path]:
        return sorted((self.output / self.site.id).glob("*.jsonl"))


@pytest.fixture
def farm_factory(tmp_path):
    farms = []

    def make(hang_seconds: float = 30, **site_options) -> FarmRun:
        site = harbor_news(**site_options)
        farm = MirrorFarm([site], hang_seconds=hang_seconds).start()
        farms.append(farm)
        return FarmRun(farm, site, tmp_path)

    yield make
    for farm in farms:
        farm.stop()


@pytest.fixture
def farm_run(farm_factory) -> FarmRun:
    return farm_factory()


def run_cli(*args: str, cwd: Path, stdin: bytes | None = None, env: dict | None = None, timeout: float = 120):
    """Run ``python -m crawler.cli`` with no proxy configured (offline targets only)."""
    base = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "no_proxy")}
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, timeout=timeout, input=stdin)


def process_tree(pid: int) -> set[int]:
    """``pid`` and every process descended from it, read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = set(), [pid]
    while todo:
        tree.add(current := todo.pop())
        todo.extend(children.get(current, []))
    return tree


def running(pids: set[int]) -> set[int]:
    """The processes of ``pids`` that still run (a zombie waiting to be reaped does not)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def assert_none_survive(pids: set[int], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while running(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(pids), [Path(f"/proc/{pid}/cmdline").read_bytes()[:120] for pid in running(pids)]


# -- Redis ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A redis-server of our own on a free loopback port, in a temporary directory, nothing persisted."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {message}")
        pytest.skip(message)
    try:
        with local_redis_server(binary, tmp_path_factory.mktemp("redis")) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def redis_url(redis_server):
    redis.Redis.from_url(redis_server).flushall()
    return redis_server


def redis_binaries() -> tuple[str, str]:
    """redis-server and redis-cli (Debian: redis-server, which brings redis-tools), or a skip (in CI a failure)."""
    binaries = shutil.which("redis-server"), shutil.which("redis-cli")
    if None in binaries:
        message = "redis-server and redis-cli are not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {message}")
        pytest.skip(message)
    return binaries


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """A three-master Redis Cluster of our own on loopback ports, nothing persisted: its ``redis-cluster://`` URL."""
    try:
        with local_redis_cluster(*redis_binaries(), tmp_path_factory.mktemp("cluster")) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def cluster_url(redis_cluster):
    client = redis_client(redis_cluster, 5)
    client.flushall(target_nodes=client.get_primaries())
    return redis_cluster


@pytest.fixture(params=["server", "cluster"])
def shared_redis(request):
    """An emptied Redis for a test that must hold on one redis-server and on a Redis Cluster alike: its URL."""
    return request.getfixturevalue("redis_url" if request.param == "server" else "cluster_url")


@pytest.fixture
def own_redis_cluster(tmp_path):
    """A Redis Cluster for one test, which the test may take a node of."""
    (tmp_path / "cluster").mkdir()
    with local_redis_cluster(*redis_binaries(), tmp_path / "cluster") as url:
        yield url


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server for one test, which the test may shut down or empty."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI: redis-server is not installed (Debian: apt-get install redis-server)")
        pytest.skip("redis-server is not installed")
    (tmp_path / "redis").mkdir()
    with local_redis_server(binary, tmp_path / "redis") as url:
        yield url
