"""The User aggregate: a LiteLLM user with a global role."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .errors import InvalidRequestError
from .ids import user_uuid
from .values import USER_ROLES, Actor
from .versioning import event_versions


@event_versions(UserCreated=1)
class User(Aggregate):
    @staticmethod
    def create_id(user_id: str) -> UUID:
        return user_uuid(user_id)

    @classmethod
    def register(
        cls,
        user_id: str,
        actor: Actor,
        user_email: str | None = None,
        user_role: str = "internal_user",
        models: list[str] | None = None,
        max_budget: float | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> User:
        if user_role not in USER_ROLES:
            raise InvalidRequestError(f"Invalid user_role. Must be one of: {list(USER_ROLES)}")
        if max_budget is not None and max_budget < 0:
            raise InvalidRequestError(f"max_budget cannot be negative. Received: {max_budget}")
        return cls(
            user_id=user_id,
            user_email=user_email,
            user_role=user_role,
            models=models or [],
            max_budget=max_budget,
            metadata=metadata or {},
            actor=actor,
        )

    @event("UserCreated")
    def __init__(
        self,
        user_id: str,
        user_email: str | None,
        user_role: str,
        models: list[str],
        max_budget: float | None,
        metadata: dict[str, Any],
        actor: Actor,
    ) -> None:
        self.user_id = user_id
        self.user_email = user_email
        self.user_role = user_role
        self.models = models
        self.max_budget = max_budget
        self.metadata = metadata
