"""What every component of a crawl run shares: the run context (profile, run id, paths, stores)."""
