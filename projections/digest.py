"""Fixed-size stand-ins for text of any length, for the keys and indexes of the read models.

An id, an email or an alias reaches the views in events, and nothing bounds its length there: an
event written before the HTTP edge bounded it, or by other means, may carry thousands of
characters. PostgreSQL refuses a B-tree entry over 2,704 bytes, so a view that keyed or indexed
such a value directly would fail on that event, and on every retry. The views therefore key and
index every such column by its sha256, computed here so that SQLite and PostgreSQL hold the same
bytes, and compare the full value as well, so that a look-up stays exact whatever the hash does.
(The full 32 bytes keep a collision out of reach even of a chosen-value attack; a unique key on a
shorter hash could be made to collide and fail the view.)"""

from __future__ import annotations

from hashlib import sha256


def digest(value: str) -> bytes:
    # surrogatepass: a lone surrogate still hashes (to what no other text hashes to).
    return sha256(value.encode("utf-8", "surrogatepass")).digest()


def digest_or_none(value: str | None) -> bytes | None:
    return None if value is None else digest(value)
