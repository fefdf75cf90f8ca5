"""The ``newsmirror`` command line: crawl, scrape, sites and demo (see ``newsmirror --help``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from . import __version__
from .dates import utc_now_iso
from .cleaning import TextCleaner
from .extract import ExtractionError, extract_article
from .items import RECORD_FIELDS, make_article
from .profiles import ProfileError, SiteProfile, load_profiles
from .urls import site_host

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A usage or configuration error: printed as one line, exit status 2."""


def load_settings(args, overrides: list[str] = ()) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NEWSMIRROR_SITES_FILES", [str(Path(f).resolve()) for f in (getattr(args, "sites", None) or [])], "cmdline")
    if getattr(args, "output", None):
        settings.set("NEWSMIRROR_OUTPUT", args.output, "cmdline")
    if getattr(args, "state", None):
        settings.set("NEWSMIRROR_STATE", args.state, "cmdline")
    if getattr(args, "quiet", False):
        settings.set("LOG_LEVEL", "WARNING", "cmdline")
    for override in overrides:
        name, sep, value = override.partition("=")
        if not sep or not name:
            raise CliError(f"-s expects NAME=VALUE, got {override!r}")
        settings.set(name.strip(), value, "cmdline")
    return settings


def profiles_or_exit(args) -> dict[str, SiteProfile]:
    try:
        return load_profiles(getattr(args, "sites", None) or [])
    except ProfileError as exc:
        raise CliError(f"bad site profile: {exc}") from None


# -- crawl -------------------------------------------------------------------------------------
def crawl_outcome(crawler, profile: SiteProfile, elapsed: float) -> tuple[bool, str]:
    """(succeeded, one-line summary) of one finished site crawl, from its stats."""
    stats = crawler.stats.get_stats()
    reason = stats.get("finish_reason", "not started")
    answered = [h for h in profile.hosts if any(
        v and k.startswith(f"newsmirror/host/{h}/status/") and int(k.rsplit("/", 1)[1]) < 500
        for k, v in stats.items())]
    failures = sum(v for k, v in stats.items() if k.startswith("newsmirror/failed/"))
    new = stats.get("newsmirror/articles/new", 0)
    summary = (
        f"{profile.id}: {new} new articles, {stats.get('newsmirror/articles/known', 0)} already known, "
        f"{stats.get('newsmirror/pages/skipped', 0)} pages skipped, {failures} failed requests; "
        f"{stats.get('response_received_count', 0)} responses from {len(answered)}/{len(profile.hosts)} hosts "
        f"in {elapsed:.1f}s -> {stats.get('newsmirror/output', '-')}"
    )
    if reason != "finished":
        return False, f"{summary} [FAILED: crawl ended with {reason}]"
    if not answered:
        return False, f"{summary} [FAILED: no host of {profile.id} reachable: {', '.join(profile.hosts)}]"
    return True, summary


def run_crawl(sites: list[str], settings: Settings, profiles: dict[str, SiteProfile]) -> int:
    from .spiders.news import NewsSpider

    unknown = [s for s in sites if s not in profiles]
    if unknown:
        raise CliError(f"unknown site {unknown[0]!r}; known sites: {', '.join(sorted(profiles))} (see `newsmirror sites`)")
    process = CrawlerProcess(settings)
    crawlers = []
    for site in dict.fromkeys(sites):
        crawler = process.create_crawler(NewsSpider)
        process.crawl(crawler, site=site)
        crawlers.append((crawler, profiles[site]))
    started = time.monotonic()
    process.start()
    elapsed = time.monotonic() - started
    status = EXIT_OK
    for crawler, profile in crawlers:
        ok, summary = crawl_outcome(crawler, profile, elapsed)
        print(summary, file=sys.stderr)
        status = status if ok else EXIT_FAILED
    return status


def cmd_crawl(args) -> int:
    profiles = profiles_or_exit(args)
    return run_crawl(args.site, load_settings(args, args.set), profiles)


