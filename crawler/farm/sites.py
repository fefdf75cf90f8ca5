"""The mirror farm's fake news sites: articles, feeds, sitemaps and section pages, the same on every host.

Each article of a FarmSite is
listed by exactly one discovery channel (RSS, Atom, gzipped sitemap via the index, Google News sitemap
or paginated section pages) so a crawl that finds them all has exercised every channel.
"""

from __future__ import annotations

import gzip
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from urllib.parse import unquote, urlsplit

CHANNELS = ("rss", "atom", "sitemap", "news", "section")
SECTIONS = ("World", "Middle East", "Economy", "Russia", "Science")
_PEOPLE = ("the foreign minister", "a senior UN official", "the central bank governor", "local residents",
           "the defence ministry", "opposition lawmakers", "a government spokesperson", "aid agencies",
           "the port authority", "independent analysts", "the trade union federation", "the energy minister")
_ACTIONS = ("warned that", "said on Tuesday that", "confirmed that", "denied reports that", "announced that",
            "told reporters that", "argued that", "insisted that", "acknowledged that", "rejected claims that")
_EVENTS = ("talks on the new shipping corridor had stalled", "fuel prices would rise again next month",
           "the ceasefire was holding along most of the border", "inflation had slowed for a third month",
           "the river had burst its banks north of the capital", "two convoys had reached the besieged town",
           "the harbour would reopen to container traffic", "the election commission would recount the ballots",
           "the grain deal could be extended until spring", "wheat exports had doubled since January",
           "negotiators had agreed on a prisoner exchange", "the drought had cut the harvest by a third",
           "the railway link would be finished ahead of schedule", "the new tariffs targeted steel and aluminium")
_PLACES = ("Tehran", "Ankara", "Baghdad", "Beirut", "Caracas", "Doha", "Muscat", "Sanaa", "Kabul", "Tbilisi",
           "Yerevan", "Baku", "Almaty", "Tashkent", "Islamabad", "Karachi", "Cairo", "Tunis", "Algiers", "Rabat")
_TOPICS = ("Ceasefire", "Harbour", "Drought", "Tariffs", "Election", "Grain deal", "Railway", "Fuel prices",
           "Convoy", "Talks", "Flooding", "Exports", "Prisoner swap", "Inflation")


@dataclass
class FarmArticle:
    id: int
    published: datetime
    section: int
    title: str
    slug: str
    author: str
    paragraphs: list[str]
    channel: str
    modified: datetime | None = None  # a correction's time: the sitemap's <lastmod> and Atom's <updated>

    @property
    def path(self) -> str:
        d = self.published
        return f"/Detail/{d.year}/{d.month}/{d.day}/{self.id}/{self.slug}"


_WHEN = ("on Monday", "on Tuesday", "late on Wednesday", "on Thursday morning", "on Friday", "over the weekend",
         "earlier this month", "after a week of talks", "in a televised address", "at a news conference")
_DETAILS = ("according to figures released by the statistics office", "citing two officials who asked not to be named",
            "in a statement carried by state media", "despite objections from several neighbouring states",
            "as protesters gathered outside the ministry", "while the opposition called for an inquiry",
            "a claim that could not be independently verified", "adding that talks would resume within days",
            "as prices at the pump climbed for a sixth week", "in remarks broadcast by the national channel")


def _sentence(rng: random.Random) -> str:
    who = rng.choice(_PEOPLE)
    sentence = f"{who[0].upper()}{who[1:]} in {rng.choice(_PLACES)} {rng.choice(_ACTIONS)} {rng.choice(_EVENTS)}"
    if rng.random() < 0.6:
        sentence += f" {rng.choice(_WHEN)}"
    if rng.random() < 0.5:
        sentence += f", {rng.choice(_DETAILS)}"
    if rng.random() < 0.4:
        sentence += f", with {rng.randint(2, 950):,} {rng.choice(('people', 'tonnes', 'vehicles', 'workers', 'families'))} affected"
    return sentence + "."


