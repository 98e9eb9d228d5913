"""The user and key endpoints: /user/new, /user/info, /key/generate, /key/delete."""

from __future__ import annotations

from typing import Any

from orgledger.application.commands import CreateUser, DeleteKeys, Done, GenerateKey
from orgledger.domain.user import User
from orgledger.projections import decided
from orgledger.projections.base import iso

from orgledger.adapters.http import identity_requests as rq
from orgledger.adapters.http.endpoint import Call, route
from orgledger.adapters.http.errors import DetailError


def _key_fields(done: Done, key_alias: str | None) -> dict[str, Any]:
    new = done.new_key
    if new is None:
        return {"key": None, "key_name": None, "token": None, "key_alias": None, "expires": None}
    return {
        "key": new.key,
        "key_name": f"sk-...{new.key[-4:]}",
        "token": new.token,
        "key_alias": key_alias,
        "expires": iso(new.expires) if new.expires else None,
    }


def new_user(call: Call, body: rq.NewUserRequest) -> dict[str, Any]:
    done = call.ledger.create_user(CreateUser(
        actor=call.actor,
        user_id=body.user_id,
        user_email=body.user_email,
        user_role=body.user_role or "internal_user",
        models=body.models or [],
        max_budget=body.max_budget,
        metadata=body.metadata or {},
        auto_create_key=body.auto_create_key,
        key_alias=body.key_alias,
        duration=body.duration,
    ))
    call.settle(done)
    return {**decided.user(done.of(User)[0]), **_key_fields(done, body.key_alias)}


def user_info(call: Call, query: rq.UserInfoQuery) -> dict[str, Any]:
    user_id = query.user_id or call.caller.user_id
    found = call.queries.user_with_keys(user_id) if user_id else None
    if found is None:
        raise DetailError(404, f"User not found for user_id={user_id}")
    user, keys = found
    listed = [{k: v for k, v in key.items() if k != "revoked"} for key in keys]
    return {"user_id": user_id, "user_info": user, "keys": listed, "teams": []}


def generate_key(call: Call, body: rq.GenerateKeyRequest) -> dict[str, Any]:
    caller = call.caller
    # A non-admin's key is theirs; only an admin issues keys that belong to nobody.
    user_id = body.user_id or (None if caller.is_proxy_admin else caller.user_id)
    done = call.ledger.generate_key(GenerateKey(
        actor=call.actor,
        user_id=user_id,
        key_alias=body.key_alias,
        models=body.models or [],
        organization_id=body.organization_id,
        duration=body.duration,
    ))
    call.settle(done)
    return {
        **_key_fields(done, body.key_alias),
        "user_id": user_id,
        "models": body.models or [],
        "organization_id": body.organization_id,
    }


def delete_keys(call: Call, body: rq.KeyRequest) -> dict[str, Any]:
    done = call.ledger.delete_keys(DeleteKeys(actor=call.actor, keys=body.keys))
    call.settle(done)
    return {"deleted_keys": body.keys}


ROUTES = [
    route("POST", "/user/new", new_user, body=rq.NewUserRequest),
    route("GET", "/user/info", user_info, query=rq.UserInfoQuery),
    route("POST", "/key/generate", generate_key, body=rq.GenerateKeyRequest),
    route("POST", "/key/delete", delete_keys, body=rq.KeyRequest),
]
