"""The ``newsmirror`` command line: crawl, scrape, export, sites and demo (see ``newsmirror --help``)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import tempfile
import time
from contextlib import closing, contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import redis
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import UsageError
from scrapy.settings import Settings

from crawler import __version__
from crawler.clean.pipelines import TextCleaner
from crawler.distributed.client import client_from_settings, redis_url, unreachable
from crawler.distributed.store import RedisPrintFormatError, RedisState, redis_state_problem
from crawler.extract.article import MAX_PAGE_BYTES, ExtractionError, extract_article
from crawler.extract.engines import engine_from_settings
from crawler.extract.verdict import missing_article
from crawler.output import export
from crawler.output.record import Article, make_article
from crawler.reporting.history import header_line, history_rows, plural, run_line
from crawler.reporting.trends import WINDOW_DAYS
from crawler.reporting.logs import hide_scrapy_info
from crawler.setting_names import setting_warning
from crawler.reporting.outcome import (
    EXIT_BUSY, EXIT_FAILED, EXIT_INCOMPLETE, EXIT_OK, EXIT_REDIS, EXIT_STATE, EXIT_USAGE, EXIT_WRITE, exit_statuses_help,
    site_outcome, worst,
)
from crawler.sites.profiles import ProfileError, SiteProfile, load_profiles
from crawler.sites.urls import SiteIndex
from crawler.state.locking import CrawlBusy, SiteLock
from crawler.state.maintenance import StateError, backup_state, complete_shared_state, rebuild_state, state_problem
from crawler.state.runfile import run_files
from crawler.state.sqlite import SqliteState, state_path
from crawler.state.writes import WRITE_ERRORS, error_text, not_writable, not_writable_file, space_problem

URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://|^(file|data|javascript|mailto|about):", re.I)  # ftp://x, file:/etc/x


class CliError(Exception):
    """A usage or configuration error, or a state that cannot be read: printed as one line, exit status 2 (or
    ``status``)."""

    def __init__(self, message: str, status: int = EXIT_USAGE):
        super().__init__(message)
        self.status = status


def load_settings(args, overrides: list[str] = ()) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NEWSMIRROR_SITES_FILES", [str(Path(f).resolve()) for f in (getattr(args, "sites", None) or [])], "cmdline")
    if getattr(args, "output", None):
        settings.set("NEWSMIRROR_OUTPUT", args.output, "cmdline")
    if getattr(args, "state", None):
        settings.set("NEWSMIRROR_STATE", args.state, "cmdline")
    if getattr(args, "redis", None):
        settings.set("NEWSMIRROR_REDIS", args.redis, "cmdline")
    if getattr(args, "quiet", False):
        settings.set("LOG_LEVEL", "WARNING", "cmdline")
    if hasattr(args, "verbose"):
        settings.set("NEWSMIRROR_SCRAPY_INFO", args.verbose, "cmdline")
    if getattr(args, "record_warc", False):
        settings.set("NEWSMIRROR_WARC", True, "cmdline")
    if getattr(args, "allow_private", False):
        settings.set("NEWSMIRROR_ALLOW_PRIVATE", True, "cmdline")
    if getattr(args, "metrics", None):
        settings.set("NEWSMIRROR_METRICS", args.metrics, "cmdline")
    if hasattr(args, "from_archive"):  # crawl's --since and --until (export has its own)
        archive = args.from_archive
        if archive:
            settings.set("NEWSMIRROR_FROM_ARCHIVE", True, "cmdline")
        elif args.until:
            raise CliError("--until goes with --from-archive")
        for option, name in (("since", "NEWSMIRROR_ARCHIVE_SINCE" if archive else "NEWSMIRROR_SINCE"),
                             ("until", "NEWSMIRROR_ARCHIVE_UNTIL")):
            value = getattr(args, option, None)
            if value:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    raise CliError(f"--{option} {value!r}: expected a date, YYYY-MM-DD")
                settings.set(name, value, "cmdline")
        if args.max_articles is not None:
            if args.max_articles < 1:
                raise CliError(f"--max-articles {args.max_articles}: expected at least 1")
            settings.set("NEWSMIRROR_MAX_ARTICLES", args.max_articles, "cmdline")
    for override in overrides:
        name, sep, value = override.partition("=")
        if not sep or not name:
            raise CliError(f"-s expects NAME=VALUE, got {override!r}")
        if warning := setting_warning(name.strip()):
            print(f"newsmirror {args.command}: warning: -s {override}: {warning}", file=sys.stderr)
        settings.set(name.strip(), value, "cmdline")
    return settings


def profiles_or_exit(args) -> dict[str, SiteProfile]:
    try:
        return load_profiles(getattr(args, "sites", None) or [])
    except ProfileError as exc:
        raise CliError(f"bad site profile: {exc}") from None


# -- crawl -------------------------------------------------------------------------------------
def run_crawl(sites: list[str], settings: Settings, profiles: dict[str, SiteProfile]) -> int:
    """Crawl each site once, holding each site's lock on the state (local state only: the workers of a
    distributed crawl share their run through Redis); the exit status."""
    unknown = [s for s in sites if s not in profiles]
    if unknown:
        raise CliError(f"unknown site {unknown[0]!r}; known sites: {', '.join(sorted(profiles))} (see `newsmirror sites`)")
    if settings.getbool("NEWSMIRROR_FROM_ARCHIVE") and (bare := [s for s in sites if not profiles[s].archives]):
        raise CliError(f"{bare[0]}: --from-archive needs archives in the profile (key 'archives')")
    output = Path(settings.get("NEWSMIRROR_OUTPUT"))
    for directory in dict.fromkeys([output, state_path(settings).parent, *(output / site for site in sites)]):
        if problem := not_writable(directory) or space_problem(directory, settings.getfloat("NEWSMIRROR_MIN_FREE_MB")):
            print(f"newsmirror crawl: {problem}; not starting", file=sys.stderr)
            return EXIT_WRITE
    if problem := metrics_problem(settings.get("NEWSMIRROR_METRICS")):
        print(f"newsmirror crawl: --metrics {settings.get('NEWSMIRROR_METRICS')}: {problem}; not starting", file=sys.stderr)
        return EXIT_WRITE
    if redis_url(settings):
        if problem := unreachable(redis_url(settings)):
            print(f"newsmirror crawl: {problem}; not starting", file=sys.stderr)
            return EXIT_REDIS
        if problem := redis_state_problem(client_from_settings(settings), list(dict.fromkeys(sites))):
            print(f"newsmirror crawl: {problem}", file=sys.stderr)
            return EXIT_STATE
        return crawl_sites(sites, settings, profiles)
    if problem := not_writable_file(state_path(settings)):  # left read-only, or by another user
        print(f"newsmirror crawl: {problem}; not starting", file=sys.stderr)
        return EXIT_WRITE
    locks = []  # first: a state a running crawl writes is never judged (its WAL may hold pages not yet checkpointed)
    try:
        for site in dict.fromkeys(sites):
            locks.append(SiteLock(state_path(settings), site).acquire())
    except CrawlBusy as exc:
        for lock in locks:
            lock.release()
        print(f"newsmirror crawl: {exc}; not starting (exit {EXIT_BUSY}: try again later)", file=sys.stderr)
        return EXIT_BUSY
    try:
        problem = None if settings.getbool("NEWSMIRROR_NEW_STATE") else state_problem(
            state_path(settings), output, list(dict.fromkeys(sites)))
        if problem:
            print(f"newsmirror crawl: {problem}", file=sys.stderr)
            return EXIT_STATE
        settings.set("NEWSMIRROR_LOCK_HELD", True, "cmdline")
        return crawl_sites(sites, settings, profiles)
    finally:
        for lock in locks:
            lock.release()


def metrics_problem(metrics: str | None) -> str | None:
    """Why the metrics file could not be written when the runs end (a directory, or one that cannot be written
    in), or None."""
    if not metrics:
        return None
    path = Path(metrics)
    return f"{path} is a directory" if path.is_dir() else not_writable(path.parent)


def crawl_sites(sites: list[str], settings: Settings, profiles: dict[str, SiteProfile]) -> int:
    from crawler.spiders.news import NewsSpider

    quiet_scrapy = not settings.getbool("NEWSMIRROR_SCRAPY_INFO")
    if quiet_scrapy:
        hide_scrapy_info()
    process = CrawlerProcess(settings)
    if quiet_scrapy:
        hide_scrapy_info()
    crawlers = []
    for site in dict.fromkeys(sites):
        spider_class = NewsSpider
        if settings.getbool("NEWSMIRROR_JOBDIR") and not settings.get("JOBDIR") and not redis_url(settings):
            job_dir = str(Path(settings.get("NEWSMIRROR_OUTPUT")) / site / ".jobdir")  # one job dir per site
            spider_class = type(NewsSpider.__name__, (NewsSpider,), {"custom_settings": {"JOBDIR": job_dir}})
        crawler = process.create_crawler(spider_class)
        process.crawl(crawler, site=site)
        crawlers.append((crawler, profiles[site]))
    started = time.monotonic()
    process.start()
    elapsed = time.monotonic() - started
    outcomes = [site_outcome(crawler.stats.get_stats(), profile, elapsed) for crawler, profile in crawlers]
    ended = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for outcome in outcomes:
        print(f"{ended} {outcome.summary}", file=sys.stderr)
    return worst(outcome.status for outcome in outcomes)


def cmd_crawl(args) -> int:
    profiles = profiles_or_exit(args)
    return run_crawl(args.site, load_settings(args, args.set), profiles)


# -- scrape ------------------------------------------------------------------------------------
def error_record(target: str, message: str, site: str | None = None) -> dict:
    return {**Article(id=None, site=site, url=None, source=target).record(), "error": message}


def read_capped(source: Path | BinaryIO) -> bytes:
    """A page from a file or stream, at most one byte beyond what extraction reads: a larger page is read
    no further (the record says ``truncated``), so ``scrape - < /dev/zero`` costs 4 MiB, not all memory."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            return stream.read(MAX_PAGE_BYTES + 1)
    return source.read(MAX_PAGE_BYTES + 1)


