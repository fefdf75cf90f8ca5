"""Distributed crawls: scrapy-redis's frontier with leases, and the run's workers and keys in Redis."""
