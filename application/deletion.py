"""The delete command of OrgLedger: organizations with every membership and key, all or none."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from orgledger.domain.budget import Budget
from orgledger.domain.errors import OrganizationNotFoundError
from orgledger.domain.key import Key
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization

from .append_condition import AppendCondition
from .cascade import CASCADE_TOPICS, Cascade, cascade_of
from .commands import DeleteOrgs, Done
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from collections.abc import Iterable

    from eventsourcing.application import Repository
    from eventsourcing.persistence import ApplicationRecorder, Mapper


class OrgDeletion:
    """Mixed into OrgLedger; uses its repository, recorder and mapper and its `_find` / `_load` /
    `_save` helpers."""

    if TYPE_CHECKING:
        repository: Repository
        recorder: ApplicationRecorder
        mapper: Mapper

        def _find(self, cls: type, *key: str) -> Any: ...
        def _load(self, ids: Iterable[UUID]) -> dict[UUID, Any]: ...
        def _save(self, *aggregates: Any, condition: AppendCondition | None = None) -> int: ...

    @retry_on_conflict
    def delete_orgs(self, cmd: DeleteOrgs) -> Done:
        """Delete organizations with every membership and every key issued for them, all or none."""
        # Joins (and keys issued) to these organizations wait from here until the save, so none
        # lands between the read of the member list and the save and refuses it: under a stream
        # of joins the delete would otherwise lose every race (adapters/persistence/fences.py).
        fenced = [Organization.create_id(organization_id) for organization_id in cmd.organization_ids]
        with self.recorder.fence(fenced):  # type: ignore[attr-defined]
            done = self._delete_orgs(cmd)
        return replace(done, previous=self._as_deleted(done.organization_ids))

    def _as_deleted(self, organization_ids: list[str]) -> tuple[Any, ...]:
        """Each organization at the version before its deletion (no event follows a deletion),
        with its budget: what the delete answers."""
        shown: list[Any] = []
        for organization_id in organization_ids:
            deleted = self.repository.get(Organization.create_id(organization_id))
            org = self.repository.get(deleted.id, version=deleted.version - 1)
            shown += [org, self.repository.get(Budget.create_id(org.budget_id))]
        return tuple(shown)

    def _delete_orgs(self, cmd: DeleteOrgs) -> Done:
        # In the order decided, so the saved events are in timestamp order (audit relies on it).
        decided: list[Any] = []
        orgs, revoked = [], []
        organization_ids = list(dict.fromkeys(cmd.organization_ids))
        for organization_id in organization_ids:
            org = self._find(Organization, organization_id)
            if org is None or org.deleted:
                raise OrganizationNotFoundError(f"Organization={organization_id} not found")
            orgs.append(org)
        cascade = self._cascade(organization_ids)
        # Every membership and key of the cascade in one read of the store.
        loaded = self._load([
            *(Membership.create_id(o, u) for o in organization_ids for u in cascade.user_ids[o]),
            *(Key.create_id(t) for o in organization_ids for t in cascade.tokens[o]),
        ])
        for org in orgs:
            org.delete(cmd.actor)
            decided.append(org)
            for user_id in cascade.user_ids[org.organization_id]:
                membership = loaded[Membership.create_id(org.organization_id, user_id)]
                if not membership.removed:
                    membership.remove(cmd.actor)
                    decided.append(membership)
            for token in cascade.tokens[org.organization_id]:
                key = loaded[Key.create_id(token)]
                if not key.revoked:
                    key.revoke(cmd.actor)
                    revoked.append(key)
                    decided.append(key)
        # A member who joined, or a key issued, after the log was read would be left
        # behind: refuse and retry.
        deleting = set(organization_ids)
        condition = AppendCondition(
            quiet_after=cascade.through,
            quiet_topics=CASCADE_TOPICS,
            quiet_match=lambda stored: self._names_organization(stored, deleting),
        )
        return Done(
            self._save(*decided, condition=condition),
            organization_ids=[o.organization_id for o in orgs],
            tokens=[k.token for k in revoked],
        )

    def _cascade(self, organization_ids: list[str]) -> Cascade:
        return cascade_of(self, organization_ids)

    def _names_organization(self, stored: Any, organization_ids: set[str]) -> bool:
        return getattr(self.mapper.to_domain_event(stored), "organization_id", None) in organization_ids
