"""The OpenAPI entries of the user and key endpoints, named as LiteLLM names them."""

from __future__ import annotations

from orgledger.adapters.http import identity_requests as rq
from orgledger.adapters.http.openapi import identity_responses as rs
from orgledger.adapters.http.openapi.document import DETAIL, PROXY, Operation

# 400 is also LiteLLM's answer to an expired key (a ProxyErrorResponse of type expired_key).
BAD = (PROXY, DETAIL)

USERS, KEYS = "Internal User management", "key management"

# OpenAPI links: where the new user's id goes (see org_operations.py for why bodies are expressions).
NEW_USER_LINKS = {
    "GetUserInfo": {"operationId": "user_info_user_info_get", "description": "Read the new user.",
                    "parameters": {"user_id": "$response.body#/user_id"}},
    "GenerateKeyForUser": {"operationId": "generate_key_fn_key_generate_post",
                           "description": "Issue the new user another key: their user_id (and models, key_alias).",
                           "requestBody": "$response.body"},
}

USER_OPERATIONS = [
    Operation(
        "POST", "/user/new", "new_user_user_new_post", "New User", USERS,
        response=rs.NewUserResponse, body=rq.NewUserRequest, errors={400: BAD}, links=NEW_USER_LINKS,
        description="Create a user and, unless auto_create_key is false, their first key. Proxy admins "
                    "only. Fields marked `x-orgledger-ignored` are LiteLLM's: accepted and ignored, but "
                    "a wrong type is still a 422. A user_id that exists, or a bad duration, is a 400.",
    ),
    Operation(
        "GET", "/user/info", "user_info_user_info_get", "User Info", USERS,
        response=rs.UserInfoResponse, query=rq.UserInfoQuery, errors={400: PROXY, 404: DETAIL},
        description="A user's row and unrevoked keys (by token, never raw). Proxy admins and "
                    "proxy_admin_viewers read anyone; others only themselves.",
    ),
]

KEY_OPERATIONS = [
    Operation(
        "POST", "/key/generate", "generate_key_fn_key_generate_post", "Generate Key Fn", KEYS,
        response=rs.GenerateKeyResponse, body=rq.GenerateKeyRequest, errors={400: BAD, 404: DETAIL},
        description="Issue a key. Proxy admins for anyone; a user for themself, and only in organizations "
                    "they belong to (viewer roles may not). Deleting the key's organization revokes it; "
                    "once expired it is answered with LiteLLM's 400 `expired_key`.",
    ),
    Operation(
        "POST", "/key/delete", "delete_key_fn_key_delete_post", "Delete Key Fn", KEYS,
        response=rs.KeyDeleteResponse, body=rq.KeyRequest, errors={400: PROXY, 404: DETAIL},
        description="Revoke keys named by raw value or token, all or none. Proxy admins any key; "
                    "a user their own.",
    ),
]
