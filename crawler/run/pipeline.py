"""The base of newsmirror's item pipelines: each keeps the crawler (its stats) and the run context it is given."""

from __future__ import annotations

from crawler.run.context import RunContext


class RunPipeline:
    def __init__(self, crawler, context: RunContext):
        self.crawler, self.stats, self.context = crawler, crawler.stats, context

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, RunContext.of(crawler))
