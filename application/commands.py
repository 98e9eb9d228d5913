"""Commands: what a caller asks for, already parsed and typed at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from orgledger.domain.values import Actor, BudgetLimits

T = TypeVar("T")


@dataclass(frozen=True)
class CreateOrg:
    actor: Actor
    organization_alias: str
    organization_id: str | None = None
    budget_id: str | None = None
    limits: BudgetLimits = field(default_factory=BudgetLimits)
    models: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    object_permission: dict[str, Any] | None = None


@dataclass(frozen=True)
class UpdateOrg:
    actor: Actor
    organization_id: str
    organization_alias: str | None = None
    models: list[str] | None = None
    metadata: dict[str, Any] | None = None
    spend: float | None = None
    object_permission: dict[str, Any] | None = None
    limits: BudgetLimits = field(default_factory=BudgetLimits)


@dataclass(frozen=True)
class DeleteOrgs:
    actor: Actor
    organization_ids: list[str]


@dataclass(frozen=True)
class NewMember:
    role: str
    user_id: str | None = None
    user_email: str | None = None


@dataclass(frozen=True)
class AddMembers:
    actor: Actor
    organization_id: str
    members: list[NewMember]


@dataclass(frozen=True)
class UpdateMember:
    actor: Actor
    organization_id: str
    user_id: str | None = None
    user_email: str | None = None
    role: str | None = None
    max_budget_in_organization: float | None = None


@dataclass(frozen=True)
class RemoveMember:
    actor: Actor
    organization_id: str
    user_id: str | None = None
    user_email: str | None = None


@dataclass(frozen=True)
class CreateUser:
    actor: Actor
    user_id: str | None = None
    user_email: str | None = None
    user_role: str = "internal_user"
    models: list[str] = field(default_factory=list)
    max_budget: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    auto_create_key: bool = True
    # Applied to the key created with the user, as LiteLLM does.
    key_alias: str | None = None
    duration: str | None = None


@dataclass(frozen=True)
class GenerateKey:
    actor: Actor
    user_id: str | None = None
    key_alias: str | None = None
    models: list[str] = field(default_factory=list)
    organization_id: str | None = None
    duration: str | None = None


@dataclass(frozen=True)
class DeleteKeys:
    actor: Actor
    # Raw keys ("sk-...") or their tokens (sha256 hex).
    keys: list[str]


@dataclass(frozen=True)
class NewKey:
    """A key just issued. The raw key goes back to the caller once and is stored nowhere."""

    key: str = field(repr=False)
    token: str
    expires: datetime | None


@dataclass(frozen=True)
class Done:
    """What a command did: the log position to wait for, the ids it touched, and the
    aggregates it decided on, as saved (its answer is built from them); `previous` holds those
    a command answers as they were before it (a delete shows what it deleted)."""

    position: int
    organization_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    new_key: NewKey | None = None
    tokens: list[str] = field(default_factory=list)
    decided: tuple[Any, ...] = ()
    previous: tuple[Any, ...] = ()

    def of(self, cls: type[T]) -> list[T]:
        return [a for a in self.decided if isinstance(a, cls)]

    def previous_of(self, cls: type[T]) -> list[T]:
        return [a for a in self.previous if isinstance(a, cls)]
