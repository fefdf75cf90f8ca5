"""Verifying mirror candidates during a crawl: each candidate is asked for articles the site already emitted,
through Scrapy's downloader (its middlewares, proxy and politeness), and its clean text is compared."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from crawler.clean.layers import drop_phrase_blocks
from crawler.clean.pipelines import rules_from_settings
from crawler.discovery.verification import Verification
from crawler.extract.article import ExtractionError, extract_article
from crawler.extract.engines import engine_from_settings
from crawler.fetch.blockpages import detect_block
from crawler.fetch.gate import address_refusal, is_proxied
from crawler.reporting.failures import failure_reason
from crawler.reporting import stats as keys
from crawler.sites.profiles import SiteProfile

logger = logging.getLogger(__name__)

VERIFYING = "newsmirror_verifying"  # meta: the candidate host a request verifies (never a site request)
REDIRECTS = {301, 302, 303, 307, 308}


class MirrorVerifier:
    """Fetches a verification's samples from the candidate, one at a time, until its verdict is known.

    A sample's page counts as a copy when it answers 200 with no block, seizure or parking page, and its
    text, cleaned by the profile's phrases and the rule table (the cleaning every article gets before the
    learned template), is near-identical to the stored text. Redirects are not followed: a candidate that
    redirects elsewhere does not serve the articles itself. A candidate's robots.txt is not read for these
    two or three pages, nor is a failed page retried: a candidate that fails is rejected and tried again a
    day later. An admitted mirror's robots.txt is obeyed like any host's.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.rules = rules_from_settings(crawler.settings)
        self.engine = engine_from_settings(crawler.settings)

    async def address_problem(self, host: str, scheme: str) -> str | None:
        """Why a directly fetched candidate may not be used (its name resolves to an internal address);
        None when a proxy resolves it. Resolved in a thread: the reactor never waits for DNS."""
        if is_proxied(scheme, host):
            return None
        return await maybe_deferred_to_future(deferToThread(address_refusal, host))

    async def run(self, verification: Verification, profile: SiteProfile) -> None:
        for sample in verification.samples:
            if verification.verdict is not None:
                return
            request = Request(sample.url, dont_filter=True, meta={
                VERIFYING: verification.host, "allow_offsite": True, "dont_redirect": True,
                "handle_httpstatus_all": True, "dont_obey_robotstxt": True, "dont_retry": True})
            self.crawler.stats.inc_value(keys.DISCOVERY_REQUESTS)
            try:
                response = await self.crawler.engine.download_async(request)
            except Exception as exc:  # any download failure is the candidate's
                verification.record(sample, None, failure_reason(exc))
                continue
            text, problem = self.page_text(response, sample.url, profile)
            verification.record(sample, text, problem)

    def page_text(self, response, url: str, profile: SiteProfile) -> tuple[str | None, str | None]:
        """(clean text, None) of a candidate's page, or (None, what it served instead); extracted here, in the
        reactor's thread (two or three pages a candidate)."""
        if response.status in REDIRECTS:
            location = response.headers.get("Location", b"").decode("latin-1")
            return None, f"redirects to {location or 'nowhere'}"
        if response.status != 200:
            return None, f"HTTP {response.status}"
        verdict = detect_block(response.body)
        if verdict is not None:
            return None, verdict.label
        if not isinstance(response, TextResponse):
            return None, "not an HTML page"
        try:
            extracted = extract_article(response.body, url, profile,
                                        response.headers.get("Content-Type", b"").decode("latin-1"), self.engine)
        except ExtractionError as exc:
            return None, f"no article ({exc})"
        blocks = self.rules.clean(drop_phrase_blocks((extracted["text"] or "").split("\n"), profile.clean.drop_text))
        return "\n".join(blocks) or None, None
