"""Given/when/then tests of the Budget and User aggregates."""

from __future__ import annotations

import pytest

from orgledger.domain.budget import Budget
from orgledger.domain.errors import InvalidRequestError
from orgledger.domain.user import User
from orgledger.domain.values import USER_ROLES, Actor, BudgetLimits

ADMIN = Actor(user_id="default_user_id")


def test_a_budget_opens_with_its_limits() -> None:
    budget = Budget.open("b-1", BudgetLimits(max_budget=20.0, tpm_limit=5), ADMIN)
    [created] = budget.collect_events()
    assert isinstance(created, Budget.BudgetCreated)
    assert created.limits == BudgetLimits(max_budget=20.0, tpm_limit=5)
    assert budget.id == Budget.create_id("b-1")


def test_an_empty_budget_is_still_a_budget() -> None:
    # LiteLLM always creates a budget row, so litellm_budget_table is never null.
    budget = Budget.open("b-1", BudgetLimits(), ADMIN)
    assert budget.limits == BudgetLimits() and len(budget.collect_events()) == 1


@pytest.mark.parametrize("field", ["max_budget", "soft_budget"])
@pytest.mark.parametrize("value", [-0.01, -100.0])
def test_negative_budgets_are_refused(field: str, value: float) -> None:
    limits = BudgetLimits(**{field: value})
    with pytest.raises(InvalidRequestError, match=f"{field} cannot be negative. Received: {value}"):
        Budget.open("b-1", limits, ADMIN)
    budget = Budget.open("b-1", BudgetLimits(), ADMIN)
    budget.collect_events()
    with pytest.raises(InvalidRequestError):
        budget.update(limits, ADMIN)
    assert budget.collect_events() == []


def test_zero_is_a_valid_budget() -> None:
    budget = Budget.open("b-1", BudgetLimits(max_budget=0.0, soft_budget=0.0), ADMIN)
    assert budget.limits.max_budget == 0.0


def test_update_overwrites_only_non_null_limits() -> None:
    budget = Budget.open("b-1", BudgetLimits(max_budget=20.0, rpm_limit=3), ADMIN)
    budget.collect_events()
    budget.update(BudgetLimits(max_budget=50.0), ADMIN)
    [updated] = budget.collect_events()
    assert isinstance(updated, Budget.BudgetUpdated) and updated.actor == ADMIN
    assert budget.limits == BudgetLimits(max_budget=50.0, rpm_limit=3)


def test_update_that_changes_nothing_records_nothing() -> None:
    budget = Budget.open("b-1", BudgetLimits(max_budget=20.0), ADMIN)
    budget.collect_events()
    budget.update(BudgetLimits(), ADMIN)
    budget.update(BudgetLimits(max_budget=20.0), ADMIN)
    assert budget.collect_events() == []


def test_a_user_registers_as_internal_user_by_default() -> None:
    user = User.register("u-1", ADMIN, user_email="a@example.com")
    [created] = user.collect_events()
    assert isinstance(created, User.UserCreated)
    assert (user.user_role, user.user_email, user.models, user.metadata) == ("internal_user", "a@example.com", [], {})
    assert user.id == User.create_id("u-1")


@pytest.mark.parametrize("role", USER_ROLES)
def test_every_litellm_user_role_is_accepted(role: str) -> None:
    assert User.register("u-1", ADMIN, user_role=role).user_role == role


def test_unknown_user_roles_and_negative_budgets_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="Invalid user_role"):
        User.register("u-1", ADMIN, user_role="superuser")
    with pytest.raises(InvalidRequestError, match="max_budget cannot be negative"):
        User.register("u-1", ADMIN, max_budget=-1.0)
