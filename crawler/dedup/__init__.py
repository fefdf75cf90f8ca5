"""Content identity: exact and MinHash near-duplicate prints of clean text, which the state stores match against."""