def scrape_local(target: str, body: bytes, profile: SiteProfile | None, sites: SiteIndex,
                 cleaner: TextCleaner, engine: str) -> dict:
    """Record of a local file or stdin (an error record when it holds no article text): URL and site come from
    the page's canonical link, if any."""
    extracted = extract_article(body, "", profile, engine=engine)
    urls = [extracted["canonical_url"]] if extracted["canonical_url"] else []
    if profile is None and urls and (profile := sites.lookup(urls[0])[0]) is not None:
        extracted = extract_article(body, urls[0], profile, engine=engine)
    extracted = cleaner.clean(extracted, profile)
    if problem := missing_article(extracted):
        return error_record(target, f"{target}: {problem}", profile.id if profile else None)
    return make_article(extracted, profile, urls, target, None).record()


def cmd_scrape(args) -> int:
    profiles = profiles_or_exit(args)
    if args.site and args.site not in profiles:
        raise CliError(f"unknown site {args.site!r}; known sites: {', '.join(sorted(profiles))}")
    if not args.target and not args.warc:
        raise CliError("nothing to scrape: give a TARGET or --warc FILE")
    forced = profiles[args.site] if args.site else None
    sites = SiteIndex(profiles.values())
    settings = load_settings(args, args.set)
    cleaner = TextCleaner.from_settings(settings)
    try:
        engine = engine_from_settings(settings)
    except UsageError as exc:
        raise CliError(str(exc)) from None
    results: dict[int, dict | str] = {}
    remote: list[tuple[int, str, SiteProfile | None]] = []
    for index, target in enumerate(args.target):
        match = URL_SCHEME.match(target)
        scheme = (match[1] or match[2]).lower() if match else None
        if scheme in ("http", "https"):
            remote.append((index, target, forced or sites.lookup(target)[0]))
            continue
        if scheme and not Path(target).exists():  # a local file may have a colon in its name
            results[index] = error_record(target, f"unsupported scheme {scheme!r} in {target} (only http and https)")
            continue
        try:
            body = read_capped(sys.stdin.buffer if target == "-" else Path(target))
        except OSError as exc:
            results[index] = error_record(target, f"cannot read {target}: {exc.strerror or exc}")
            continue
        try:
            results[index] = scrape_local(target, body, forced, sites, cleaner, engine)
        except ExtractionError as exc:
            results[index] = error_record(target, f"{target}: {exc}")
    if remote:
        from crawler.spiders.scrape import ScrapeSpider

        if not args.verbose:
            settings.set("LOG_LEVEL", "ERROR", "cmdline")
        settings.set("NEWSMIRROR_TRUSTED_HOSTS", sorted({urlsplit(target).hostname for _, target, _ in remote}), "cmdline")
        fetched: dict[int, object] = {}
        process = CrawlerProcess(settings)
        process.crawl(ScrapeSpider, targets=remote, results=fetched, cleaner=cleaner)
        process.start()
        for index, target, profile in remote:
            outcome = fetched.get(index, "no response (crawl stopped)")
            site = profile.id if profile else None
            results[index] = error_record(target, outcome, site) if isinstance(outcome, str) else outcome.record()
    failed = sum(print_record(results[index]) for index in range(len(args.target)))
    for path in args.warc or []:
        failed += scrape_warc(path, profiles, forced, cleaner)
    return EXIT_FAILED if failed else EXIT_OK


