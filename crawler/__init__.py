"""newsmirror: a Scrapy-based news crawler that treats a site's mirror domains as one site."""

__version__ = "0.1.0"