def make_articles(count: int, seed: int = 7, first_id: int = 770100) -> list[FarmArticle]:
    """``count`` distinct articles, newest first, each assigned one discovery channel."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 9, 11, 50, tzinfo=timezone(timedelta(hours=3, minutes=30)))
    articles = []
    for n in range(count):
        topic, place = rng.choice(_TOPICS), rng.choice(_PLACES)
        title = f"{topic} in {place}: {rng.choice(_PEOPLE)} {rng.choice(_ACTIONS).split(' that')[0]} #{n + 1}"
        article_number = first_id + count - n
        paragraphs = [
            " ".join(_sentence(rng) for _ in range(rng.randint(2, 4))) + f" (Report {article_number}, part {p + 1}.)"
            for p in range(rng.randint(6, 10))
        ]
        articles.append(
            FarmArticle(
                id=article_number,
                published=start - timedelta(hours=7 * n),
                section=n % len(SECTIONS),
                title=title,
                slug="-".join(title.replace(":", "").replace("#", "").split()[:6]),
                author=rng.choice(("Yusef Jalali", "Maryam Qarehgozlou", "Ivan Kesic", "Humaira Ahad")),
                paragraphs=paragraphs,
                channel=CHANNELS[n % len(CHANNELS)],
            )
        )
    return articles


@dataclass
class FarmSite:
    """A fake news site served identically on every one of ``hosts`` (primary first)."""

    id: str
    name: str
    hosts: list[str]
    articles: list[FarmArticle]
    section_page_size: int = 3
    broken: bool = False
    renamed_on_mirrors: frozenset[int] = frozenset()  # article ids that mirrors serve under another slug
    inline_boilerplate: bool = False  # put share bar, mirror notice, promos and most-read inside the body
    article_pages: dict[int, bytes] = field(default_factory=dict)  # real pages served for these article ids
    documents: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # more paths: (content type, body)
    extra_starts: tuple[str, ...] = ()  # more start paths for the profile (feeds and sitemaps in ``documents``)
    robots_sitemaps: tuple[str, ...] = ()  # Sitemap: lines of every host's robots.txt
    sections_list_all: bool = False  # section pages link every article (without dates), not only their own
    article_status: int | None = None  # every article page answers this error status (listings still answer)
    profile_hosts: tuple[str, ...] = ()  # the hosts its profile names (default: all): others are there to be discovered
    notice_hosts: tuple[str, ...] | None = None  # the hosts its alternate-address notice lists (default: hosts[1:])
    alternate_hosts: tuple[str, ...] = ()  # hosts its article pages' <link rel="alternate" hreflang> name (same path)
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)  # host -> path prefixes answering 404 there
    redirects: dict[tuple[str, str], str] = field(default_factory=dict)  # (host, path) -> where it redirects (301)
    crawl_delay: float | None = None  # robots.txt Crawl-delay on every host
    request_rate: str | None = None  # robots.txt Request-rate ("1/5": one request every five seconds)
    redesigned: bool = False  # article URLs moved to /news/<year>/<slug>-<id>.html
    _pages: dict[tuple[str, str], bytes] = field(default_factory=dict, repr=False)

    @property
    def start_paths(self) -> list[str]:
        paths = ["/rss.xml", "/atom.xml", "/sitemap.xml", "/Section/101"]
        if self.broken:
            paths += ["/feeds/malformed.xml", "/feeds/bomb.xml", "/sitemap-broken.xml.gz", "/feeds/truncated.xml"]
        return paths + list(self.extra_starts)

    def profile_toml(self) -> str:
        """The site profile newsmirror uses for this farm site (plain http through the proxy)."""
        starts = ", ".join(f'"{p}"' for p in self.start_paths)
        hosts = ", ".join(f'"{h}"' for h in self.profile_hosts or self.hosts)
        return (
            f'[{self.id}]\nname = "{self.name}"\nhosts = [{hosts}]\nscheme = "http"\nstart = [{starts}]\n'
            "article = '^/Detail/\\d{4}/\\d{1,2}/\\d{1,2}/\\d+/'\n"
            "delay = 0\nconcurrency = 8  # a farm on loopback: as fast as it goes (a real site: leave the defaults)\n\n"
            f'[{self.id}.clean]\ndrop = [".share-box", ".app-promo"]\n'
            'drop_text = ["SHARE THIS ARTICLE", "can also be accessed at the following alternate addresses"]\n'
        )

    def url(self, host: str, path: str) -> str:
        return f"http://{host}{path}"

    def path_on(self, article: FarmArticle, host: str) -> str:
        """The article's path on a host: mirrors serve renamed articles under their own slug, and spell
        percent-escapes in upper case where the primary spells them in lower case."""
        if article.id in self.renamed_on_mirrors and host != self.hosts[0]:
            return f"{self.article_path(article)}-{host.rsplit('.', 1)[-1]}"
        path = self.article_path(article)
        return path if host == self.hosts[0] else re.sub(r"%[0-9a-f]{2}", lambda e: e[0].upper(), path)

    def article_path(self, article: FarmArticle) -> str:
        """The article's path as the primary writes it: ``/Detail/...``, or after a redesign
        ``/news/<year>/<slug>-<id>.html`` (which the profile's article rule does not match)."""
        if self.redesigned:
            return f"/news/{article.published.year}/{article.slug.lower()}-{article.id}.html"
        return article.path

    def share_lead(self, source: int, target: int, paragraphs: int = 2) -> None:
        """Give article ``target`` the first paragraphs of article ``source`` (a shared wire lead)."""
        self.articles[target].paragraphs[:paragraphs] = self.articles[source].paragraphs[:paragraphs]

    def by_channel(self, channel: str) -> list[FarmArticle]:
        return [a for a in self.articles if a.channel == channel]

    # -- pages ---------------------------------------------------------------------------------
    @property
    def announced_hosts(self) -> tuple[str, ...]:
        return tuple(self.hosts[1:]) if self.notice_hosts is None else self.notice_hosts

    def page(self, host: str, path_qs: str) -> tuple[int, str, bytes] | tuple[int, str, bytes, dict]:
        """(status, content type, body[, headers]) for a path on one of the site's hosts."""
        path = unquote(urlsplit(path_qs).path)  # percent-escapes in either case name the same page
        if (host, path) in self.redirects:
            return 301, "text/html", b"", {"Location": self.redirects[host, path]}
        if path.startswith(self.missing.get(host, ())) and self.missing.get(host):
            return 404, "text/html; charset=utf-8", self._frame("Page not found", "<p>The page you requested was not found.</p>")
        if path == "/robots.txt":
            sitemaps = "".join(f"Sitemap: {url}\n" for url in self.robots_sitemaps)
            pace = "".join(f"{name}: {value}\n" for name, value in (("Crawl-delay", self.crawl_delay),
                                                                    ("Request-rate", self.request_rate)) if value)
            return 200, "text/plain", f"User-agent: *\nDisallow: /Search\n{pace}{sitemaps}".encode()
        if path in self.documents:
            return 200, *self.documents[path]
        if path == "/rss.xml":
            return 200, "application/rss+xml", self.rss(host)
        if path == "/atom.xml":
            return 200, "application/atom+xml", self.atom(host)
        if path == "/sitemap.xml":
            return 200, "application/xml", self.sitemap_index(host)
        if path == "/sitemap-articles.xml.gz":
            return 200, "application/x-gzip", gzip.compress(self.sitemap(host, "sitemap"), mtime=0)
        if path == "/sitemap-news.xml":
            return 200, "application/xml", self.sitemap(host, "news")
        if path.startswith("/Section/101"):
            rest = path[len("/Section/101"):].strip("/")
            if rest == "" or rest.isdigit():
                body = self.section_page(int(rest or 1), host)
                if body is not None:
                    return 200, "text/html; charset=utf-8", body
        if self.broken:
            broken = self.broken_page(path)
            if broken is not None:
                return broken
        for article in self.articles:
            if path != unquote(self.path_on(article, host)):
                continue
            if self.article_status:
                return self.article_status, "text/html; charset=utf-8", self._frame("Error", "<p>Service unavailable</p>")
            if article.id in self.article_pages:
                return 200, "text/html", self.article_pages[article.id]  # a corpus page names its own charset
            if (host, path) not in self._pages:
                self._pages[host, path] = self.article_html(article, host)
            return 200, "text/html; charset=utf-8", self._pages[host, path]
        return 404, "text/html; charset=utf-8", self._frame("Page not found", "<p>The page you requested was not found.</p>")

    def broken_page(self, path: str) -> tuple[int, str, bytes] | None:
        if path == "/feeds/malformed.xml":
            return 200, "application/rss+xml", b'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title><item><link>http://x/Detail/2026/1/1/1/a'
        if path == "/feeds/bomb.xml":
            entities = '<!ENTITY lol "lol">' + "".join(
                f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
            )
            return 200, "application/rss+xml", (
                f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss version="2.0"><channel>'
                "<item><title>&lol9;</title><link>/Detail/2026/1/1/1/bomb</link></item></channel></rss>"
            ).encode()
        if path == "/sitemap-broken.xml.gz":
            return 200, "application/x-gzip", gzip.compress(b"")[:10] + b"\xff\xfe this is not deflate data"
        if path == "/feeds/truncated.xml":
            return 200, "application/rss+xml", self._rss_items([("/Detail/2026/3/1/1001/Truncated-report", None)], self.hosts[0])
        if path == "/Detail/2026/3/1/1001/Truncated-report":
            article = self.articles[0]
            return 200, "text/html; charset=utf-8", self.article_html(article, self.hosts[0])[:700]
        return None

    def _frame(self, title: str, main: str, head: str = "", crumb: str = "") -> bytes:
        nav = "".join(f'<li><a href="/Section/{101 + i}">{escape(s)}</a></li>' for i, s in enumerate(SECTIONS))
        alternates = "".join(f"<li>{h}</li>" for h in self.announced_hosts)
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)} - {escape(self.name)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{head}<link rel="stylesheet" href="/static/site.css">
</head>
<body>
<header class="site-header">
  <a class="logo" href="/">{escape(self.name)}</a>
  <nav class="main-nav"><ul><li><a href="/">Home</a></li>{nav}<li><a href="/Search?q=">Search</a></li></ul></nav>
  <div class="app-promo">Get the {escape(self.name)} app on Google Play and the App Store</div>
</header>
<div class="page">
{crumb}{main}
  <aside class="most-read"><h3>Most Read</h3><ol>
    {"".join(f'<li><a href="{self.article_path(a)}">{escape(a.title)}</a></li>' for a in self.articles[:3])}
  </ol></aside>
</div>
<footer class="site-footer">
  <div class="mirrors">{escape(self.name)}'s website can also be accessed at the following alternate addresses:<ul>{alternates}</ul></div>
  <ul class="links"><li><a href="/Page/About">About us</a></li><li><a href="/Page/Contact">Contact</a></li>
  <li><a href="/rss.xml">RSS</a></li><li><a href="https://www.facebook.com/harbornews">Facebook</a></li></ul>
  <p>Copyright © 2026 {escape(self.name)}. All rights reserved.</p>
</footer>
</body>
</html>
""".encode("utf-8")

    def article_html(self, article: FarmArticle, host: str) -> bytes:
        section = SECTIONS[article.section]
        url = self.url(self.hosts[0], self.article_path(article))
        renamed = self.path_on(article, host) != self.article_path(article)
        canonical = self.url(host, self.path_on(article, host)) if renamed else url  # a renamed copy names itself
        related = [a for a in self.articles if a.id != article.id and a.section == article.section][:3]
        head = (
            f'<meta name="DC.Date.Created" content="{article.published.strftime("%-m/%-d/%Y %-I:%M:%S %p")}">\n'
            f'<meta property="article:published_time" content="{article.published.isoformat()}">\n'
            f'<meta property="og:title" content="{escape(article.title)}">\n<meta property="og:type" content="article">\n'
            f'<meta property="og:image" content="http://cdn.harbornews.ir/Photo/{article.id}.jpg">\n'
            f'<meta name="author" content="{escape(article.author)}">\n<link rel="canonical" href="{canonical}">\n'
            + "".join(f'<link rel="alternate" hreflang="en-gb" href="{self.url(h, self.path_on(article, h))}">\n'
                      for h in self.alternate_hosts)
        )
        crumb = (
            f'<div class="breadcrumb"><a href="/Section/101">News</a> / '
            f'<a href="/Section/{101 + article.section}">{escape(section)}</a></div>\n'
        )
        paragraphs = "\n".join(f"    <p>{escape(p)}</p>" for p in article.paragraphs)
        if self.inline_boilerplate:
            paragraphs += self.inline_blocks(url)
        main = f"""<article class="news-detail">
  <h1>{escape(article.title)}</h1>
  <div class="byline">{escape(article.author)} / {escape(self.name)}</div>
  <time datetime="{article.published.isoformat()}">{article.published.strftime("%A, %d %B %Y %I:%M %p")}</time>
  <figure><img src="http://cdn.harbornews.ir/Photo/{article.id}.jpg" alt="">
    <figcaption>Residents gather near the harbour in {_PLACES[article.id % len(_PLACES)]}. (Photo by AFP)</figcaption></figure>
  <div class="body">
{paragraphs}
  </div>
  <div class="share-box"><span>SHARE THIS ARTICLE</span>
    <a href="https://www.facebook.com/sharer.php?u={url}">Facebook</a> <a href="https://twitter.com/share?url={url}">X</a></div>
  <aside class="related"><h3>Related</h3><ul>
    {"".join(f'<li><a href="{self.article_path(a)}">{escape(a.title)}</a></li>' for a in related)}
  </ul></aside>
</article>"""
        return self._frame(article.title, main, head, crumb)

    def inline_blocks(self, url: str) -> str:
        """Boilerplate that sites put inside the article body container, as Press TV does: a share bar,
        the alternate-address notice, app and newsletter promos, a most-read list and a house blurb that
        no built-in rule names (template learning has to find it)."""
        alternates = "".join(f'<p><a href="http://{h}/">{h}</a></p>' for h in self.announced_hosts)
        most_read = "".join(f'<li><a href="{self.article_path(a)}">{escape(a.title)}</a></li>' for a in self.articles[:3])
        return f"""
    <p>{escape(self.name)} has reported from the harbours of the region since 1998, funded by its readers.</p>
    <div class="share-bar"><span>Share on Facebook</span> <span>Share on X</span> <a href="mailto:?body={url}">Email</a></div>
    <p>{escape(self.name)}'s website can also be accessed at the following alternate addresses:</p>
    {alternates}
    <p>Watch {escape(self.name)} live on Roku and get the app on Google Play and the App Store.</p>
    <p>Click here to subscribe to our daily newsletter.</p>
    <div class="most-read-inline"><h3>Most Read</h3><ul>{most_read}</ul></div>"""

    def section_page(self, number: int, host: str) -> bytes | None:
        listed = self.articles if self.sections_list_all else self.by_channel("section")
        size = self.section_page_size
        pages = max(1, -(-len(listed) // size))
        if not 1 <= number <= pages:
            return None
        items = "".join(
            f'<li class="news-item"><a href="{self.path_on(a, host)}?utm_source=section">{escape(a.title)}</a>'
            f"<p>{escape(a.paragraphs[0][:120])}…</p></li>"
            for a in listed[(number - 1) * size:number * size]
        )
        pager = ""
        if number > 1:
            pager += f'<a href="/Section/101/{number - 1}">Previous</a> '
        if number < pages:
            pager += f'<a rel="next" href="/Section/101/{number + 1}">Next</a>'
        crumb = '<div class="breadcrumb"><a href="/">Home</a> / <a href="/Section/101">News</a></div>\n'
        main = f'<h1>News</h1><ul class="news-list">{items}</ul><div class="pager">{pager}</div>'
        return self._frame("News", main, crumb=crumb)

    def _rss_items(self, items: list[tuple[str, datetime | None]], host: str) -> bytes:
        # Like www.presstv.co.uk, mirror feeds link to the primary host, with tracking parameters.
        body = "".join(
            f"<item><title>Item</title><link>{self.url(self.hosts[0], path)}?utm_source=rss&amp;utm_medium=feed</link>"
            + (f"<pubDate>{format_datetime(when)}</pubDate>" if when and host == self.hosts[0] else "")
            + "</item>"
            for path, when in items
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(self.name)}</title>'
            f"<link>{self.url(host, '/')}</link><description>Latest news</description>{body}</channel></rss>"
        ).encode("utf-8")

    def rss(self, host: str) -> bytes:
        return self._rss_items([(self.article_path(a), a.published) for a in self.by_channel("rss")], host)

    def atom(self, host: str) -> bytes:
        entries = "".join(
            f'<entry><title>{escape(a.title)}</title><link rel="alternate" href="{self.path_on(a, host)}"/><id>tag:{a.id}</id>'
            f"<published>{a.published.isoformat()}</published><updated>{(a.modified or a.published).isoformat()}</updated></entry>"
            for a in self.by_channel("atom")
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="{self.url(host, "/")}">'
            f"<title>{escape(self.name)}</title><id>{self.url(host, '/')}</id>{entries}</feed>"
        ).encode("utf-8")

    def sitemap_index(self, host: str) -> bytes:
        maps = "".join(f"<sitemap><loc>{self.url(host, p)}</loc></sitemap>" for p in ("/sitemap-articles.xml.gz", "/sitemap-news.xml"))
        return (
            '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{maps}</sitemapindex>"
        ).encode("utf-8")

    def sitemap(self, host: str, channel: str) -> bytes:
        urls = []
        for a in self.by_channel(channel):
            if channel == "news":
                extra = (
                    f"<news:news><news:publication><news:name>{escape(self.name)}</news:name><news:language>en</news:language>"
                    f"</news:publication><news:publication_date>{a.published.isoformat()}</news:publication_date>"
                    f"<news:title>{escape(a.title)}</news:title></news:news>"
                )
            else:
                extra = f"<lastmod>{a.modified.isoformat() if a.modified else a.published.date().isoformat()}</lastmod>"
            urls.append(f"<url><loc>{self.url(host, self.path_on(a, host))}</loc>{extra}</url>")
        return (
            '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{"".join(urls)}</urlset>'
        ).encode("utf-8")


def harbor_news(articles: int = 25, hosts: int = 3, broken: bool = False, seed: int = 7,
                renamed_on_mirrors: int = 0, inline_boilerplate: bool = False, escaped_slugs: bool = False) -> FarmSite:
    """The standard farm site: Harbor News on up to three hosts; mirrors rename every n-th article
    (``renamed_on_mirrors=n``, 0 for none); ``inline_boilerplate`` puts the furniture inside the body;
    ``escaped_slugs``: slugs start with "Café", written everywhere with lower-case percent-escapes, as some
    publishing systems spell them."""
    all_hosts = ["www.harbornews.ir", "www.harbornews.co.uk", "www.harbornews.tv"]
    made = make_articles(articles, seed)
    for article in made if escaped_slugs else ():
        article.slug = f"Caf%c3%a9-{article.slug}"
    renamed = frozenset(a.id for i, a in enumerate(made) if renamed_on_mirrors and i % renamed_on_mirrors == 1)
    return FarmSite("harbor", "Harbor News", all_hosts[:hosts], made, broken=broken, renamed_on_mirrors=renamed,
                    inline_boilerplate=inline_boilerplate)


@dataclass
class FarmParkedDomain:
    """A parked domain: every path answers 200 with a "this domain is for sale" page (a decoy mirror)."""

    hosts: list[str]

    def page(self, host: str, path_qs: str) -> tuple[int, str, bytes]:
        return 200, "text/html; charset=utf-8", (
            f"<html><head><title>{host} is for sale</title></head><body><h1>{host}</h1>"
            "<p>This domain is for sale! Buy this domain today from our marketplace. Related searches: "
            "news, breaking news, world news, harbour news.</p></body></html>").encode()


def impostor(site: FarmSite, host: str, seed: int = 99) -> FarmSite:
    """Another site on ``host`` serving ``site``'s article paths with other articles' text (not a mirror)."""
    others = make_articles(len(site.articles), seed)
    articles = [FarmArticle(a.id, a.published, a.section, other.title, a.slug, other.author, other.paragraphs, a.channel)
                for a, other in zip(site.articles, others)]
    return FarmSite(f"{site.id}-impostor", "The Impostor Times", [host], articles)


def moved_news(articles: int = 25) -> tuple[FarmSite, FarmParkedDomain]:
    """A site that moved, as the discovery tests and benchmarks serve it: its profile names its two old hosts,
    the first seized (set by the test), the second serving its RSS feed and article pages but 404 for its other
    listings and redirecting its section page to a private address; a third host, named only in the
    articles' alternate-address notice, serves everything; the notice also names a parked domain."""
    old, alternate, new, parked = "www.movednews.ir", "www.movednews.co.uk", "www.movednews.net", "www.movednews.online"
    site = FarmSite("moved", "Moved News", [old, alternate, new], make_articles(articles, seed=11, first_id=880100),
                    profile_hosts=(old, alternate), notice_hosts=(new, parked),
                    missing={alternate: ("/atom.xml", "/sitemap", "/Section")})
    site.redirects[alternate, "/Section/101"] = "http://10.20.30.40/Section/101"
    return site, FarmParkedDomain([parked])