def print_record(record: dict) -> bool:
    """Prints one scrape record on stdout (and its error on stderr); True when it is an error record."""
    if "error" in record:
        print(f"newsmirror scrape: {record['error']}", file=sys.stderr)
    print(json.dumps(record, ensure_ascii=False), flush=True)
    return "error" in record


def scrape_warc(path: str, profiles: dict[str, SiteProfile], forced: SiteProfile | None, cleaner: TextCleaner) -> bool:
    """Prints the record of every article page in a WARC; True when the WARC could not be read to its end."""
    from crawler.output.warc import WarcError, warc_articles

    count = 0
    try:
        for article in warc_articles(path, profiles, cleaner, forced):
            print_record(article.record())
            count += 1
    except WarcError as exc:
        return print_record(error_record(path, f"{exc} (after {count} articles)"))
    print(f"newsmirror scrape: {count} articles from {path}", file=sys.stderr)
    return False


# -- export ------------------------------------------------------------------------------------
def export_bound(option: str, text: str | None, end_of_day: bool = False):
    try:
        return export.parse_bound(text, end_of_day) if text else None
    except export.ExportConfigError as exc:
        raise CliError(f"{option}: {exc}") from None


@contextmanager
def export_sink(path: str | None, fmt: str):
    """The output stream: an atomically written file, or standard output."""
    if path is None:
        if fmt == "parquet" and sys.stdout.isatty():
            raise CliError("Parquet is binary: write it to a file with -o FILE, or redirect standard output")
        yield sys.stdout.buffer
        return
    with export.atomic_file(Path(path)) as stream:
        yield stream


