"""Users by email for a log written before the index existed (domain/email_index.py): built
once, when a runtime starts, from the log's UserCreated events."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import RecordConflictError
from eventsourcing.utils import get_topic

from orgledger.domain.email_index import UsersByEmail, UsersByEmailBackfill
from orgledger.domain.user import User
from orgledger.domain.values import Actor

USER_CREATED = get_topic(User.UserCreated)
PAGE_SIZE = 1000
# Indexes saved per transaction: a big old log is indexed in bounded steps.
BATCH_SIZE = 500
ATTEMPTS = 5
log = logging.getLogger("orgledger")


def backfill_users_by_email(app: Any) -> int:
    """Index every user of the log that their email's index lacks, then save the marker with
    the last batch; returns how many users were indexed. An empty log needs nothing (and gets
    no marker, so that a new store starts empty). Safe to run twice, or after a crash half way:
    what is indexed is skipped. A concurrent registration that conflicts makes it start again."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _backfill(app)
        except RecordConflictError:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _backfill(app: Any) -> int:
    if UsersByEmailBackfill.create_id() in app.repository:
        return 0
    through = app.recorder.max_notification_id() or 0
    if through == 0:
        return 0
    by_email = _users_by_email(app, through)
    emails = list(by_email)
    indexed = 0
    for start in range(0, len(emails), BATCH_SIZE):
        batch = emails[start:start + BATCH_SIZE]
        # The batch's existing indexes in one query: a log whose users are all indexed already
        # (a store first started empty) costs one query per batch, not one per email.
        existing = app._load(UsersByEmail.create_id(email) for email in batch)
        indexes = []
        for email in batch:
            index = existing.get(UsersByEmail.create_id(email))
            for user_id, actor in by_email[email]:
                index = UsersByEmail.listing(index, email, user_id, actor)
            assert index is not None
            if index.pending_events:
                indexed += len(index.pending_events)
                indexes.append(index)
        if indexes:
            app.save(*indexes)
    app.save(UsersByEmailBackfill(through=through))
    if indexed:
        log.warning("indexed %s users by email, from the log up to position %s", indexed, through)
    return indexed


def _users_by_email(app: Any, through: int) -> dict[str, list[tuple[str, Actor]]]:
    """Each email's users, with who registered them, in log order."""
    found: dict[str, list[tuple[str, Actor]]] = {}
    start = 0
    while start < through:
        page = app.recorder.select_notifications(start=start, limit=PAGE_SIZE, stop=through,
                                                 topics=[USER_CREATED], inclusive_of_start=False)
        if not page:
            break
        for notification in page:
            user = app.mapper.to_domain_event(notification)
            if user.user_email is not None:
                found.setdefault(user.user_email, []).append((user.user_id, user.actor))
        start = page[-1].id
    return found
