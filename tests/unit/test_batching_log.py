"""The request log's batching handler: a request never writes its own line, yet no line is lost."""

from __future__ import annotations

import io
import logging
import sys
import time

from orgledger.adapters.http.request_log import BatchingHandler, JsonFormatter


def handler_over(stream: io.StringIO, json: bool = False) -> BatchingHandler:
    target = logging.StreamHandler(stream)
    target.setFormatter(JsonFormatter() if json else logging.Formatter("%(levelname)s %(message)s"))
    return BatchingHandler(target)


def record(message: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("orgledger.test", level, __file__, 1, message, args, None)


def test_lines_arrive_in_order_with_their_arguments_as_they_were_when_logged() -> None:
    stream, changing = io.StringIO(), ["before"]
    handler = handler_over(stream)
    handler.handle(record("first %s", changing))
    changing[0] = "after"  # the caller goes on; the line keeps what was logged
    for i in range(2, 6):
        handler.handle(record("line %d", i))
    handler.stop()
    assert stream.getvalue().splitlines() == [
        "INFO first ['before']", "INFO line 2", "INFO line 3", "INFO line 4", "INFO line 5"]


def test_an_info_line_arrives_within_the_flush_interval_without_a_stop() -> None:
    stream = io.StringIO()
    handler = handler_over(stream)
    try:
        handler.handle(record("quiet"))
        deadline = time.monotonic() + 5
        while not stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stream.getvalue() == "INFO quiet\n"
    finally:
        handler.stop()


def test_records_after_stop_are_written_directly_and_exceptions_keep_their_traceback() -> None:
    stream = io.StringIO()
    handler = handler_over(stream, json=True)
    handler.stop()
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("orgledger.test", logging.ERROR, __file__, 1, "failed %s", ("x",),
                                   sys.exc_info())
    handler.handle(failed)
    line = stream.getvalue()
    assert '"message": "failed x"' in line and "ValueError: boom" in line
