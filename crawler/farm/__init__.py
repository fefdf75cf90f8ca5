"""The mirror farm: fake news sites on loopback behind an HTTP proxy, for the tests, the benchmarks and
``newsmirror demo``. Not used by a crawl."""