# -- scrape ------------------------------------------------------------------------------------
def error_record(target: str, message: str, site: str | None = None) -> dict:
    record = dict.fromkeys(RECORD_FIELDS)
    record.update(mirror_urls=[], authors=[], tags=[], site=site, source=target, error=message)
    return record


def profile_for_url(url: str, profiles: dict[str, SiteProfile]) -> SiteProfile | None:
    host = urlsplit(url).hostname
    return next((p for p in profiles.values() if site_host(host, p) is not None), None)


def scrape_local(target: str, body: bytes, profile: SiteProfile | None, profiles: dict[str, SiteProfile],
                 cleaner: TextCleaner, engine: str) -> dict:
    """Record of a local file or stdin: URL and site come from the page's canonical link, if any."""
    extracted = extract_article(body, "", profile, engine=engine)
    urls = [extracted["canonical_url"]] if extracted["canonical_url"] else []
    if profile is None and urls and (profile := profile_for_url(urls[0], profiles)) is not None:
        extracted = extract_article(body, urls[0], profile, engine=engine)
    return make_article(cleaner.clean(extracted, profile), profile, urls, target, None).record()


def cmd_scrape(args) -> int:
    profiles = profiles_or_exit(args)
    if args.site and args.site not in profiles:
        raise CliError(f"unknown site {args.site!r}; known sites: {', '.join(sorted(profiles))}")
    forced = profiles[args.site] if args.site else None
    settings = load_settings(args, args.set)
    cleaner = TextCleaner.from_settings(settings)
    engine = settings.get("NEWSMIRROR_EXTRACT_ENGINE") or "trafilatura"
    results: dict[int, dict | str] = {}
    remote: list[tuple[int, str, SiteProfile | None]] = []
    for index, target in enumerate(args.target):
        if target.startswith(("http://", "https://")):
            remote.append((index, target, forced or profile_for_url(target, profiles)))
            continue
        try:
            body = sys.stdin.buffer.read() if target == "-" else Path(target).read_bytes()
        except OSError as exc:
            results[index] = error_record(target, f"cannot read {target}: {exc.strerror or exc}")
            continue
        try:
            results[index] = scrape_local(target, body, forced, profiles, cleaner, engine)
        except ExtractionError as exc:
            results[index] = error_record(target, f"{target}: {exc}")
    if remote:
        from .spiders.scrape import ScrapeSpider

        if not args.verbose:
            settings.set("LOG_LEVEL", "ERROR", "cmdline")
        fetched: dict[int, object] = {}
        process = CrawlerProcess(settings)
        process.crawl(ScrapeSpider, targets=remote, results=fetched, cleaner=cleaner)
        process.start()
        for index, target, profile in remote:
            outcome = fetched.get(index, "no response (crawl stopped)")
            site = profile.id if profile else None
            results[index] = error_record(target, outcome, site) if isinstance(outcome, str) else outcome.record()
    failed = 0
    for index, target in enumerate(args.target):
        record = results[index]
        failed += "error" in record
        if "error" in record:
            print(f"newsmirror scrape: {record['error']}", file=sys.stderr)
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return EXIT_FAILED if failed else EXIT_OK


# -- sites -------------------------------------------------------------------------------------
def cmd_sites(args) -> int:
    profiles = profiles_or_exit(args)
    for profile in profiles.values():
        rule = profile.article.pattern if profile.article else "(judged by the extractor)"
        print(f"{profile.id:<12} {profile.name}")
        print(f"    hosts:   {', '.join(profile.hosts)}  (primary {profile.primary}, {profile.scheme})")
        print(f"    start:   {', '.join(profile.start)}")
        print(f"    article: {rule}")
        print(f"    from:    {profile.source}")
    print(f"{len(profiles)} site profiles, all valid", file=sys.stderr)
    return EXIT_OK


