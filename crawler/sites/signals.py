"""Crawler signals about a site's hosts: a mirror candidate seen, a discovered mirror admitted."""

# kwargs: url (where the candidate host was seen: a redirect target), how ("redirect"), where (the URL that said so)
mirror_candidate = object()
# kwargs: site (profile id), host: a verified mirror joins the site; every SiteIndex of the crawl adds it
host_admitted = object()
