"""Every Redis key newsmirror uses, built here and nowhere else: a site's state and its current run's keys, all
hash-tagged by site (``newsmirror:{<site>}:<name>``: one Redis Cluster slot), host health and web-archive turns."""

from __future__ import annotations

NAMESPACE = "newsmirror"


def state_key(site: str, name: str) -> str:
    """A site's state key, kept across runs: ``newsmirror:{<site>}:<name>``."""
    return f"{NAMESPACE}:{{{site}}}:{name}"


def legacy_state_key(site: str, name: str) -> str:
    """Where newsmirror kept a site's key before hash tags (``newsmirror:<site>:<name>``): read once, to migrate."""
    return f"{NAMESPACE}:{site}:{name}"


def every_site_key(name: str) -> str:
    """The SCAN pattern of every site's state key ``name``."""
    return state_key("*", name)


def site_of_key(key: str, name: str) -> str:
    """The site of a state key ``name`` that ``every_site_key(name)`` matched."""
    return key[len(NAMESPACE) + 2:-len(name) - 2]


def site_pointer(site: str) -> str:
    """The key naming a site's current run."""
    return state_key(site, "run")


def run_key(site: str, run_id: str, name: str) -> str:
    """A run's key, deleted by its last worker: ``newsmirror:{<site>}:<run-id>:<name>``."""
    return state_key(site, f"{run_id}:{name}")


def host_check_key(site: str, host: str) -> str:
    """Held by the worker verifying a mirror candidate of the site."""
    return state_key(site, f"checking:{host}")


def published_day_key(site: str, day: str) -> str:
    """The ids of the site's articles published on a day (UTC, ``YYYY-MM-DD``), 10 bytes each."""
    return state_key(site, f"published:{day}")


def host_health_key(host: str) -> str:
    """A host's circuit breaker, shared by every site and run: ``newsmirror:host:<host>``."""
    return f"{NAMESPACE}:host:{host}"


def slot_key(slot: str, name: str) -> str:
    """A download slot's shared pacing (``archive:<netloc>``): its ``turn`` and its ``backoff``."""
    return f"{NAMESPACE}:{slot}:{name}"
