"""The OrgLedger application: one method per command; each decides, then saves atomically."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import ApplicationRecorder, Mapper, RecordConflictError, Recording

from orgledger.domain.budget import Budget, check_limits
from orgledger.domain.errors import (
    DomainError,
    InvalidRequestError,
    MemberExistsError,
)
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization, merge_permission
from orgledger.domain.user import User
from orgledger.domain.values import BudgetLimits

from .append_condition import AppendCondition, GuardedRecorder
from .commands import AddMembers, CreateOrg, Done, RemoveMember, UpdateMember, UpdateOrg
from .deadline import current_deadline
from .deletion import OrgDeletion
from .direct_save import DirectSave
from .idempotency import IdempotentRequests, pending_claim
from .identity import IdentityCommands
from .lookups import Lookups
from .mapper import MsgspecMapper
from .retry import retry_on_conflict


class OrgLedger(IdentityCommands, OrgDeletion, IdempotentRequests, Lookups, DirectSave):
    name = "orgledger"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Told the recordings of every save once it has committed (metrics count events here).
        self.save_observers: list[Callable[[Sequence[Recording]], None]] = []
        self._orgs_read = {}

    def _notify(self, recordings: list[Recording]) -> None:
        for observe in self.save_observers:
            observe(recordings)

    def construct_recorder(self) -> ApplicationRecorder:
        recorder = super().construct_recorder()
        # Without a guarded recorder every append condition would be silently ignored: members
        # could join deleted organizations. Refuse to start rather than run unguarded.
        if not isinstance(recorder, GuardedRecorder):
            raise TypeError(
                f"OrgLedger needs a recorder that checks append conditions, got {type(recorder).__name__}"
            )
        return recorder

    def construct_mapper(self) -> Mapper:
        return MsgspecMapper(
            transcoder=self.construct_transcoder(),
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
        )

    # Commands.

    @retry_on_conflict
    def create_org(self, cmd: CreateOrg) -> Done:
        """Create an organization and, unless it names one, its budget, in one save."""
        check_limits(cmd.limits)
        organization_id = cmd.organization_id or str(uuid4())
        try:
            new = []
            if cmd.budget_id is None:
                budget = Budget.open(str(uuid4()), cmd.limits, cmd.actor)
                new.append(budget)
            elif (budget := self._find(Budget, cmd.budget_id)) is None:
                raise InvalidRequestError(f"Budget not found for budget_id={cmd.budget_id}")
            org = Organization(
                organization_id=organization_id,
                organization_alias=cmd.organization_alias,
                budget_id=budget.budget_id,
                models=list(cmd.models),
                metadata=dict(cmd.metadata),
                object_permission=(
                    None if cmd.object_permission is None else merge_permission(None, cmd.object_permission)
                ),
                actor=cmd.actor,
            )
        except DomainError:
            self._refuse_existing(organization_id)  # an existing id is the first refusal
            raise
        try:
            position = self._save(*new, org)
        except RecordConflictError:
            # The store refuses a second organization with this id: no read beforehand.
            self._refuse_existing(organization_id)
            raise
        return Done(position, organization_ids=[organization_id], decided=(org, budget))

    @retry_on_conflict
    def update_org(self, cmd: UpdateOrg) -> Done:
        """Change an organization's fields and its budget's limits together."""
        org = self._active_org(cmd.organization_id)
        budget = self.repository.get(Budget.create_id(org.budget_id))
        org_fields: dict[str, Any] = {
            "organization_alias": cmd.organization_alias,
            "models": cmd.models,
            "metadata": cmd.metadata,
            "spend": cmd.spend,
            "object_permission": cmd.object_permission,
        }
        check_limits(cmd.limits)
        # LiteLLM writes updated_by on the organization for a budget-only update too; and the
        # organization's new version makes this save conflict with a concurrent delete.
        budget_changes = budget.limits.merged(cmd.limits) != budget.limits
        if budget_changes or any(v is not None for v in org_fields.values()):
            org.update(actor=cmd.actor, **org_fields)
        # Decided, and so timestamped, in the order saved: the log stays in timestamp order.
        budget.update(cmd.limits, cmd.actor)
        return Done(self._save(org, budget), organization_ids=[cmd.organization_id], decided=(org, budget))

    @retry_on_conflict
    def add_members(self, cmd: AddMembers) -> Done:
        """Add members, creating users that do not exist yet, in one save."""
        org = self._org_to_read(cmd.organization_id)
        changed: list[Any] = []
        users: list[User] = []
        # Sets beside the lists: each member is checked against the others in constant time,
        # so a call's cost grows linearly with its members (aggregates compare by value, slowly).
        new_users: set[str] = set()
        user_ids: dict[str, None] = {}
        # Users this command creates are not in the store yet; the same email listed
        # twice must find the first one, not create a second user with that email.
        created: dict[str, User] = {}
        known = self._known_users(cmd)
        for member in cmd.members:
            user = created.get(member.user_email or "") if member.user_email else None
            listing = None
            if user is None:
                user, listing = self._user_for_new_member(member.user_id, member.user_email, cmd.actor,
                                                          known)
            if user.pending_events and user.user_id not in new_users:
                new_users.add(user.user_id)
                changed.append(user)
                if listing is not None:
                    changed.append(listing)  # decided after the user, so saved after it
                if user.user_email:
                    created[user.user_email] = user
            if user.user_id in user_ids:
                raise MemberExistsError(f"User {user.user_id} is listed twice")
            user_ids[user.user_id] = None
            users.append(user)
            # A user created by this command has no membership to look for: memberships are
            # only ever saved together with their user (and the store would refuse a second).
            is_new = user.version == len(user.pending_events)
            membership = None if is_new else self._find(Membership, cmd.organization_id, user.user_id)
            if membership is None:
                membership = Membership.join(org, user.user_id, member.role, cmd.actor)
            else:
                membership.rejoin(org, member.role, cmd.actor)
            changed.append(membership)
        condition = AppendCondition(versions={org.id: org.version})
        return Done(
            self._save(*changed, condition=condition),
            organization_ids=[cmd.organization_id],
            user_ids=list(user_ids),
            decided=(*users, *(m for m in changed if isinstance(m, Membership))),
        )

    @retry_on_conflict
    def update_member(self, cmd: UpdateMember) -> Done:
        """Change a member's role and/or their budget inside the organization."""
        org = self._org_to_read(cmd.organization_id, InvalidRequestError)
        membership = self._active_membership(org, cmd.user_id, cmd.user_email)
        changed: list[Any] = []
        shown: list[Any] = []  # not changed, but in the answer
        # The budget is decided first and saved first, the membership's events after it: the
        # log then stays in timestamp order (audit relies on it).
        new_budget_id = None
        if cmd.max_budget_in_organization is not None:
            limits = BudgetLimits(max_budget=cmd.max_budget_in_organization)
            if membership.budget_id is None:
                budget = Budget.open(str(uuid4()), limits, cmd.actor)
                new_budget_id = budget.budget_id
            else:
                budget = self.repository.get(Budget.create_id(membership.budget_id))
                budget.update(limits, cmd.actor)
            changed.append(budget)
        elif membership.budget_id is not None:
            shown.append(self.repository.get(Budget.create_id(membership.budget_id)))
        if cmd.role is not None:
            membership.change_role(cmd.role, cmd.actor)
        if new_budget_id is not None:
            membership.set_budget(new_budget_id, cmd.actor)
        condition = AppendCondition(versions={org.id: org.version})
        return Done(
            self._save(*changed, membership, condition=condition),
            organization_ids=[cmd.organization_id],
            user_ids=[membership.user_id],
            decided=(membership, *changed, *shown),
        )

    @retry_on_conflict
    def remove_member(self, cmd: RemoveMember) -> Done:
        """Remove a member from an organization."""
        org = self._org_to_read(cmd.organization_id, InvalidRequestError)
        membership = self._active_membership(org, cmd.user_id, cmd.user_email)
        membership.remove(cmd.actor)
        condition = AppendCondition(versions={org.id: org.version})
        return Done(
            self._save(membership, condition=condition),
            organization_ids=[cmd.organization_id],
            user_ids=[membership.user_id],
            # The answer is the membership as it was.
            previous=(self.repository.get(membership.id, version=membership.version - 1),),
        )

    # Helpers.

    def _save(self, *aggregates: Any, condition: AppendCondition | None = None) -> int:
        # The request's deadline goes with the events: the writer leaves them out if the
        # caller has given up by the time it would write them (deadline.py).
        # An organization saved here moves on; one a failed condition names may have.
        self._forget_orgs(a.id for a in aggregates if isinstance(a, Organization))
        try:
            recordings = self.save(*self.with_claim(aggregates), condition=condition,
                                   deadline=current_deadline.get())
        except Exception:
            self._forget_orgs(condition.versions if condition else ())
            raise
        if (claim := pending_claim.get()) is not None:
            claim.saved = True
        if recordings:
            return recordings[-1].notification.id
        return self.recorder.max_notification_id() or 0
