"""Bounded stand-ins for text of any length, for the keys and indexes of the read models.

An id, an email or an alias reaches the views in events, and nothing bounds its length there: an
event written before the HTTP edge bounded it, or by other means, may carry thousands of
characters. PostgreSQL refuses a B-tree entry over 2,704 bytes, so a view that keyed or indexed
such a value directly would fail on that event, and on every retry.

The views therefore key and index each such column by `index_key(value)`: the value itself up to
SHORT characters (at most 4 x SHORT bytes in UTF-8), otherwise its first SHORT characters followed
by the sha256 of all of it. A long value's key is longer than any short value, so the two never
meet; two long values meet only if sha256 collides. Every look-up compares the full value as well,
so it stays exact whatever the keys do. Keeping short values as they are keeps the order of ids
that grow in sequence: keys that are all hashes would scatter every insert over the whole B-tree
(that made a rebuild twice as slow)."""

from __future__ import annotations

from hashlib import sha256

SHORT = 128  # characters; two keys in one entry stay under 2 x (4 x 128 + 64) = 1,152 bytes


def index_key(value: str) -> str:
    if len(value) <= SHORT:
        return value
    # surrogatepass: a lone surrogate still hashes (to what no other text hashes to).
    return value[:SHORT] + sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def index_key_or_none(value: str | None) -> str | None:
    return None if value is None else index_key(value)
