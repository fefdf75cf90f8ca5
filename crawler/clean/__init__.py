"""Cleaning: text layers that remove boilerplate blocks (profile phrases, the rule table, learned site templates)
and the item pipelines that apply them."""