def cmd_export(args) -> int:
    profiles = profiles_or_exit(args)
    settings = load_settings(args)
    output = Path(settings.get("NEWSMIRROR_OUTPUT"))
    state_file = state_path(settings)
    since, until = export_bound("--since", args.since), export_bound("--until", args.until, end_of_day=True)
    if args.format == "parquet":
        try:
            export.pyarrow_modules()
        except export.ExportConfigError as exc:
            raise CliError(str(exc)) from None
    shared = redis_url(settings)
    if args.state and not state_file.is_file():
        raise CliError(f"--state {args.state}: no such state file")
    if args.o and not Path(args.o).parent.is_dir():
        raise CliError(f"-o {args.o}: no such directory {Path(args.o).parent}")

    def warn(message: str) -> None:
        print(f"newsmirror export: warning: {message}", file=sys.stderr)

    files = run_files(output, args.site)
    if not files:
        where = output / (args.site or "*")
        print(f"newsmirror export: nothing to export: no run files {where}/*.jsonl (run `newsmirror crawl` first)",
              file=sys.stderr)
        return EXIT_FAILED
    if not state_file.is_file() and not shared:
        warn(f"no state file {state_file}: mirror_urls are those the run files hold")
    try:
        state = (export.state_open_redis(shared, settings.getfloat("NEWSMIRROR_REDIS_OUTAGE", 60.0)) if shared
                 else export.state_open(state_file))
        with nullcontext() if state is None else closing(state):
            exported = {args.site: profiles[args.site]} if args.site in profiles else {} if args.site else profiles
            total, records = export.dataset(files, state, exported, warn, args.skip_corrupt)
            with export_sink(args.o, args.format) as stream:
                written = export.write_records(
                    records, export.WRITERS[args.format](stream), export.Progress(sys.stderr, total),
                    lambda record: export.in_window(record, args.site, since, until),
                )
    except export.ExportError as exc:
        print(f"newsmirror export: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # the destination (forbidden, full), or a run file that cannot be read
        writing = exc.filename is None or (args.o is not None and Path(exc.filename).parent == Path(args.o).parent)
        what = f"cannot write {args.o or 'standard output'}" if writing else f"cannot read {exc.filename}"
        print(f"newsmirror export: {what}: {error_text(exc)}", file=sys.stderr)
        return EXIT_WRITE if writing else EXIT_FAILED
    print(f"newsmirror export: {written} of {total} articles from {len(files)} run files -> "
          f"{args.o or 'standard output'} ({args.format})", file=sys.stderr)
    return EXIT_OK


# -- the state, read by sites, runs and report -------------------------------------------------
@contextmanager
def open_state(settings, site: str | None = None, writing: bool = False):
    """The state (Redis with --redis, else the SQLite state) or None when there is none yet; opened read-only
    unless ``writing``. ``site``: the site a Redis state is opened for (runs and reports read every site)."""
    url = redis_url(settings)
    if url:
        if problem := unreachable(url):
            raise CliError(problem)
        store = RedisState(client_from_settings(settings), site, read_only=not writing)
    elif state_path(settings).exists():
        store = SqliteState(state_path(settings), read_only=not writing)
    else:
        yield None
        return
    with closing(store):
        yield store


def state_source(settings) -> str:
    return redis_url(settings) or str(state_path(settings))


def read_histories(args, settings, sites: list[str], limit: int) -> dict[str, list[dict]]:
    """Each site's stored runs (every site with runs when ``sites`` is empty), newest first; {} without a state.
    A state that cannot be read is one line: exit 65 (damaged) or 69 (Redis)."""
    if args.state and not state_path(settings).is_file():
        raise CliError(f"--state {args.state}: no such state file")
    try:
        with open_state(settings) as store:
            if store is None:
                return {}
            return {site: store.run_history(site, limit) for site in sites or store.sites_with_runs()}
    except sqlite3.Error as exc:
        raise CliError(f"cannot read the state {state_source(settings)}: {exc} (`newsmirror state rebuild` makes it "
                       "anew from the run files)", EXIT_STATE) from None
    except redis.RedisError as exc:
        raise CliError(f"cannot read the state {state_source(settings)}: {exc}", EXIT_REDIS) from None


# -- runs --------------------------------------------------------------------------------------
MOST_RUNS, MOST_DAYS = 10_000_000, 36_500  # what --last and --days accept
def cmd_runs(args) -> int:
    if not 1 <= args.last <= MOST_RUNS:
        raise CliError(f"--last {args.last}: expected 1 to {MOST_RUNS:,}")
    settings = load_settings(args)
    histories = read_histories(args, settings, args.site, args.last)
    for site in args.site:
        if not histories.get(site):
            print(f"newsmirror runs: no runs of {site} in {state_source(settings)}", file=sys.stderr)
    rows = [row for site, runs in histories.items() for row in history_rows(site, runs)]
    if not rows:
        if not args.site:
            print(f"newsmirror runs: no runs in {state_source(settings)} yet (run `newsmirror crawl SITE` first)",
                  file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return EXIT_OK
    width = max(len("site"), *(len(site) for site in histories))
    print(header_line(width))
    for row in rows:
        print(run_line(row, width))
    return EXIT_OK


# -- report ------------------------------------------------------------------------------------
def cmd_report(args) -> int:
    from crawler.output.report import RUNS_PER_SITE, render, report_data

    if not 0 < args.days <= MOST_DAYS:
        raise CliError(f"--days {args.days:g}: expected more than 0, at most {MOST_DAYS:,}")
    settings = load_settings(args)
    output = Path(settings.get("NEWSMIRROR_OUTPUT"))
    target = Path(args.o) if args.o else output / "report.html"
    if problem := not_writable(target.parent):
        print(f"newsmirror report: {problem}; no report written", file=sys.stderr)
        return EXIT_WRITE
    histories = read_histories(args, settings, [], RUNS_PER_SITE)
    data = report_data(histories, output, args.days,
                       lambda message: print(f"newsmirror report: warning: {message}", file=sys.stderr))
    page = render(data, state_source(settings), datetime.now(timezone.utc))
    try:
        with export.atomic_file(target) as stream:
            stream.write(page.encode("utf-8"))
    except OSError as exc:
        print(f"newsmirror report: cannot write {target}: {error_text(exc)}", file=sys.stderr)
        return EXIT_WRITE
    runs, sites = sum(len(rows) for rows in data.rows.values()), sum(1 for rows in data.rows.values() if rows)
    what = f"{plural(runs, 'run')} of {plural(sites, 'site')}" if runs else "no runs yet"
    print(f"newsmirror report: {what} -> {target}", file=sys.stderr)
    return EXIT_OK


# -- sites -------------------------------------------------------------------------------------


def describe_discovered(host: str, entry: dict) -> str:
    """One line of ``newsmirror sites``: a discovered host, its status and its evidence."""
    found = f"found by {entry.get('found_how')} on {entry.get('found_where')} at {entry.get('found_at')}"
    status = entry["status"]
    if status == "admitted":
        matched = entry.get("evidence", {}).get("matched", [])
        return f"{host}: admitted {entry.get('verified_at')}, {found}; served {len(matched)} stored articles: {', '.join(matched)}"
    if status == "rejected":
        retry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry.get("retry_at", 0)))
        return f"{host}: rejected {entry.get('verified_at')}: {entry.get('reason')}; {found}; not tried again before {retry}"
    return f"{host}: candidate, {found}; verified once the site has emitted two articles"


