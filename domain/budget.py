"""The Budget aggregate: spend and rate limits, shared by organizations and memberships."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .errors import InvalidRequestError
from .ids import budget_uuid
from .values import Actor, BudgetLimits
from .versioning import event_versions


def check_limits(limits: BudgetLimits) -> None:
    for name in ("max_budget", "soft_budget"):
        value = getattr(limits, name)
        if value is not None and value < 0:
            raise InvalidRequestError(f"{name} cannot be negative. Received: {value}")


@event_versions(BudgetCreated=1, BudgetUpdated=1)
class Budget(Aggregate):
    @staticmethod
    def create_id(budget_id: str) -> UUID:
        return budget_uuid(budget_id)

    @classmethod
    def open(cls, budget_id: str, limits: BudgetLimits, actor: Actor) -> Budget:
        check_limits(limits)
        return cls(budget_id=budget_id, limits=limits, actor=actor)

    @event("BudgetCreated")
    def __init__(self, budget_id: str, limits: BudgetLimits, actor: Actor) -> None:
        self.budget_id = budget_id
        self.limits = limits

    def update(self, changes: BudgetLimits, actor: Actor) -> None:
        """Overwrite the non-null fields of `changes`; nothing changes, no event."""
        check_limits(changes)
        if self.limits.merged(changes) != self.limits:
            self._updated(budget_id=self.budget_id, changes=changes, actor=actor)

    @event("BudgetUpdated")
    def _updated(self, budget_id: str, changes: BudgetLimits, actor: Actor) -> None:
        self.limits = self.limits.merged(changes)
