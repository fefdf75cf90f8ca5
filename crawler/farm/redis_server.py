"""A private redis-server on a free loopback port, or a private three-master Redis Cluster, for the distributed
tests, the Scrapyd test and benchmarks."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis


def free_port() -> int:
    """A free TCP port on 127.0.0.1, for the servers that tests and benchmarks start beside the farm."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def local_redis_server(binary: str, directory: str | Path, timeout: float = 10.0) -> Iterator[str]:
    """A redis-server of its own on a free loopback port, working in ``directory``, nothing persisted: its
    URL while the context lasts. RuntimeError when it does not answer within ``timeout`` seconds."""
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", str(directory)], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


def wait_for(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except redis.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting until {what}")
        time.sleep(0.05)


@contextmanager
def local_redis_cluster(binary: str, cli: str, directory: str | Path, masters: int = 3, timeout: float = 30.0) -> Iterator[str]:
    """A Redis Cluster of ``masters`` redis-servers of its own (cluster mode, no replicas), each on a free
    loopback port with its cluster bus on another, working in ``directory``, nothing persisted, joined by
    ``redis-cli --cluster create``: its URL (``redis-cluster://127.0.0.1:<port>``) while the context lasts.
    RuntimeError when it is not up within ``timeout`` seconds."""
    ports: list[int] = []
    while len(ports) < 2 * masters:
        if (port := free_port()) not in ports:
            ports.append(port)
    nodes = list(zip(ports[::2], ports[1::2]))  # (port, cluster bus port)
    servers = []
    try:
        for port, bus in nodes:
            (Path(directory) / str(port)).mkdir()
            servers.append(subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-port", str(bus),
                 "--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no",
                 "--dir", str(Path(directory) / str(port))], stdout=subprocess.DEVNULL))
        for port, _ in nodes:
            wait_for(redis.Redis(port=port).ping, f"redis-server answers on port {port}", timeout)
        created = subprocess.run([cli, "--cluster", "create", *(f"127.0.0.1:{port}" for port, _ in nodes),
                                  "--cluster-replicas", "0", "--cluster-yes"], capture_output=True, timeout=timeout)
        if created.returncode:
            raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout.decode()[-500:]}")
        for port, _ in nodes:
            wait_for(lambda port=port: redis.Redis(port=port).cluster("info")["cluster_state"] == "ok",
                     f"the cluster is up on port {port}", timeout)
        yield f"redis-cluster://127.0.0.1:{nodes[0][0]}"
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(10)
