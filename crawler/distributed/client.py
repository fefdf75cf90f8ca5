"""The one way to a Redis client (``redis://`` one server, ``redis-cluster://HOST:PORT[,...]`` a cluster): every call
has a timeout, and a lost connection is retried with backoff for ``NEWSMIRROR_REDIS_OUTAGE`` seconds in all,
counted once for the whole client, after which every call fails at once (``stop_for_outage`` stops the worker).
Lua scripts are registered on a client by ``register_script``."""

from __future__ import annotations

import hashlib
import os
import time
from urllib.parse import unquote

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import ClusterDownError, NoScriptError, RedisClusterUnreachableError, SlotNotCoveredError, TryAgainError
from redis.retry import Retry

try:
    from hiredis import pack_command
except ImportError:  # redis-py works without it (bench/dedup.py --no-hiredis measures what it saves)
    pack_command = None

RETRIED_ERRORS = (redis.ConnectionError, redis.TimeoutError, TimeoutError, ConnectionError)
CONNECT_TIMEOUT, ANSWER_TIMEOUT = 2.0, 10.0
CLUSTER_SCHEMES = {"redis-cluster": False, "rediss-cluster": True}  # scheme: TLS
# what a cluster answers while a node is down or its slots move: the same outage as a lost connection
CLUSTER_OUTAGE_ERRORS = (RedisClusterUnreachableError, SlotNotCoveredError, ClusterDownError, TryAgainError)


def redis_url(settings) -> str | None:
    """The Redis URL of a distributed crawl: setting ``NEWSMIRROR_REDIS``, else the environment variable."""
    return settings.get("NEWSMIRROR_REDIS") or os.environ.get("NEWSMIRROR_REDIS") or None


class OutageRetry(Retry):
    """redis-py's Retry bounded by time, not by count, and one for the whole client: redis-py gives every
    connection a deep copy of its Retry, which would count the outage afresh on each connection, so copies
    are this object. Calls retry with backoff until the outage has lasted ``outage`` seconds; from then on
    every call fails at once, without trying, so a worker that stops does not wait on each call it makes
    while closing."""

    def __init__(self, outage: float, clock=time.monotonic):
        super().__init__(ExponentialBackoff(cap=4.0, base=0.25), retries=-1, supported_errors=RETRIED_ERRORS)
        self.outage, self.clock = outage, clock
        self.down_since: float | None = None
        self.gave_up: BaseException | None = None

    def __deepcopy__(self, memo):
        return self

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        if self.gave_up is not None:
            raise redis.ConnectionError(f"gave up after an outage of {self.outage:g} s: {self.gave_up}")
        failures = 0
        while True:
            try:
                result = do()
            except self._supported_errors as error:
                if is_retryable and not is_retryable(error):
                    raise
                failures += 1
                fail(error, failures) if with_failure_count else fail(error)
                now = self.clock()
                self.down_since = self.down_since or now
                left = self.down_since + self.outage - now
                if left <= 0:
                    self.gave_up = error
                    raise
                time.sleep(min(self._backoff.compute(failures), left))
            else:
                self.down_since = None
                return result


class OutageCluster(RedisCluster):
    """redis-py's cluster client with ``OutageRetry`` around every command: a node down, a cluster that says
    CLUSTERDOWN or moves slots count as an outage, retried for ``outage`` seconds in all and then failing as
    ``redis.ConnectionError``. Only commands (scripts included) pass here: newsmirror sends no pipelines to a
    cluster. The cluster's own retry is one attempt more, for a slot that moved."""

    def __init__(self, outage: float, **kwargs):
        self.outage = OutageRetry(outage)
        super().__init__(retry=Retry(NoBackoff(), 1), **kwargs)

    def execute_command(self, *args, **kwargs):
        return self.outage.call_with_retry(lambda: self.answer(*args, **kwargs), lambda error: None)

    def answer(self, *args, **kwargs):
        try:
            return super().execute_command(*args, **kwargs)
        except CLUSTER_OUTAGE_ERRORS as exc:
            raise redis.ConnectionError(f"Redis Cluster: {exc}") from exc


