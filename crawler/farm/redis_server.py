"""A private redis-server on a free loopback port, for the distributed tests, the Scrapyd test and benchmarks."""

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
