"""The identity commands of OrgLedger: users and their virtual keys."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from orgledger.domain.email_index import UsersByEmail
from orgledger.domain.errors import KeyNotFoundError, UserExistsError
from orgledger.domain.key import Key, parse_duration, token_from_key_or_token, token_of
from orgledger.domain.organization import Organization
from orgledger.domain.user import User
from orgledger.domain.values import Actor

from .append_condition import AppendCondition
from .commands import CreateUser, DeleteKeys, Done, GenerateKey, NewKey
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from eventsourcing.application import Repository


def new_raw_key() -> str:
    return "sk-" + secrets.token_urlsafe(24)


class IdentityCommands:
    """Mixed into OrgLedger; uses its repository and its `_find` / `_listing` / `_active_org` /
    `_save` helpers."""

    if TYPE_CHECKING:
        repository: Repository

        def _find(self, cls: type, *key: str) -> Any: ...
        def _listing(self, user: User, actor: Actor) -> UsersByEmail | None: ...
        def _active_org(self, organization_id: str) -> Organization: ...
        def _save(self, *aggregates: Any, condition: AppendCondition | None = None) -> int: ...

    @retry_on_conflict
    def create_user(self, cmd: CreateUser) -> Done:
        """Create a user and, unless told not to, their first key, in one save."""
        user_id = cmd.user_id or str(uuid4())
        if User.create_id(user_id) in self.repository:
            raise UserExistsError(f"User with id={user_id} already exists")
        user = User.register(
            user_id=user_id, actor=cmd.actor, user_email=cmd.user_email, user_role=cmd.user_role,
            models=list(cmd.models), max_budget=cmd.max_budget, metadata=dict(cmd.metadata),
        )
        # Decided in the order saved: the log stays in timestamp order (audit relies on it).
        aggregates: list[Any] = [user]
        if (listing := self._listing(user, cmd.actor)) is not None:
            aggregates.append(listing)
        new_key = None
        if cmd.auto_create_key:
            key, new_key = self._issue(cmd.actor, user_id, cmd.key_alias, list(cmd.models),
                                       None, cmd.duration)
            aggregates.append(key)
        return Done(self._save(*aggregates), user_ids=[user_id], new_key=new_key, decided=(user,))

    @retry_on_conflict
    def generate_key(self, cmd: GenerateKey) -> Done:
        """Issue a key; one bound to an organization cannot race that organization's deletion."""
        condition = None
        if cmd.organization_id is not None:
            org = self._active_org(cmd.organization_id)
            condition = AppendCondition(versions={org.id: org.version})
        key, new_key = self._issue(cmd.actor, cmd.user_id, cmd.key_alias, list(cmd.models),
                                   cmd.organization_id, cmd.duration)
        ids = [cmd.organization_id] if cmd.organization_id else []
        return Done(self._save(key, condition=condition), organization_ids=ids,
                    user_ids=[cmd.user_id] if cmd.user_id else [], new_key=new_key,
                    tokens=[key.token])

    @retry_on_conflict
    def delete_keys(self, cmd: DeleteKeys) -> Done:
        """Revoke keys, all or none; each is named by its raw value or its token."""
        keys = []
        for token in dict.fromkeys(token_from_key_or_token(k) for k in cmd.keys):
            key = self._find(Key, token)
            if key is None or key.revoked:
                raise KeyNotFoundError(f"Key not found: token={token}")
            key.revoke(cmd.actor)
            keys.append(key)
        return Done(self._save(*keys), tokens=[k.token for k in keys])

    def _issue(self, actor: Actor, user_id: str | None, key_alias: str | None, models: list[str],
               organization_id: str | None, duration: str | None) -> tuple[Key, NewKey]:
        # The expiry is fixed from the command's time, so replays never recompute it.
        expires = None
        if duration is not None:
            now = datetime.now(timezone.utc)
            expires = now + parse_duration(duration, now)
        raw = new_raw_key()
        token = token_of(raw)
        key = Key(token=token, user_id=user_id, key_alias=key_alias, models=models,
                  organization_id=organization_id, expires=expires, actor=actor)
        return key, NewKey(key=raw, token=token, expires=expires)
