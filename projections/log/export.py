"""A tamper-evident copy of the event log (JSONL, each line's sha256 chained to the line before)
and its check against the store, which names the first entry changed, removed or reordered."""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import msgspec

from orgledger.projections.log.reader import LoggedEvent, head, stream

FORMAT = "orgledger-audit-export/1"
LOOKAHEAD = 8  # how far a moved entry is looked for, to tell "reordered" from "removed"


def canonical(content: dict[str, Any]) -> bytes:
    return msgspec.json.encode(content, order="sorted")


def chained(previous: str, content: dict[str, Any]) -> str:
    return hashlib.sha256(previous.encode() + canonical(content)).hexdigest()


def entry(e: LoggedEvent) -> dict[str, Any]:
    """What an export line says about one event (without its hash)."""
    return {"position": e.position, "originator_id": e.originator_id,
            "originator_version": e.originator_version, "topic": e.topic, **e.as_line()}


def export(app: Any, out: TextIO) -> int:
    """Write the header and every event up to the head; returns how many events were written."""
    last = head(app)
    header = {"format": FORMAT, "head": last}
    digest = chained("", header)
    out.write(msgspec.json.encode({**header, "sha256": digest}).decode() + "\n")
    count = 0
    for e in stream(app, stop=last):
        content = entry(e)
        digest = chained(digest, content)
        out.write(msgspec.json.encode({**content, "sha256": digest}).decode() + "\n")
        count += 1
    return count


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str


@dataclass
class Line:
    number: int
    content: dict[str, Any]
    chain_ok: bool

    @property
    def position(self) -> int:
        return int(self.content.get("position", -1))

    def same_event(self, other: dict[str, Any]) -> bool:
        return _body(self.content) == _body(other)


def _body(content: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in content.items() if k != "position"}


def _lines(rows: Iterable[str]) -> Iterator[Line]:
    digest = None
    for number, text in enumerate(rows, start=1):
        if not text.strip():
            continue
        try:
            record = msgspec.json.decode(text)
        except msgspec.DecodeError:
            raise VerifyError(f"changed: line {number} is not JSON") from None
        claimed = record.pop("sha256", None)
        expected = chained(digest or "", record)
        yield Line(number, record, claimed == expected)
        digest = claimed if isinstance(claimed, str) else expected


class VerifyError(Exception):
    """Raised when the file cannot be read as an export at all."""


def verify(app: Any, rows: Iterable[str]) -> Verdict:
    try:
        return _verify(app, _lines(rows))
    except VerifyError as e:
        return Verdict(False, str(e))


def _verify(app: Any, lines: Iterator[Line]) -> Verdict:
    header = next(lines, None)
    if header is None or header.content.get("format") != FORMAT:
        return Verdict(False, f"not an orgledger audit export (the first line must name {FORMAT})")
    if not header.chain_ok:
        return Verdict(False, "changed: the header (line 1) does not match its sha256")
    exported_head = int(header.content["head"])
    file_ahead: deque[Line] = deque()
    store_ahead: deque[dict[str, Any]] = deque()
    file_iter, store_iter = lines, (entry(e) for e in stream(app, stop=exported_head))

    def fill() -> None:
        while len(file_ahead) < LOOKAHEAD and (line := next(file_iter, None)) is not None:
            file_ahead.append(line)
        while len(store_ahead) < LOOKAHEAD and (event := next(store_iter, None)) is not None:
            store_ahead.append(event)

    checked, previous = 0, 0
    fill()
    while file_ahead or store_ahead:
        f = file_ahead[0] if file_ahead else None
        s = store_ahead[0] if store_ahead else None
        if f is not None and f.position <= previous:
            return _problem("reordered", f"entry at line {f.number} (position {f.position}) comes "
                            f"after position {previous}", f)
        if f is not None and s is not None and f.position == s["position"] and f.same_event(s):
            if not f.chain_ok:
                return _problem("changed", f"line {f.number} (position {f.position}): its sha256 does "
                                "not continue the chain", f)
            previous = f.position
            file_ahead.popleft()
            store_ahead.popleft()
            checked += 1
            fill()
            continue
        return _classify(f, s, file_ahead, store_ahead)
    return Verdict(True, f"ok: {checked} entries match the store up to position {exported_head}")


def _classify(f: Line | None, s: dict[str, Any] | None, file_ahead: deque[Line],
              store_ahead: deque[dict[str, Any]]) -> Verdict:
    if f is None:
        assert s is not None
        return Verdict(False, f"removed: position {s['position']} is in the store but missing from "
                              "the end of the file")
    if s is None:
        return _problem("removed", f"position {f.position} (line {f.number}) is in the file but not "
                        "in the store", f)
    here = f"entry at line {f.number} (position {f.position})"
    if f.position == s["position"]:
        swapped = any(f.same_event(o) for o in list(store_ahead)[1:]) or any(
            line.same_event(s) for line in list(file_ahead)[1:])
        if swapped:
            return _problem("reordered", f"{here} holds the event the store has at another position", f)
        return _problem("changed", f"{here} differs from the store", f)
    if f.position > s["position"]:
        if any(line.position == s["position"] for line in file_ahead):
            return _problem("reordered", f"{here} comes before position {s['position']}", f)
        return _problem("removed", f"position {s['position']} is in the store but missing from the "
                        f"file (before line {f.number})", f)
    if any(f.same_event(o) for o in store_ahead):
        return _problem("reordered", f"{here} holds the event the store has at another position", f)
    return _problem("removed", f"position {f.position} (line {f.number}) is in the file but not in "
                    "the store", f)


def _problem(kind: str, what: str, line: Line) -> Verdict:
    where = ("the file's hash chain is intact here, so the store was changed" if line.chain_ok
             else f"the file's hash chain breaks at line {line.number}")
    return Verdict(False, f"{kind}: {what}; {where}")