# -- demo --------------------------------------------------------------------------------------
def cmd_demo(args) -> int:
    from .farm import MirrorFarm, harbor_news

    site = harbor_news(articles=40, hosts=3)
    down = site.hosts[-1]
    output = Path(args.output)
    with MirrorFarm([site]) as farm, tempfile.TemporaryDirectory() as scratch:
        farm.set_fault(down, "refuse")
        profile_file = Path(scratch) / "demo-sites.toml"
        profile_file.write_text(site.profile_toml(), encoding="utf-8")
        os.environ["http_proxy"] = farm.proxy_url
        os.environ["no_proxy"] = ""
        print(f"demo: mirror farm on {farm.proxy_url} serving {site.name} on {', '.join(site.hosts)}; "
              f"{down} refuses connections", file=sys.stderr)
        args.sites = [str(profile_file)]
        status = run_crawl([site.id], load_settings(args, args.set), profiles_or_exit(args))
    runs = sorted((output / site.id).glob("*.jsonl"))
    if runs:
        print(f"demo: articles of this run in {runs[-1]}; state in {output / 'state.sqlite3'}", file=sys.stderr)
    return status


# -- entry point -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsmirror",
        description="Crawl news sites on all their mirror domains, clean each article and keep one record per article.",
        epilog="Exit status: 0 done, 1 a crawl or target failed, 2 usage or configuration error. "
        "Network access honours http_proxy, https_proxy and no_proxy.",
    )
    parser.add_argument("--version", action="version", version=f"newsmirror {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help_text, description):
        sub = commands.add_parser(name, help=help_text, description=description)
        sub.set_defaults(func=func)
        return sub

    def add_scrapy_settings(sub):
        sub.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                         help="pass a Scrapy or newsmirror setting (repeatable), e.g. -s DOWNLOAD_DELAY=1")

    crawl = add("crawl", cmd_crawl, "crawl sites incrementally",
                "Run one incremental crawl of each SITE on all its hosts and write only articles that no earlier "
                "run emitted to OUTPUT/<site>/<run-id>.jsonl.")
    crawl.add_argument("site", nargs="+", metavar="SITE", help="site id from a profile (see `newsmirror sites`)")
    crawl.add_argument("--sites", action="append", metavar="FILE", help="extra site profiles (TOML), repeatable")
    crawl.add_argument("--output", metavar="DIR", help="output directory (default: output)")
    crawl.add_argument("--state", metavar="PATH", help="SQLite state file (default: OUTPUT/state.sqlite3)")
    crawl.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    add_scrapy_settings(crawl)

    scrape = add("scrape", cmd_scrape, "extract articles from URLs, files or stdin",
                 "Extract each TARGET (a URL, a local HTML file, or - for standard input) and print one JSON record "
                 "per target, in order. A failed target prints a record with an 'error' field; the exit status is "
                 "then 1.")
    scrape.add_argument("target", nargs="+", metavar="TARGET")
    scrape.add_argument("--site", metavar="SITE", help="use this site's profile (default: by the URL's host)")
    scrape.add_argument("--sites", action="append", metavar="FILE", help="extra site profiles (TOML), repeatable")
    scrape.add_argument("-v", "--verbose", action="store_true", help="show Scrapy's log while fetching")
    add_scrapy_settings(scrape)

    sites = add("sites", cmd_sites, "list and validate site profiles",
                "List the built-in site profiles and those of --sites files, validating every one.")
    sites.add_argument("--sites", action="append", metavar="FILE", help="extra site profiles (TOML), repeatable")

    demo = add("demo", cmd_demo, "crawl the bundled mirror farm offline",
               "Start the bundled mirror farm on 127.0.0.1 (a three-host news site, one host refusing connections), "
               "crawl it through the farm's proxy and write real output: the whole product, offline.")
    demo.add_argument("--output", metavar="DIR", default="output/demo", help="output directory (default: output/demo)")
    demo.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    add_scrapy_settings(demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"newsmirror {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"newsmirror {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
