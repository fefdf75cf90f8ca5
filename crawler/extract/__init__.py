"""Extraction: HTML → article (text blocks from an engine, metadata, byline, dates, language), and the process pool
that runs it off the reactor."""
