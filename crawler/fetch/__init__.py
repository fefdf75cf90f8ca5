"""Fetching: listings (feeds, sitemaps), mirror-aware request identity, the downloader middlewares (failover, offsite
redirects, download slots, host stats), host health and block-page detection."""