def cmd_sites(args) -> int:
    profiles = profiles_or_exit(args)
    settings = load_settings(args)
    if args.forget:
        return forget_host(args.forget.lower(), profiles, settings)
    for profile in profiles.values():
        rule = profile.article.pattern if profile.article else "(judged by the extractor)"
        print(f"{profile.id:<12} {profile.name}")
        print(f"    hosts:   {', '.join(profile.hosts)}  (primary {profile.primary}, {profile.scheme})")
        print(f"    start:   {', '.join(profile.start)}")
        print(f"    article: {rule}")
        print(f"    from:    {profile.source}")
        if not profile.discover:
            print("    mirrors: pinned to its hosts (discover = false)")
            continue
        with open_state(settings, profile.id) as store:
            found = store.discovered_hosts(profile.id) if store is not None else {}
        for host, entry in sorted(found.items(), key=lambda item: (item[1]["status"], item[0])):
            print(f"    mirror:  {describe_discovered(host, entry)}")
    print(f"{len(profiles)} site profiles, all valid", file=sys.stderr)
    return EXIT_OK


def forget_host(host: str, profiles: dict[str, SiteProfile], settings) -> int:
    """``sites --forget HOST``: drop a discovered host from every site's discovery; the next run verifies it
    again if the site still names it."""
    forgotten = []
    for profile in profiles.values():
        with open_state(settings, profile.id, writing=True) as store:
            if store is not None and store.forget_discovered_host(profile.id, host):
                forgotten.append(profile.id)
    if not forgotten:
        print(f"newsmirror sites: no site has discovered {host}; nothing to forget", file=sys.stderr)
        return EXIT_FAILED
    print(f"newsmirror sites: forgot {host} ({', '.join(forgotten)}); the next run verifies it again if the site "
          "still names it", file=sys.stderr)
    return EXIT_OK


