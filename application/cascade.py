"""What deleting organizations cascades to, found in the event log (a command never reads a
view): every member who joined them and every key issued for them, as of one log position."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventsourcing.utils import get_topic

from orgledger.domain.key import Key
from orgledger.domain.membership import Membership

JOINING_TOPICS = (get_topic(Membership.MemberAdded), get_topic(Membership.MemberRejoined))
# What delete_orgs cascades to: a member who joined or a key issued after it read the lists.
CASCADE_TOPICS = (*JOINING_TOPICS, get_topic(Key.KeyIssued))
KEY_ISSUED = get_topic(Key.KeyIssued)
PAGE_SIZE = 1000


@dataclass
class Cascade:
    """Per organization, the users who ever joined it and the tokens of the keys issued for it,
    in log order, each once; those since removed or revoked are among them (the caller skips
    them). `through`: the log position they are complete to."""

    through: int
    user_ids: dict[str, dict[str, None]] = field(default_factory=dict)
    tokens: dict[str, dict[str, None]] = field(default_factory=dict)


def cascade_of(app: Any, organization_ids: list[str]) -> Cascade:
    """One pass over the log's joins and issued keys, up to its head when called. A join or key
    stored after that head is not listed: the delete's append condition refuses it (quiet after
    `through`), and the command decides again."""
    through = app.recorder.max_notification_id() or 0
    found = Cascade(through, {o: {} for o in organization_ids}, {o: {} for o in organization_ids})
    start = 0
    while start < through:
        page = app.recorder.select_states(start, through, CASCADE_TOPICS, PAGE_SIZE)
        if not page:
            break
        for _, topic, data in page:
            state = app.mapper.decode_state(data)
            organization_id = state.get("organization_id")
            if organization_id not in found.user_ids:
                continue
            if topic == KEY_ISSUED:
                found.tokens[organization_id][state["token"]] = None
            else:
                found.user_ids[organization_id][state["user_id"]] = None
        start = page[-1][0]
    return found
