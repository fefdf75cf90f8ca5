"""URL lists in Redis hash fields: a run's ``found`` (whole URLs, appended atomically without repeats), and the
state's ``urls``: each path once with the numbers of the origins (``scheme://host``) it was seen on."""

from __future__ import annotations

# KEYS: the hash; ARGV: field, URL. Appends the URL to the field's list unless there; 1 on the field's first URL.
APPEND_UNIQUE = """
local urls = redis.call('HGET', KEYS[1], ARGV[1])
if not urls then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end
if string.find('\\n' .. urls .. '\\n', '\\n' .. ARGV[2] .. '\\n', 1, true) == nil then
  redis.call('HSET', KEYS[1], ARGV[1], urls .. '\\n' .. ARGV[2])
end
return 0
"""

# add_urls(urls, origins, id, first): the URLs ARGV[first..] of article ``id`` into hash ``urls``, numbering new
# origins in hash ``origins`` (origin -> number, '#<number>' -> origin, '#next'). A field holds one line a path:
# '<numbers>\t<path and query>', numbers comma-separated.
ADD_URLS = """
local function origin_number(origins, origin)
  local number = redis.call('HGET', origins, origin)
  if number then return number end
  number = tostring(redis.call('HINCRBY', origins, '#next', 1))
  redis.call('HSET', origins, origin, number, '#' .. number, origin)
  return number
end
local function add_urls(urls, origins, id, first)
  local lines, order, changed = {}, {}, false
  for line in string.gmatch(redis.call('HGET', urls, id) or '', '[^\\n]+') do
    local numbers, rest = string.match(line, '^([^\\t]*)\\t(.*)$')
    order[#order + 1] = rest
    lines[rest] = numbers
  end
  for i = first, #ARGV do
    local origin, rest = string.match(ARGV[i], '^(%a[%w+.-]*://[^/?#]*)(.*)$')
    if not origin then origin, rest = '', ARGV[i] end
    local number, numbers = origin_number(origins, origin), lines[rest]
    if not numbers then
      order[#order + 1] = rest
      lines[rest], changed = number, true
    elseif not string.find(',' .. numbers .. ',', ',' .. number .. ',', 1, true) then
      lines[rest], changed = numbers .. ',' .. number, true
    end
  end
  if changed then
    local out = {}
    for i, rest in ipairs(order) do out[i] = lines[rest] .. '\\t' .. rest end
    redis.call('HSET', urls, id, table.concat(out, '\\n'))
  end
end
"""


def split_urls(value: bytes | None) -> list[str]:
    return value.decode().split("\n") if value else []


class OriginTable:
    """A site's origins by number (hash ``origins``, as ``add_urls`` numbers them), read again when a number is
    new to it: turns a field of ``urls`` back into URLs."""

    def __init__(self, client, key: str):
        self.client, self.key = client, key
        self.origins: dict[bytes, str] = {}

    def urls(self, value: bytes | None) -> list[str]:
        urls = []
        for line in value.split(b"\n") if value else ():
            numbers, rest = line.split(b"\t", 1)
            for number in numbers.split(b","):
                if number not in self.origins:
                    self.origins = {name[1:]: origin.decode() for name, origin in self.client.hgetall(self.key).items()
                                    if name.startswith(b"#") and name != b"#next"}
                urls.append(self.origins[number] + rest.decode())
        return urls
