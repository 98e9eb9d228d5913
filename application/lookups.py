"""How commands find what they decide on: aggregates by their natural keys, and users by email,
all in the event store (a command never reads a view)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, project_aggregate

from orgledger.domain.email_index import UsersByEmail
from orgledger.domain.errors import (
    DomainError,
    InvalidRequestError,
    MemberNotFoundError,
    OrganizationExistsError,
    OrganizationNotFoundError,
    UserNotFoundError,
)
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.user import User
from orgledger.domain.values import Actor

from .commands import AddMembers

if TYPE_CHECKING:
    from eventsourcing.application import Repository
    from eventsourcing.persistence import Mapper

    from .append_condition import GuardedRecorder

# What an add_members call names, by aggregate id: users, and email indexes.
KnownUsers = dict[UUID, Any]
# Organizations kept by _org_to_read (a few KB each); past this, all are forgotten at once.
ORGS_KEPT = 4096


class Lookups:
    """Mixed into OrgLedger, whose repository and recorder it reads."""

    if TYPE_CHECKING:
        repository: Repository
        recorder: GuardedRecorder
        mapper: Mapper

    # Organizations by id, as _org_to_read last read them (a dict's get, set and pop are atomic).
    _orgs_read: dict[UUID, Organization]

    def _refuse_existing(self, organization_id: str) -> None:
        if Organization.create_id(organization_id) in self.repository:
            raise OrganizationExistsError(
                f"Organization with organization_id={organization_id} already exists"
            )

    def _find(self, cls: type, *key: str) -> Any:
        try:
            return self.repository.get(cls.create_id(*key))
        except AggregateNotFoundError:
            return None

    def _active_org(
        self, organization_id: str, error: type[DomainError] = OrganizationNotFoundError
    ) -> Organization:
        """The organization, unless it is unknown or deleted (LiteLLM answers 404 or 400 by endpoint)."""
        org = self._find(Organization, organization_id)
        if org is None or org.deleted:
            raise error(f"Organization not found for organization_id={organization_id}")
        return org

    def _org_to_read(
        self, organization_id: str, error: type[DomainError] = OrganizationNotFoundError
    ) -> Organization:
        """The active organization, for a command that only names its version in an append
        condition and never changes it: kept in memory once read (about a tenth of a member
        command's CPU). Should it have moved on since (another command, another process), that
        condition fails, `_save` forgets it, and the retry reads it afresh."""
        uid = Organization.create_id(organization_id)
        org = self._orgs_read.get(uid)
        if org is None:
            org = self._active_org(organization_id, error)
            if len(self._orgs_read) >= ORGS_KEPT:
                self._orgs_read.clear()
            self._orgs_read[uid] = org
        return org

    def _forget_orgs(self, ids: Iterable[UUID]) -> None:
        for uid in ids:
            self._orgs_read.pop(uid, None)

    def _load(self, ids: Iterable[UUID]) -> dict[UUID, Any]:
        """Aggregates by id, in one query of the store (GuardedRecorder.select_events_of); absent
        ones are left out."""
        stored = self.recorder.select_events_of(list(dict.fromkeys(ids)))
        return {uid: project_aggregate(None, map(self.mapper.to_domain_event, events))
                for uid, events in stored.items() if events}

    def _known_users(self, cmd: AddMembers) -> KnownUsers:
        """The users and email indexes the members name, read at once rather than one by one:
        first the users named by id and the indexes, then the users those indexes name."""
        ids = [User.create_id(m.user_id) for m in cmd.members if m.user_id is not None]
        ids += [UsersByEmail.create_id(m.user_email) for m in cmd.members if m.user_email is not None]
        known = self._load(ids)
        named = [index.user_ids[0] for index in known.values()
                 if isinstance(index, UsersByEmail) and len(index.user_ids) == 1]
        known.update(self._load(User.create_id(u) for u in named))
        return known

    def _user_for_new_member(self, user_id: str | None, email: str | None, actor: Actor,
                             known: KnownUsers) -> tuple[User, UsersByEmail | None]:
        """The member's user, found by id or else by email, or registered; with it, when it is
        registered with an email, that email's index listing it, to be saved together."""
        if user_id is not None and (user := known.get(User.create_id(user_id))) is not None:
            return user, None
        index = None
        if email is not None:
            index = known.get(UsersByEmail.create_id(email))
            matches = [] if index is None else index.user_ids
            if len(matches) > 1:
                raise InvalidRequestError(
                    "Multiple users with this email found in db. Please use 'user_id' instead."
                )
            if matches:
                return known[User.create_id(matches[0])], None
        user = User.register(user_id=user_id or str(uuid4()), user_email=email, actor=actor)
        if email is None:
            return user, None
        return user, UsersByEmail.listing(index, email, user.user_id, actor)

    def _listing(self, user: User, actor: Actor) -> UsersByEmail | None:
        """For a user just registered, their email's index listing them, to save with them."""
        if user.user_email is None:
            return None
        index = self._find(UsersByEmail, user.user_email)
        return UsersByEmail.listing(index, user.user_email, user.user_id, actor)

    def _active_membership(self, org: Organization, user_id: str | None, email: str | None) -> Membership:
        if user_id is None:
            index = self._find(UsersByEmail, email or "")
            matches = [] if index is None else index.user_ids
            if len(matches) != 1:
                raise UserNotFoundError(
                    f"Unique user not found for user_email={email}. Potential duplicate OR "
                    "non-existent user_email in LiteLLM_UserTable. Use 'user_id' instead."
                )
            user_id = matches[0]
        membership = self._find(Membership, org.organization_id, user_id)
        if membership is None or membership.removed:
            raise MemberNotFoundError(f"Member not found in organization for user_id={user_id}")
        return membership
