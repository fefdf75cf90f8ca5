"""The Lua scripts of a site's state in Redis, registered on one client (``SiteScripts``): the claim, the commit,
URLs, and two small merges. Each gets every key it touches in KEYS, all of the site's slot."""

from __future__ import annotations

from crawler.distributed.bands import BAND_INDEX
from crawler.distributed.client import register_script
from crawler.distributed.keys import published_day_key, state_key
from crawler.distributed.records import StoredArticle, epoch, pack_article, utc_day
from crawler.distributed.url_lists import ADD_URLS

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "

# KEYS: articles, bands, claims, workers. ARGV: id, hash64 (8 bytes) or '', the claimed record, worker, '1' to
# claim, the candidate ids already verified as different (10 bytes each, end to end), the bands (8 bytes each:
# key and checked form, end to end; ``packed_bands``).
# Replies {'id', id} or {'text', id}: a copy of an emitted (or claimed by a live worker) article;
# {'check', id, record, ...}: candidates sharing a band, to verify before calling again; {'claimed'} or {'new'}.
CLAIM = _NOW + BAND_INDEX + """
local id, hash, worker = ARGV[1], ARGV[2], ARGV[4]
local record = redis.call('HGET', KEYS[1], id)
if record and string.sub(record, 1, 1) == 'E' then return {'id', id} end
local owner = redis.call('HGET', KEYS[3], id)
if owner and owner ~= worker then
  local expiry = redis.call('ZSCORE', KEYS[4], owner)
  if expiry and tonumber(expiry) > now then return {'id', id} end
end
local seen = {[id] = true}
for at = 1, #ARGV[6], 10 do seen[string.sub(ARGV[6], at, at + 9)] = true end
local keys, checked = unpacked_bands(ARGV[7])
local index = band_index(KEYS[2], keys)
local check, indexed = {'check'}, {}
for i, key in ipairs(keys) do
  indexed[i] = false
  for _, other in ipairs(band_ids(index, key, checked[i])) do
    if other == id then
      indexed[i] = true  -- this claim sent again
    elseif not seen[other] then
      seen[other] = true
      local theirs = redis.call('HGET', KEYS[1], other)
      if theirs then
        if hash ~= '' and string.byte(theirs, 2) % 2 == 1 and string.sub(theirs, 3, 10) == hash then return {'text', other} end
        check[#check + 1] = other
        check[#check + 1] = theirs
      end
    end
  end
end
if #check > 1 then return check end
if ARGV[5] ~= '1' then return {'new'} end
redis.call('HSET', KEYS[3], id, worker)
redis.call('HSET', KEYS[1], id, ARGV[3])
for i, key in ipairs(keys) do index_band(index, key, checked[i], id, indexed[i]) end
save_index(index)
return {'claimed'}
"""

# KEYS: articles, bands, claims, writers, urls, origins, published (day -> its first second), the day's ids.
# ARGV: id, record, run file name or '', day or '', the day's first second, the bands (8 bytes each, end to end;
# '' for none), then URLs.
# Commits an emitted article (or a revision): its record, its claim ended, its run file's count, its day, and its
# bands unless its claim indexed this print (the same print flag and hash). The same commit sent twice (a retry
# after a lost reply: its record already stored byte for byte) counts its run file and lists its day once.
COMMIT = BAND_INDEX + ADD_URLS + """
local id = ARGV[1]
local before = redis.call('HGET', KEYS[1], id)
local again = before == ARGV[2]  -- this very commit, sent again after its reply was lost: counted once
redis.call('HSET', KEYS[1], id, ARGV[2])
redis.call('HDEL', KEYS[3], id)
if ARGV[3] ~= '' and not again then redis.call('HINCRBY', KEYS[4], ARGV[3], 1) end
if ARGV[4] ~= '' and not again then
  redis.call('APPEND', KEYS[8], id)
  redis.call('ZADD', KEYS[7], ARGV[5], ARGV[4])
end
if ARGV[6] ~= '' and not (before and string.sub(before, 2, 10) == string.sub(ARGV[2], 2, 10)) then  -- not what its claim indexed
  local keys, checked = unpacked_bands(ARGV[6])
  local index = band_index(KEYS[2], keys)
  for i, key in ipairs(keys) do index_band(index, key, checked[i], id) end
  save_index(index)
end
add_urls(KEYS[5], KEYS[6], id, 7)
return 1
"""

# KEYS: urls, origins; ARGV: id, then URLs.
RECORD_URLS = ADD_URLS + "add_urls(KEYS[1], KEYS[2], ARGV[1], 2) return 1"

# KEYS: a hash; ARGV: field, '1' when it was there, the value it had, the new value. Sets the field when it still
# holds what the caller read (the caller merged its change into that): 1, else 0 (read again and merge again).
REPLACE_FIELD = """
local now = redis.call('HGET', KEYS[1], ARGV[1])
if (ARGV[2] == '1') ~= (now ~= false) or (now and now ~= ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1
"""

# KEYS: a hash; ARGV: field, increment, field, increment...
INCREMENT = "for i = 1, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end return 1"


class SiteScripts:
    """The scripts on one client, for one site's keys."""

    def __init__(self, client, site: str):
        self.site = site
        self.claim, self.commit_script, self.record_urls, self.replace_field, self.increment = (
            register_script(client, body) for body in (CLAIM, COMMIT, RECORD_URLS, REPLACE_FIELD, INCREMENT))

    def key(self, name: str) -> str:
        return state_key(self.site, name)

    def commit(self, key: bytes, article: StoredArticle, claims: str, run_file: str = "", bands: bytes = b"",
               urls: list[str] = (), new_day: bool = True) -> None:
        """Write an article's record (ending its claim in ``claims``), count it for ``run_file``, index its print's
        ``bands`` (``packed_bands``; unless its claim did), add ``urls``, and list it under its publication day when ``new_day``."""
        moment = epoch(article.published) if article.published and new_day else None
        day = utc_day(moment) if moment is not None else ""
        keys = [self.key("articles"), self.key("bands"), claims,
                *(self.key(name) for name in ("writers", "urls", "origins", "published")),
                published_day_key(self.site, day) if day else self.key("published")]
        self.commit_script(keys=keys, args=[key, pack_article(article), run_file, day, epoch(day) if day else 0,
                                            bands, *urls])
