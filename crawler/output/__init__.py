"""Output: the article record and its JSON Schema, the merged dataset export, and WARC archives."""
