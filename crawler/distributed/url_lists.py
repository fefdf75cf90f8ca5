"""URL lists kept as one hash field each (URLs joined by newlines): appended atomically without repeats,
read back as a list. The state's ``urls`` (every URL an article was seen at) and a run's ``found``."""

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


def split_urls(value: bytes | None) -> list[str]:
    return value.decode().split("\n") if value else []
