"""What a person sees of a crawl: one-line log messages, a live progress line, periodic stats, the stats file."""
