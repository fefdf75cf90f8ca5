"""Crawler signals about a site's hosts (a mirror candidate seen, a discovered mirror admitted) and about its run
(ended and recorded)."""

# kwargs: url (where another host was named: a redirect target, a listing entry), how ("redirect", or the listing's
# kind: "rss", "urlset"...), where (the URL that named it), listed (True for a listing entry: a candidate only when
# its path is an article path of the site)
mirror_candidate = object()
# kwargs: site (profile id), host, fresh (True when this process verified it just now; False when an earlier run
# or another worker did): a verified mirror joins the site; every SiteIndex of the crawl adds it
host_admitted = object()
# no kwargs: a distributed worker meets a host it does not know; mirror discovery reloads what other workers admitted
admitted_mirrors_wanted = object()
# kwargs: store (the run's StateStore, still open): the run is recorded in the state (``finish_run``); what reads the
# state's run history (the metrics file) reads it now
run_recorded = object()
