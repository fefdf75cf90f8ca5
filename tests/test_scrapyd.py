"""Deployment: the project deployed to a real Scrapyd with scrapyd-client, a crawl scheduled through its API."""

import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from crawler.farm.redis_server import free_port

from .conftest import ROOT

BIN = Path(sys.executable).parent


def api(port: int, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{endpoint}",
                                     data=urllib.parse.urlencode(data).encode() if data else None)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to loopback, not the farm
    with opener.open(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_deploy_to_scrapyd_and_schedule_a_crawl(farm_run, tmp_path):
    port = free_port()
    server_dir = tmp_path / "scrapyd"
    server_dir.mkdir()
    (server_dir / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = eggs\nlogs_dir = logs\n"
        "items_dir =\ndbs_dir = dbs\nmax_proc = 1\npoll_interval = 0.5\n")
    project = tmp_path / "project"
    shutil.copytree(ROOT / "crawler", project / "crawler", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, project / name)
    config = (ROOT / "scrapy.cfg").read_text().replace("http://localhost:6800/", f"http://127.0.0.1:{port}/")
    (project / "scrapy.cfg").write_text(config)
    server = subprocess.Popen([BIN / "scrapyd"], cwd=server_dir, env=farm_run.env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert api(port, "daemonstatus.json")["status"] == "ok"
                break
            except OSError:
                assert time.monotonic() < deadline, "scrapyd did not start"
                time.sleep(0.2)
        env = {**farm_run.env(), "no_proxy": "127.0.0.1,localhost"}
        deployed = subprocess.run([BIN / "scrapyd-deploy"], cwd=project, env=env, capture_output=True, timeout=120)
        assert deployed.returncode == 0, deployed.stderr.decode()[-2000:]
        assert "news" in api(port, "listspiders.json?project=newsmirror")["spiders"]
        job = api(port, "schedule.json", [
            ("project", "newsmirror"), ("spider", "news"), ("site", "harbor"),
            ("setting", f"NEWSMIRROR_SITES_FILES={farm_run.profile}"), ("setting", f"NEWSMIRROR_OUTPUT={farm_run.output}"),
            ("setting", "AUTOTHROTTLE_ENABLED=False"),
        ])["jobid"]
        deadline = time.monotonic() + 120
        while not any(j["id"] == job for j in api(port, "listjobs.json?project=newsmirror")["finished"]):
            assert time.monotonic() < deadline, "the scheduled crawl did not finish"
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert sorted(r["title"] for r in farm_run.records()) == sorted(a.title for a in farm_run.site.articles)
