"""Users by email, kept in the event store: a command that names a user by email finds them
here, never in a read view (issue 12), as eventsourcing's content-management example keeps
its pages by slug."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .ids import users_by_email_backfill_uuid, users_by_email_uuid
from .values import Actor
from .versioning import event_versions


@event_versions(EmailIndexed=1, UserIndexed=1)
class UsersByEmail(Aggregate):
    """Every user registered with one email, in the order registered. LiteLLM does not make
    emails unique; a command that needs one user refuses an email several users share.

    Saved with each user it lists: two users registered with one email at once both write the
    index's next version, so the store refuses the second save and its command decides again."""

    @staticmethod
    def create_id(user_email: str) -> UUID:
        return users_by_email_uuid(user_email)

    @classmethod
    def listing(cls, index: UsersByEmail | None, user_email: str, user_id: str,
                actor: Actor) -> UsersByEmail:
        """The email's index (None: it has none yet) with the user in it."""
        if index is None:
            return cls(user_email=user_email, user_id=user_id, actor=actor)
        index.add(user_id, actor)
        return index

    @event("EmailIndexed")
    def __init__(self, user_email: str, user_id: str, actor: Actor) -> None:
        self.user_email = user_email
        self.user_ids = [user_id]

    def add(self, user_id: str, actor: Actor) -> None:
        if user_id not in self.user_ids:
            self._user_indexed(user_id=user_id, actor=actor)

    @event("UserIndexed")
    def _user_indexed(self, user_id: str, actor: Actor) -> None:
        self.user_ids.append(user_id)


@event_versions(Backfilled=1)
class UsersByEmailBackfill(Aggregate):
    """Present once every user the log held when it was saved is in its email's index: logs
    written before the index existed are indexed once, at the first start after the upgrade."""

    @staticmethod
    def create_id() -> UUID:
        return users_by_email_backfill_uuid()

    @event("Backfilled")
    def __init__(self, through: int) -> None:
        # The log position the backfill read up to; users after it were indexed as registered.
        self.through = through