class PackedScript:
    """A Lua script on one redis-server, called as redis-py's ``Script`` is (``script(keys=[...], args=[...])``,
    loaded again when the server answers NOSCRIPT), but sent as one EVALSHA packed by hiredis on a connection of
    the client's pool, under the client's retry (``OutageRetry``). redis-py 8's command path spends 30-55 µs of
    CPU more a call (encoding each argument in Python, pool checks, deprecation and event hooks): with it, the
    claim and the commit of an article cost a Redis dedup run's workers 1.3-1.5 times the CPU
    (``bench/dedup.py --script-calls``)."""

    def __init__(self, client: redis.Redis, body: str):
        self.client, self.body = client, body
        self.sha = hashlib.sha1(body.encode()).hexdigest()

    def __call__(self, keys=(), args=()):
        command = ("EVALSHA", self.sha, len(keys), *keys, *args)
        try:
            return self.send(command)
        except NoScriptError:  # a server restarted (or its scripts flushed) since the script was loaded
            self.client.script_load(self.body)
            return self.send(command)

    def send(self, command: tuple):
        pool = self.client.connection_pool
        connection = pool.get_connection()
        try:
            packed = [pack_command(command)] if pack_command else connection.pack_command(*command)
            return connection.retry.call_with_retry(lambda: self.answer(connection, packed),
                                                    lambda error: connection.disconnect())
        finally:
            pool.release(connection)

    @staticmethod
    def answer(connection, packed: list[bytes]):
        connection.send_packed_command(packed)
        return connection.read_response()


def register_script(client: redis.Redis | OutageCluster, body: str):
    """The Lua script ``body`` on ``client``: a ``PackedScript`` on one server; redis-py's ``Script`` on a cluster,
    which sends each call to the node of its keys' slot."""
    return client.register_script(body) if isinstance(client, RedisCluster) else PackedScript(client, body)


def cluster_options(url: str) -> dict:
    """RedisCluster's arguments for ``redis-cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]``."""
    scheme, _, rest = url.partition("://")
    credentials, _, hosts = rest.split("/", 1)[0].rpartition("@")
    username, _, password = credentials.partition(":")
    nodes = []
    for node in filter(None, hosts.split(",")):
        host, _, port = node.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{url}: expected HOST:PORT of each cluster node, got {node!r}")
        nodes.append(ClusterNode(host.strip("[]"), int(port)))
    if not nodes:
        raise ValueError(f"{url}: no cluster node named")
    return {"startup_nodes": nodes, "username": unquote(username) or None, "password": unquote(password) or None,
            "ssl": CLUSTER_SCHEMES[scheme]}


def is_cluster_url(url: str) -> bool:
    return url.partition("://")[0] in CLUSTER_SCHEMES


def redis_client(url: str, outage: float) -> redis.Redis | OutageCluster:
    """A client whose calls time out (2 s to connect, 10 s to answer) and ride out an outage of ``outage`` s:
    of one server, or of a cluster (``redis-cluster://``)."""
    if is_cluster_url(url):
        return OutageCluster(outage, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=ANSWER_TIMEOUT,
                             **cluster_options(url))
    return redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=ANSWER_TIMEOUT,
                                retry=OutageRetry(outage), retry_on_error=list(RETRIED_ERRORS))


def set_once(client, key: str, value: str, **expiry) -> bool:
    """Whether ``key`` holds ``value`` now: set (SET NX, with ``expiry``: ``ex`` or ``px``) if it held nothing, or
    holding it already: a lock its owner took (the same SET sent again by the client's retry after its reply was
    lost), or a setting every worker must agree on."""
    return bool(client.set(key, value, nx=True, **expiry)) or client.get(key) == value.encode()


def client_from_settings(settings) -> redis.Redis:
    """The crawl's client on ``NEWSMIRROR_REDIS`` with its outage window ``NEWSMIRROR_REDIS_OUTAGE``."""
    return redis_client(redis_url(settings), settings.getfloat("NEWSMIRROR_REDIS_OUTAGE", 60.0))


def unreachable(url: str) -> str | None:
    """Why the Redis at ``url`` cannot be used now (one ping, no waiting out an outage), or None. A node of a
    cluster named by a ``redis://`` URL cannot: it would answer only for its own slots."""
    try:
        client = redis_client(url, 0)
        client.ping()
        clustered = not is_cluster_url(url) and client.info("cluster").get("cluster_enabled") == 1
    except (redis.RedisError, ValueError) as exc:
        return f"cannot reach Redis at {url}: {exc}"
    except redis.RedisClusterException as exc:
        return f"cannot reach the Redis Cluster at {url}: {exc}"
    if clustered:
        scheme = "rediss-cluster" if url.startswith("rediss:") else "redis-cluster"
        return f"Redis at {url} is a node of a Redis Cluster: name it {scheme}://{url.partition('://')[2].split('/')[0]}"
    return None
