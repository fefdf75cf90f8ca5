"""State across runs: the SQLite and Redis stores, run files and their recovery, per-site locks, and the item
pipelines that claim, write and commit each article."""
