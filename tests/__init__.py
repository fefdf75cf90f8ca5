"""newsmirror test suite: unit tests of pure functions and end-to-end crawls of the mirror farm."""
