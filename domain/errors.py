"""Domain errors. Each carries the LiteLLM-compatible message the HTTP edge shows."""

from __future__ import annotations


class DomainError(Exception):
    """Raised when a command breaks a rule of the domain."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    """Raised when a command names something that does not exist (HTTP 404)."""


class InvalidRequestError(DomainError):
    """Raised when a command is well-formed but cannot be carried out (HTTP 400)."""


class OrganizationNotFoundError(NotFoundError):
    """Raised when an organization id is unknown or the organization is deleted."""


class OrganizationDeletedError(InvalidRequestError):
    """Raised when a command would change a deleted organization."""


class OrganizationExistsError(InvalidRequestError):
    """Raised when a new organization reuses an existing organization_id."""


class MemberExistsError(InvalidRequestError):
    """Raised when a user is added to an organization they already belong to."""


class MemberNotFoundError(NotFoundError):
    """Raised when a membership that a command names does not exist."""


class UserNotFoundError(InvalidRequestError):
    """Raised when a user lookup by email finds no single user (LiteLLM answers 400)."""


class InvalidRoleError(InvalidRequestError):
    """Raised when a role is not one of the roles inside an organization."""


class NotAuthorizedError(DomainError):
    """Raised when a caller acts outside their rights (HTTP 401, LiteLLM's texts)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class UserExistsError(InvalidRequestError):
    """Raised when a new user reuses an existing user_id."""


class KeyNotFoundError(NotFoundError):
    """Raised when a key named by a command is unknown or already revoked."""


class ProxyAdminOnlyError(DomainError):
    """Raised when a handler-level check finds a caller who is not a proxy admin (LiteLLM's
    401 `{"detail": {"error": ...}}`, as opposed to the auth layer's 401)."""
