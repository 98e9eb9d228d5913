"""Response shapes of the user and key endpoints, for the OpenAPI document only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from orgledger.adapters.http.openapi.responses import LiteLLM_UserTable

SHOWN_ONCE = "The raw key, shown once: orgledger stores only its token."


class GenerateKeyResponse(BaseModel):
    key: str = Field(description=SHOWN_ONCE)
    key_name: str = Field(description="The key abbreviated: sk-... and its last four characters.")
    token: str = Field(description="sha256 hex of the key: how orgledger names and stores it.")
    key_alias: str | None = None
    expires: datetime | None = Field(None, description="ISO-8601 UTC; null: the key never expires.")
    user_id: str | None = None
    models: list[str] = []
    organization_id: str | None = None


class NewUserResponse(LiteLLM_UserTable):
    key: str | None = Field(None, description=SHOWN_ONCE + " Null when auto_create_key is false.")
    key_name: str | None = None
    token: str | None = None
    key_alias: str | None = None
    expires: datetime | None = None


class UserKey(BaseModel):
    token: str
    key_alias: str | None = None
    user_id: str | None = None
    models: list[str] = []
    organization_id: str | None = None
    expires: datetime | None = None
    created_by: str
    created_at: datetime
    updated_at: datetime


class UserInfoResponse(BaseModel):
    user_id: str
    user_info: LiteLLM_UserTable
    keys: list[UserKey] = Field(description="The user's unrevoked keys, by token and alias; never raw.")
    teams: list[Any] = []


class KeyDeleteResponse(BaseModel):
    deleted_keys: list[str]
