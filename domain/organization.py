"""The Organization aggregate: an organization's own fields and its lifecycle."""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from .errors import OrganizationDeletedError
from .ids import organization_uuid
from .values import Actor, ObjectPermission
from .versioning import event_versions


@event_versions(OrgCreated=1, OrgUpdated=1, OrgDeleted=1)
class Organization(Aggregate):
    @staticmethod
    def create_id(organization_id: str) -> UUID:
        return organization_uuid(organization_id)

    @event("OrgCreated")
    def __init__(
        self,
        organization_id: str,
        organization_alias: str,
        budget_id: str,
        models: list[str],
        metadata: dict[str, Any],
        object_permission: ObjectPermission | None,
        actor: Actor,
    ) -> None:
        self.organization_id = organization_id
        self.organization_alias = organization_alias
        self.budget_id = budget_id
        self.models = models
        self.metadata = metadata
        self.object_permission = object_permission
        self.spend = 0.0
        self.created_by = actor.user_id
        self.updated_by = actor.user_id
        self.deleted = False

    def ensure_active(self) -> None:
        if self.deleted:
            raise OrganizationDeletedError(
                f"Organization {self.organization_id} is deleted"
            )

    def update(
        self,
        *,
        actor: Actor,
        organization_alias: str | None = None,
        models: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        spend: float | None = None,
        object_permission: dict[str, Any] | None = None,
    ) -> None:
        """Change the given fields; metadata and object permission merge into what is there."""
        self.ensure_active()
        permission = None
        if object_permission is not None:
            permission = merge_permission(self.object_permission, object_permission)
        self._updated(
            organization_id=self.organization_id,
            organization_alias=organization_alias,
            models=models,
            metadata=merge_metadata(self.metadata, metadata) if metadata is not None else None,
            spend=spend,
            object_permission=permission,
            actor=actor,
        )

    @event("OrgUpdated")
    def _updated(
        self,
        organization_id: str,
        organization_alias: str | None,
        models: list[str] | None,
        metadata: dict[str, Any] | None,
        spend: float | None,
        object_permission: ObjectPermission | None,
        actor: Actor,
    ) -> None:
        if organization_alias is not None:
            self.organization_alias = organization_alias
        if models is not None:
            self.models = models
        if metadata is not None:
            self.metadata = metadata
        if spend is not None:
            self.spend = spend
        if object_permission is not None:
            self.object_permission = object_permission
        self.updated_by = actor.user_id

    def delete(self, actor: Actor) -> None:
        self.ensure_active()
        self._deleted(organization_id=self.organization_id, actor=actor)

    @event("OrgDeleted")
    def _deleted(self, organization_id: str, actor: Actor) -> None:
        self.deleted = True
        self.updated_by = actor.user_id


def merge_metadata(existing: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """LiteLLM's metadata merge: null values are skipped, numeric strings become numbers,
    dicts merge one level deep, anything else replaces."""
    merged = dict(existing)
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, str):
            value = _number_or_string(value)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = {**merged[key], **value}
        merged[key] = value
    return merged


def _number_or_string(value: str) -> Any:
    for parse in (int, float):
        try:
            number = parse(value)
        except ValueError:
            continue
        return number if math.isfinite(number) else value
    return value


def merge_permission(
    current: ObjectPermission | None, changes: dict[str, Any]
) -> ObjectPermission:
    base = current.as_dict() if current else {"object_permission_id": str(uuid4())}
    base.update({k: v for k, v in changes.items() if v is not None})
    return ObjectPermission(**base)
