"""Reading a request body as FastAPI does for LiteLLM's JSON bodies, within bounds.

- Over 1 MiB: 413, before or while reading.
- A Content-Type that is set and is neither application/json nor application/*+json: the body
  is not decoded; validation then answers FastAPI's 422 (`model_attributes_type`).
- JSON nested deeper than MAX_JSON_DEPTH: FastAPI's 422 `json_invalid`, found before decoding.
  The decoders recurse per level, and how deep they get before a RecursionError depends on how
  deep the stack already is; a bound well below that keeps every later step (validation, the
  event's encoding, every projector's decoding) clear of it too.
- A client that goes away mid-body: starlette's ClientDisconnect (answered 499 by errors.py).
"""

from __future__ import annotations

import email.message
import re
from dataclasses import dataclass
from typing import Any

import msgspec
from starlette.requests import Request

from orgledger.adapters.http.errors import DetailError, RequestValidationError

MAX_BODY_BYTES = 1024 * 1024
# Levels of arrays and objects, the body's own object included.
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class UndecodedBody:
    """A body sent with a content type that is not JSON; FastAPI validates its text as is."""

    text: str


def declares_json(content_type: str | None) -> bool:
    """FastAPI's rule (fastapi/routing.py): no content type, application/json or application/*+json."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


# A JSON string; one that never ends runs to the end of the body. Possessive quantifiers and the
# open end make every match succeed where it starts, so the scan stays linear in the body's size.
_STRING = re.compile(rb'(?s)"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_OPEN = ord("[")


def nested_deeper_than(raw: bytes, limit: int) -> bool:
    """Whether arrays and objects outside strings nest more than `limit` levels (malformed
    bodies are reported as deep or left to the decoder: either way they are refused)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # most bodies: not even that many brackets
        return False
    # Strings and everything but brackets go in C; the loop then visits brackets only, about
    # 25 ms for a body of 1 MiB that is nothing else.
    depth = 0
    for byte in _STRING.sub(b"", raw).translate(_AS_SQUARE, _NOT_BRACKETS):
        if byte == _OPEN:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _json_invalid(error: str) -> RequestValidationError:
    return RequestValidationError([{
        "type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error", "input": {},
        "ctx": {"error": error},
    }])


async def read_json(request: Request) -> Any:
    """The body as JSON, None when empty, or UndecodedBody when its content type is not JSON."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise DetailError(413, f"Request body too large: the limit is {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise DetailError(413, f"Request body too large: the limit is {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return None
    if not declares_json(request.headers.get("content-type")):
        return UndecodedBody(raw.decode("utf-8", errors="replace"))
    if nested_deeper_than(raw, MAX_JSON_DEPTH):
        raise _json_invalid(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as e:
        raise _json_invalid(str(e)) from None
    except RecursionError:  # a safety net: the scan above should leave nothing this deep
        raise _json_invalid(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
