"""A site's LSH band index in one Redis hash, as Lua functions for the store's scripts: buckets of 14-byte entries
(4 bytes of band, article id) grown one at a time by linear hashing, about 16 bytes an entry."""

from __future__ import annotations

import struct

from crawler.dedup.minhash import ContentPrint

BUCKET_LOAD = 48  # entries a bucket holds on average at most: a field per band key would cost 60 bytes an entry
CHECKED_FROM = 1 << 16  # buckets (2^L, the index's level) from which entries keep a check in the key's low 16 bits

# Linear hashing (Litwin, 1980). Fields: ``n`` the number of buckets, ``e`` the number of entries, and bucket ``i``
# (0 <= i < n). With 2^L <= n < 2^(L+1), a band whose key is h lives in bucket h mod 2^(L+1), or h mod 2^L when
# that is n or more; when the entries pass n * BUCKET_LOAD, bucket n - 2^L splits into itself and bucket n, by bit
# L of h.
# Each band comes to the scripts as 8 bytes (``packed_bands``): its key, and its key with the low 16 bits replaced
# by its 16-bit check. An entry written while L < 16 keeps the key; from L = 16 (65,536 buckets, ~200,000
# articles) on, the checked form: its bucket fixes those 16 key bits for good (L only grows) and splits read only
# bit L, so the entry costs no more and two bands whose keys agree by chance tell apart (with keys alone a new
# article met ~0.6 such strangers at ten million, each a second claim). A lookup tries both forms, so entries
# written before (and by newsmirrors before checks: keys only) are found as they were.
BAND_INDEX = """
local ENTRY, BAND, CHECKED_FROM, BUCKET_LOAD = 14, 8, %d, %d
local function band_number(entry)
  local a, b, c, d = string.byte(entry, 1, 4)
  return ((a * 256 + b) * 256 + c) * 256 + d
end
local function bucket_of(index, key)
  local h = band_number(key)
  local at = h %% (index.level * 2)
  if at >= index.size then at = h %% index.level end
  return at
end
local function read_buckets(index, fields)
  local wanted = {}
  for _, at in ipairs(fields) do
    if not index.read[at] then wanted[#wanted + 1] = at end
  end
  if #wanted > 0 then
    local values = redis.call('HMGET', index.key, unpack(wanted))
    for i, at in ipairs(wanted) do index.read[at] = values[i] or '' end
  end
end
-- The bands of an argument that holds them end to end (8 bytes each): their keys, and their checked forms.
local function unpacked_bands(packed)
  local keys, checked = {}, {}
  for at = 1, #packed, BAND do
    keys[#keys + 1] = string.sub(packed, at, at + 3)
    checked[#checked + 1] = string.sub(packed, at + 4, at + 7)
  end
  return keys, checked
end
-- The index, its buckets read for ``keys`` in one call; changed buckets are written by save_index, in one call too.
local function band_index(key, keys)
  local meta = redis.call('HMGET', key, 'n', 'e')
  local index = {key = key, size = tonumber(meta[1]) or 1, level = 1, entries = tonumber(meta[2]) or 0, read = {}, changed = {}}
  while index.level * 2 <= index.size do index.level = index.level * 2 end
  local fields = {}
  for _, band in ipairs(keys) do fields[#fields + 1] = bucket_of(index, band) end
  read_buckets(index, fields)
  return index
end
local function bucket(index, at)
  read_buckets(index, {at})
  return index.read[at]
end
local function write_bucket(index, at, entries)
  index.read[at] = entries
  index.changed[at] = true
end
-- Where, from ``at`` (default 1) on, the first entry that begins with ``start`` is (nil: none).
local function entry_at(entries, start, at)
  at = at or 1
  while true do
    local found = string.find(entries, start, at, true)
    if not found or (found - 1) %% ENTRY == 0 then return found end
    at = found + 1
  end
end
-- The ids of the entries that keep ``kept`` (a band's key or checked form), added to ``ids``.
local function kept_ids(entries, kept, ids)
  local found = entry_at(entries, kept)
  while found do
    ids[#ids + 1] = string.sub(entries, found + 4, found + ENTRY - 1)
    found = entry_at(entries, kept, found + ENTRY)
  end
  return ids
end
local function band_ids(index, key, checked)
  local entries = bucket(index, bucket_of(index, key))
  local ids = kept_ids(entries, key, {})
  if index.level >= CHECKED_FROM then kept_ids(entries, checked, ids) end
  return ids
end
local function split(index)
  local from = index.size - index.level
  local stay, move = {}, {}
  local old = bucket(index, from)
  for i = 1, #old, ENTRY do
    local entry = string.sub(old, i, i + ENTRY - 1)
    if math.floor(band_number(entry) / index.level) %% 2 == 0 then stay[#stay + 1] = entry else move[#move + 1] = entry end
  end
  write_bucket(index, from, table.concat(stay))
  write_bucket(index, index.size, table.concat(move))
  index.size = index.size + 1
  if index.size == index.level * 2 then index.level = index.size end
end
-- Adds the band's entry for ``id`` unless ``present`` (nil: unknown, looked for in both forms).
local function index_band(index, key, checked, id, present)
  local at = bucket_of(index, key)
  local entries = bucket(index, at)
  local both = index.level >= CHECKED_FROM
  if present == nil then
    present = entry_at(entries, key .. id) or (both and entry_at(entries, checked .. id))
  end
  if present then return end
  write_bucket(index, at, entries .. (both and checked or key) .. id)
  index.entries = index.entries + 1
  while index.entries > index.size * BUCKET_LOAD do split(index) end
end
local function save_index(index)
  local set, emptied = {'n', index.size, 'e', index.entries}, {}
  for at in pairs(index.changed) do
    if index.read[at] == '' then emptied[#emptied + 1] = at else set[#set + 1] = at set[#set + 1] = index.read[at] end
  end
  redis.call('HSET', index.key, unpack(set))
  if #emptied > 0 then redis.call('HDEL', index.key, unpack(emptied)) end
end
""" % (CHECKED_FROM, BUCKET_LOAD)


def packed_bands(printed: ContentPrint | None) -> bytes:
    """A print's bands as the scripts take them, end to end: one argument (b'' without a print). A band is 8
    bytes: its key (a signed 32-bit integer), then its key's high 16 bits and its 16-bit check."""
    if printed is None:
        return b""
    return struct.pack(">" + "iHH" * len(printed.band_keys),
                       *(part for key, check in zip(printed.band_keys, printed.band_checks) for part in (key, key >> 16 & 0xFFFF, check)))
