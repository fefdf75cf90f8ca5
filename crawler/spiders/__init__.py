"""Scrapy spiders of newsmirror."""
