"""The Membership aggregate: one user's place in one organization."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .errors import InvalidRoleError, MemberExistsError, MemberNotFoundError
from .ids import membership_uuid
from .organization import Organization
from .values import ORG_ROLES, Actor
from .versioning import event_versions


def check_org_role(role: str) -> None:
    if role not in ORG_ROLES:
        raise InvalidRoleError(f"Invalid role. Must be one of: {list(ORG_ROLES)}")


@event_versions(MemberAdded=1, MemberRejoined=1, RoleChanged=1, MemberBudgetChanged=1, MemberRemoved=2)
class Membership(Aggregate):
    @staticmethod
    def create_id(organization_id: str, user_id: str) -> UUID:
        return membership_uuid(organization_id, user_id)

    @classmethod
    def join(cls, organization: Organization, user_id: str, role: str, actor: Actor) -> Membership:
        """A new membership; nobody joins a deleted organization."""
        organization.ensure_active()
        check_org_role(role)
        return cls(
            organization_id=organization.organization_id, user_id=user_id, role=role, actor=actor
        )

    @event("MemberAdded")
    def __init__(self, organization_id: str, user_id: str, role: str, actor: Actor) -> None:
        self.organization_id = organization_id
        self.user_id = user_id
        self.role = role
        self.budget_id: str | None = None
        self.removed = False
        self._joined_on: datetime | None = None  # see joined_on

    @property
    def joined_on(self) -> datetime:
        """When the member last joined (a rejoin starts a new membership row, as in LiteLLM)."""
        return self._joined_on or self.modified_on

    def _keep_joined_on(self) -> None:
        # An event's method runs before the aggregate takes the event's time: while no later
        # event has come, the time of the (re)join is the aggregate's modified_on; the first one
        # that comes keeps it.
        if self._joined_on is None:
            self._joined_on = self.modified_on

    def rejoin(self, organization: Organization, role: str, actor: Actor) -> None:
        """Add a removed member back; an active member cannot be added twice."""
        organization.ensure_active()
        if not self.removed:
            raise MemberExistsError(
                f"User {self.user_id} is already a member of organization {self.organization_id}"
            )
        check_org_role(role)
        self._rejoined(**self._key(), role=role, actor=actor)

    @event("MemberRejoined")
    def _rejoined(self, organization_id: str, user_id: str, role: str, actor: Actor) -> None:
        self.role = role
        self.budget_id = None
        self.removed = False
        self._joined_on = None

    def _key(self) -> dict[str, str]:
        return {"organization_id": self.organization_id, "user_id": self.user_id}

    def ensure_active(self) -> None:
        if self.removed:
            raise MemberNotFoundError(
                f"Member not found in organization for user_id={self.user_id}"
            )

    def change_role(self, role: str, actor: Actor) -> None:
        self.ensure_active()
        check_org_role(role)
        if role != self.role:
            self._role_changed(**self._key(), role=role, actor=actor)

    @event("RoleChanged")
    def _role_changed(self, organization_id: str, user_id: str, role: str, actor: Actor) -> None:
        self._keep_joined_on()
        self.role = role

    def set_budget(self, budget_id: str, actor: Actor) -> None:
        self.ensure_active()
        if budget_id != self.budget_id:
            self._budget_changed(**self._key(), budget_id=budget_id, actor=actor)

    @event("MemberBudgetChanged")
    def _budget_changed(self, organization_id: str, user_id: str, budget_id: str, actor: Actor) -> None:
        self._keep_joined_on()
        self.budget_id = budget_id

    def remove(self, actor: Actor) -> None:
        self.ensure_active()
        self._removed(**self._key(), role=self.role, actor=actor)

    # v2 records the role the member held, so the audit trail says what access was taken away.
    @event("MemberRemoved")
    def _removed(self, organization_id: str, user_id: str, role: str | None, actor: Actor) -> None:
        self._keep_joined_on()
        self.removed = True

    @staticmethod
    def upcast_MemberRemoved_v1_v2(state: dict[str, Any]) -> None:
        # v1 did not record the role; the event alone cannot tell it, so it reads as unknown.
        state["role"] = None