# -- state -------------------------------------------------------------------------------------
def cmd_state(args) -> int:
    settings = load_settings(args)
    state, output = state_path(settings), Path(settings.get("NEWSMIRROR_OUTPUT"))
    if redis_url(settings):
        return complete_redis_state(settings, args.action, output)
    target = state if args.action == "rebuild" else Path(args.o) if args.o else state.with_name(
        f"{state.name}.backup-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    if problem := not_writable(target.parent):  # a new file, renamed into place: the directory is what counts
        print(f"newsmirror state: {problem}; nothing done", file=sys.stderr)
        return EXIT_WRITE
    try:
        if args.action == "backup":
            backup_state(state, target)
            print(f"newsmirror state: backed up {state} to {target}", file=sys.stderr)
            return EXIT_OK
        sites = sorted(path.parent.name for path in run_files(output)) if output.is_dir() else []
        locks = [SiteLock(state, site).acquire() for site in dict.fromkeys(sites)]
        try:
            rebuilt = rebuild_state(output, state, lambda message: print(f"newsmirror state: {message}", file=sys.stderr))
        finally:
            for lock in locks:
                lock.release()
    except CrawlBusy as exc:
        print(f"newsmirror state: {exc}; not rebuilding (exit {EXIT_BUSY}: try again later)", file=sys.stderr)
        return EXIT_BUSY
    except StateError as exc:
        print(f"newsmirror state: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except WRITE_ERRORS as exc:  # the disk filled up, or the destination changed under us
        print(f"newsmirror state: cannot write {target}: {error_text(exc)}", file=sys.stderr)
        return EXIT_WRITE
    kept = f"; the old state is kept as {rebuilt.set_aside}" if rebuilt.set_aside else ""
    print(f"newsmirror state: rebuilt {state} from {rebuilt.run_files} run files under {output}: "
          f"{rebuilt.articles} articles{kept}", file=sys.stderr)
    return EXIT_OK


def complete_redis_state(settings, action: str, output: Path) -> int:
    """``state rebuild --redis``: what the run files hold that the shared state lacks, added; missing workers'
    files named."""
    url = redis_url(settings)
    if action == "backup":
        raise CliError("state backup copies the SQLite state; back Redis up with its own persistence (BGSAVE, AOF)")
    if problem := unreachable(url):
        raise CliError(problem, EXIT_REDIS)
    client = client_from_settings(settings)
    stores: dict[str, RedisState] = {}

    def store_of(site: str) -> RedisState:
        if site not in stores:
            stores[site] = RedisState(client, site)
        return stores[site]

    try:
        with closing(client):
            rebuilt = complete_shared_state(output, store_of, lambda message: print(f"newsmirror state: warning: {message}",
                                                                                     file=sys.stderr))
    except StateError as exc:
        print(f"newsmirror state: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except RedisPrintFormatError as exc:
        raise CliError(str(exc), EXIT_STATE) from None
    except redis.RedisError as exc:
        raise CliError(f"Redis at {url} failed mid-rebuild: {exc} (run it again: nothing is lost)", EXIT_REDIS) from None
    print(f"newsmirror state: completed the state in {url} from {rebuilt.run_files} run files under {output}: "
          f"{rebuilt.articles} articles it lacked", file=sys.stderr)
    return EXIT_OK


# -- demo --------------------------------------------------------------------------------------
def cmd_demo(args) -> int:
    from crawler.farm.proxy import MirrorFarm
    from crawler.farm.sites import FarmParkedDomain, harbor_news

    site = harbor_news(articles=40, hosts=3)
    down = site.hosts[-1]
    # a fourth mirror the profile does not name, announced by the pages' notice beside a parked decoy
    site.profile_hosts, parked = tuple(site.hosts), FarmParkedDomain(["www.harbornews.online"])
    site.hosts.append("www.harbornews.net")
    site.notice_hosts = (*site.hosts[1:], *parked.hosts)
    output = Path(args.output)
    with MirrorFarm([site, parked]) as farm, tempfile.TemporaryDirectory() as scratch:
        farm.set_fault(down, "refuse")
        profile_file = Path(scratch) / "demo-sites.toml"
        profile_file.write_text(site.profile_toml(), encoding="utf-8")
        os.environ["http_proxy"] = farm.proxy_url
        os.environ["no_proxy"] = ""
        print(f"demo: mirror farm on {farm.proxy_url} serving {site.name} on {', '.join(site.hosts)}; "
              f"{down} refuses connections; the profile names {len(site.profile_hosts)} of them", file=sys.stderr)
        args.sites = [str(profile_file)]
        status = run_crawl([site.id], load_settings(args, args.set), profiles_or_exit(args))
        dataset = output / "dataset.jsonl"
        if status == EXIT_OK:
            status = cmd_export(argparse.Namespace(
                sites=args.sites, output=str(output), state=None, format="jsonl", o=str(dataset), site=None,
                since=None, until=None, skip_corrupt=False,
            ))
    runs = sorted((output / site.id).glob("*.jsonl"))
    if runs:
        print(f"demo: run files in {output / site.id}/ (newest {runs[-1].name}); state in {output / 'state.sqlite3'}",
              file=sys.stderr)
    if status == EXIT_OK:
        print(f"demo: the merged dataset, one record per article: {dataset}", file=sys.stderr)
        status = cmd_report(argparse.Namespace(output=str(output), state=None, redis=None, o=None, days=WINDOW_DAYS))
    return status


# -- entry point -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsmirror",
        description="Crawl news sites on all their mirror domains, clean each article and keep one record per article.",
        epilog=f"{exit_statuses_help()} Network access honours http_proxy, https_proxy and no_proxy.",
    )
    parser.add_argument("--version", action="version", version=f"newsmirror {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help_text, description):
        sub = commands.add_parser(name, help=help_text, description=description)
        sub.set_defaults(func=func)
        return sub

    def add_sites_option(sub, help_text="extra site profiles (TOML), repeatable"):
        sub.add_argument("--sites", action="append", metavar="FILE", help=help_text)

    def add_scrapy_settings(sub):
        sub.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                         help="pass a Scrapy or newsmirror setting (repeatable), e.g. -s DOWNLOAD_DELAY=1")

    def add_allow_private(sub):
        sub.add_argument("--allow-private", action="store_true",
                         help="let targets the web chooses (redirects, meta refreshes, discovered mirrors) be in this "
                         "machine's own network: loopback, private, link-local... (refused otherwise; the targets you "
                         "give and the profiles' hosts are fetched as given either way)")

    def add_verbosity(sub):
        quiet_or_verbose = sub.add_mutually_exclusive_group()
        quiet_or_verbose.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
        quiet_or_verbose.add_argument("-v", "--verbose", action="store_true",
                                      help="also log Scrapy's own messages: start-up, settings and the full stats at the "
                                      "end (those are always in OUTPUT/<site>/<run-id>.stats.json)")

    def add_state_options(sub, what: str):
        sub.add_argument("--output", metavar="DIR", help="output directory the crawls wrote (default: output)")
        sub.add_argument("--state", metavar="PATH", help="SQLite state file (default: OUTPUT/state.sqlite3)")
        sub.add_argument("--redis", metavar="URL", help=f"redis://HOST:PORT/DB: {what} of distributed crawls (also "
                         "NEWSMIRROR_REDIS) instead of the SQLite state")

    crawl = add("crawl", cmd_crawl, "crawl sites incrementally",
                "Run one incremental crawl of each SITE on all its hosts and write only articles that no earlier "
                "run emitted to OUTPUT/<site>/<run-id>.jsonl.")
    crawl.add_argument("site", nargs="+", metavar="SITE", help="site id from a profile (see `newsmirror sites`)")
    add_sites_option(crawl)
    crawl.add_argument("--output", metavar="DIR", help="output directory (default: output)")
    crawl.add_argument("--state", metavar="PATH", help="SQLite state file (default: OUTPUT/state.sqlite3)")
    crawl.add_argument("--redis", metavar="URL",
                       help="redis://HOST:PORT/DB: share the frontier and state with every worker crawling the same "
                       "site on this Redis (also NEWSMIRROR_REDIS); each worker writes OUTPUT/<site>/<run-id>-<worker>.jsonl")
    add_verbosity(crawl)
    crawl.add_argument("--from-archive", action="store_true",
                       help="backfill: list the site's article URLs on all its hosts, retired ones too, from the "
                       "profile's web archives (CDX) and fetch each article not yet emitted from its newest good snapshot")
    crawl.add_argument("--since", metavar="DATE",
                       help="follow only listing entries dated DATE (YYYY-MM-DD) or later, by their listing's date or "
                       "the date in their URL (undated ones are followed); a profile's max_age does the same for "
                       "every run; with --from-archive: snapshots from DATE")
    crawl.add_argument("--until", metavar="DATE", help="with --from-archive: snapshots until DATE (YYYY-MM-DD)")
    add_allow_private(crawl)
    crawl.add_argument("--max-articles", metavar="N", type=int,
                       help="fetch at most N new articles, then end cleanly: the rest stay pending for the next run "
                       f"(exit status {EXIT_INCOMPLETE})")
    crawl.add_argument("--metrics", metavar="FILE",
                       help="when each run ends, write every site's run history as Prometheus metrics to FILE (atomically; "
                       "for node_exporter's textfile collector name it *.prom); crawls of several sites on one state may "
                       "share FILE")
    crawl.add_argument("--warc", dest="record_warc", action="store_true",
                       help="also archive every response downloaded, with its request, to OUTPUT/<site>/<run-id>.warc.gz "
                       "(same as -s NEWSMIRROR_WARC=True); `newsmirror scrape --warc FILE` re-extracts it offline")
    add_scrapy_settings(crawl)

    scrape = add("scrape", cmd_scrape, "extract articles from URLs, files or stdin",
                 "Extract each TARGET (a URL, a local HTML file, or - for standard input) and print one JSON record "
                 "per target, in order. A URL on a known site that every host of the site fails comes from the "
                 "newest good snapshot in the profile's web archives (its record says archived_at). A failed target "
                 "prints a record with an 'error' field; the exit status is then 1.")
    scrape.add_argument("target", nargs="*", metavar="TARGET")
    scrape.add_argument("--warc", action="append", metavar="FILE",
                        help="also re-extract every article page archived in this WARC file (repeatable), offline; "
                        "its records follow those of the targets")
    scrape.add_argument("--site", metavar="SITE", help="use this site's profile (default: by the URL's host)")
    add_sites_option(scrape)
    scrape.add_argument("-v", "--verbose", action="store_true", help="show Scrapy's log while fetching")
    add_allow_private(scrape)
    add_scrapy_settings(scrape)

    export_cmd = add("export", cmd_export, "write the merged dataset (JSONL, CSV or Parquet)",
                     "Merge every run file under OUTPUT into the dataset: exactly one record per article across all "
                     "runs (its latest revision), mirror_urls completed with every URL later runs saw it at, in the "
                     "current schema version. Exit status 1 when there is nothing to export or a run file is corrupt.")
    add_state_options(export_cmd, "read mirror URLs from the state")
    add_sites_option(export_cmd, "extra site profiles (TOML), repeatable: their host order puts primary URLs first")
    export_cmd.add_argument("--format", choices=export.FORMATS, default="jsonl",
                            help="jsonl (default); csv: RFC 4180, list fields as JSON arrays, null as an empty cell; "
                            "parquet: needs pip install 'newsmirror[parquet]'")
    export_cmd.add_argument("-o", metavar="FILE",
                            help="write to FILE, atomically (it appears only complete); default: standard output")
    export_cmd.add_argument("--site", metavar="SITE", help="only this site's articles")
    export_cmd.add_argument("--skip-corrupt", action="store_true",
                            help="leave out a corrupt line before a run file's last (each one named in a warning) "
                            "instead of refusing the dataset")
    export_cmd.add_argument("--since", metavar="DATE",
                            help="only articles published (else fetched) at or after DATE: YYYY-MM-DD or ISO 8601, UTC "
                            "unless it has an offset")
    export_cmd.add_argument("--until", metavar="DATE",
                            help="only articles published (else fetched) at or before DATE (a bare date includes its "
                            "whole day)")

    runs = add("runs", cmd_runs, "list each site's runs: counts, hosts down, exit status",
               "One line per run, oldest first: start time (UTC), duration, new / known / revised / pending / lost "
               "articles, throttled and failed requests, archive fetches, exit status, then the hosts that did not "
               "serve, the mirrors admitted, and what a run left unsaid (killed, or from an older version). Exit "
               "status 1 when there is no run.")
    runs.add_argument("site", nargs="*", metavar="SITE", help="only these sites (default: every site in the state)")
    runs.add_argument("--last", metavar="N", type=int, default=20, help="the last N runs of each site (default 20)")
    runs.add_argument("--json", action="store_true",
                      help="one JSON object per run and line (layout: docs/operations.md, \"Run history\")")
    add_state_options(runs, "read the runs from the state")

    report = add("report", cmd_report, "write an HTML report of the runs",
                 "Write one self-contained HTML page (plots inline, no script, nothing fetched): articles per day per "
                 "site, each host's state run by run, failovers, archive fallbacks and throttling over time, the "
                 "records flagged truncated, paywalled or short, the latest run of each site and its newest articles.")
    report.add_argument("-o", metavar="FILE", help="write to FILE, atomically (default: OUTPUT/report.html)")
    report.add_argument("--days", metavar="N", type=float, default=WINDOW_DAYS,
                        help=f"the runs of the last N days, up to the newest run (default {WINDOW_DAYS})")
    add_state_options(report, "read the runs from the state")

    sites = add("sites", cmd_sites, "list and validate site profiles, and the mirrors discovered for them",
                "List the built-in site profiles and those of --sites files, validating every one, with the mirror "
                "hosts that crawls discovered for each site (admitted, rejected and why, or waiting to be verified) "
                "and their evidence: where, how and when each was found and verified.")
    add_sites_option(sites)
    sites.add_argument("--output", metavar="DIR", help="output directory of the crawls (default: output)")
    sites.add_argument("--state", metavar="PATH", help="SQLite state file (default: OUTPUT/state.sqlite3)")
    sites.add_argument("--redis", metavar="URL", help="read (and forget) discovered mirrors in this Redis instead")
    sites.add_argument("--forget", metavar="HOST",
                       help="drop HOST from the discovered mirrors (admitted or rejected): the next crawl verifies it "
                       "again when the site still names it")

    state = add("state", cmd_state, "rebuild the state from the run files, or back it up",
                "rebuild: make the state anew from every run file under OUTPUT (the source of truth: every emitted "
                "article is in one), keeping a damaged state beside it; the next crawl then emits nothing it emitted "
                "before. backup: an online copy of the state (safe while a crawl runs).")
    state.add_argument("action", choices=("rebuild", "backup"))
    state.add_argument("--output", metavar="DIR", help="output directory the crawls wrote (default: output)")
    state.add_argument("--state", metavar="PATH", help="SQLite state file (default: OUTPUT/state.sqlite3)")
    state.add_argument("-o", metavar="FILE", help="backup: where to write the copy (default: STATE.backup-<time>)")
    state.add_argument("--redis", metavar="URL",
                       help="rebuild the shared state of distributed crawls instead: add what the run files under OUTPUT "
                       "hold and Redis lacks (nothing is removed), and name each worker's run file the state counts "
                       "articles in that OUTPUT is missing")

    demo = add("demo", cmd_demo, "crawl the bundled mirror farm offline",
               "Start the bundled mirror farm on 127.0.0.1 (a news site on four hosts, one refusing connections, one "
               "that only its pages' alternate-address notice names, beside a parked decoy), crawl it through the "
               "farm's proxy and write real output: the whole product, offline.")
    demo.add_argument("--output", metavar="DIR", default="output/demo", help="output directory (default: output/demo)")
    add_verbosity(demo)
    add_scrapy_settings(demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"newsmirror {args.command}: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print(f"newsmirror {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `newsmirror export | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
