"""How commands find what they decide on: aggregates by their natural keys, and users by email."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

from eventsourcing.application import AggregateNotFoundError

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
from .ports import Directory

if TYPE_CHECKING:
    from eventsourcing.application import Repository


class Lookups:
    """Mixed into OrgLedger: its repository, and the directory for users by email."""

    directory: Directory
    if TYPE_CHECKING:
        repository: Repository

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

    def _known_users(self, cmd: AddMembers) -> tuple[set[str] | None, dict[str, list[str]]]:
        """For members named by email, the users that exist, asked of the views at once rather
        than one by one (None: ask the store, which members named by id alone always do). A user
        created meanwhile makes the save conflict, and the retry asks again."""
        ids = [m.user_id for m in cmd.members if m.user_id is not None]
        emails = [m.user_email for m in cmd.members if m.user_email is not None]
        if not emails:
            return None, {}
        return self.directory.known_users(ids, emails)

    def _user_for_new_member(self, user_id: str | None, email: str | None, actor: Actor,
                             known: tuple[set[str] | None, dict[str, list[str]]]) -> User:
        known_ids, by_email = known
        if (user_id is not None and (known_ids is None or user_id in known_ids)
                and (user := self._find(User, user_id)) is not None):
            return user
        if email is not None:
            matches = by_email.get(email, [])
            if len(matches) > 1:
                raise InvalidRequestError(
                    "Multiple users with this email found in db. Please use 'user_id' instead."
                )
            if matches:
                return self.repository.get(User.create_id(matches[0]))
        return User.register(user_id=user_id or str(uuid4()), user_email=email, actor=actor)

    def _active_membership(self, org: Organization, user_id: str | None, email: str | None) -> Membership:
        if user_id is None:
            matches = self.directory.user_ids_by_email(email or "")
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
