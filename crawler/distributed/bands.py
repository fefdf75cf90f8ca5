"""A site's LSH band index in Redis, as Lua functions for the store's scripts: one hash whose fields are buckets
of 14-byte entries (4-byte band key, 10-byte article id), grown one bucket at a time by linear hashing (Litwin,
1980) so that a bucket holds about ``BUCKET_LOAD`` entries at any size: about 16 bytes an entry, where a hash
field per band key costs 60.

Fields: ``n`` the number of buckets, ``e`` the number of entries, and bucket ``i`` (0 ≤ i < n). With
2^L ≤ n < 2^(L+1), a band key h lives in bucket h mod 2^(L+1), or h mod 2^L when that is n or more; the next
bucket to split is n - 2^L.
"""

from __future__ import annotations

BUCKET_LOAD = 48

BAND_INDEX = """
local ENTRY, BUCKET_LOAD = 14, %d
local function band_number(entry)
  local a, b, c, d = string.byte(entry, 1, 4)
  return ((a * 256 + b) * 256 + c) * 256 + d
end
local function band_index(key)
  local meta = redis.call('HMGET', key, 'n', 'e')
  local size = tonumber(meta[1]) or 1
  local level = 1
  while level * 2 <= size do level = level * 2 end
  return {key = key, size = size, level = level, entries = tonumber(meta[2]) or 0}
end
local function bucket_of(index, band)
  local h = band_number(band)
  local at = h %% (index.level * 2)
  if at >= index.size then at = h %% index.level end
  return at
end
local function entry_at(bucket, entry)
  local at = 1
  while true do
    local found = string.find(bucket, entry, at, true)
    if not found or (found - 1) %% ENTRY == 0 then return found end
    at = found + 1
  end
end
local function band_ids(index, band)
  local bucket = redis.call('HGET', index.key, bucket_of(index, band)) or ''
  local ids, at = {}, 1
  while true do
    local found = string.find(bucket, band, at, true)
    if not found then return ids end
    if (found - 1) %% ENTRY == 0 then
      ids[#ids + 1] = string.sub(bucket, found + 4, found + ENTRY - 1)
      at = found + ENTRY
    else
      at = found + 1
    end
  end
end
local function split(index)
  local from = index.size - index.level
  local stay, move = {}, {}
  local old = redis.call('HGET', index.key, from) or ''
  for i = 1, #old, ENTRY do
    local entry = string.sub(old, i, i + ENTRY - 1)
    if band_number(entry) %% (index.level * 2) == from then stay[#stay + 1] = entry else move[#move + 1] = entry end
  end
  if #stay > 0 then redis.call('HSET', index.key, from, table.concat(stay)) else redis.call('HDEL', index.key, from) end
  if #move > 0 then redis.call('HSET', index.key, index.size, table.concat(move)) end
  index.size = index.size + 1
  if index.size == index.level * 2 then index.level = index.size end
end
local function index_band(index, band, id)
  local field = bucket_of(index, band)
  local bucket = redis.call('HGET', index.key, field) or ''
  if entry_at(bucket, band .. id) then return end
  redis.call('HSET', index.key, field, bucket .. band .. id)
  index.entries = index.entries + 1
  while index.entries > index.size * BUCKET_LOAD do split(index) end
end
local function save_index(index)
  redis.call('HSET', index.key, 'n', index.size, 'e', index.entries)
end
""" % BUCKET_LOAD


def band_bytes(band: int) -> bytes:
    """A band key (a signed 32-bit integer) as the 4 bytes the index keeps."""
    return (band & 0xFFFFFFFF).to_bytes(4, "big")
