"""Who is calling: LiteLLM's key headers, the master key, and the errors it answers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from orgledger.domain.values import MASTER_KEY_USER_ID, Actor

from orgledger.adapters.http.errors import ProxyError

# Header names in LiteLLM's order of precedence; only Authorization needs a scheme prefix.
KEY_HEADERS = ("x-litellm-api-key", "authorization", "api-key", "x-api-key", "x-goog-api-key",
               "ocp-apim-subscription-key")
CHANGED_BY_HEADER = "litellm-changed-by"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: their user id, global role and the hash of the key they used."""

    user_id: str | None
    role: str
    api_key_hash: str
    models: tuple[str, ...] = ()
    organization_id: str | None = None
    # False for a virtual key whose user has no row: it acts as an internal_user.
    known_user: bool = True

    @property
    def is_proxy_admin(self) -> bool:
        return self.role == "proxy_admin"

    def actor(self, changed_by: str | None = None, request_id: str | None = None) -> Actor:
        # Only an admin may name someone else as the author of a change (LiteLLM-Changed-By).
        user_id = changed_by if changed_by and self.is_proxy_admin else self.user_id
        return Actor(user_id=user_id or MASTER_KEY_USER_ID, api_key_hash=self.api_key_hash,
                     request_id=request_id)


def extract_key(headers: Mapping[str, str]) -> str:
    for name in KEY_HEADERS:
        value = headers.get(name)
        if value is None:
            continue
        if name == "authorization":
            for prefix in ("Bearer ", "bearer ", "Basic "):
                if value.startswith(prefix):
                    return value[len(prefix):].strip()
            raise ProxyError(401, "Authentication Error, Malformed API Key passed in. "
                                  "Ensure Key has `Bearer ` prefix.")
        value = value.strip()
        return value.removeprefix("Bearer ").removeprefix("bearer ").strip()
    raise ProxyError(401, "Authentication Error, No api key passed in.")


VirtualKeyResolver = Callable[[str, str], Caller | None]


class Authenticator:
    """Turns request headers into a Caller, or raises LiteLLM's 401."""

    def __init__(self, master_key: str, resolve_virtual_key: VirtualKeyResolver | None = None) -> None:
        self.master_key = master_key.encode()
        self.resolve_virtual_key = resolve_virtual_key
        # The master key's caller is the same on every request: hash it once, not per request.
        self.master_caller = Caller(user_id=MASTER_KEY_USER_ID, role="proxy_admin",
                                    api_key_hash=key_hash(master_key))

    def authenticate(self, headers: Mapping[str, str]) -> Caller:
        key = extract_key(headers)
        if not key:
            raise ProxyError(401, "Authentication Error, No api key passed in.")
        if hmac.compare_digest(key.encode(), self.master_key):
            return self.master_caller
        hashed = key_hash(key)
        if not key.startswith("sk-"):
            raise ProxyError(401, "Authentication Error, LiteLLM Virtual Key expected. "
                                  f"Received={key}, expected to start with 'sk-'.")
        caller = self.resolve_virtual_key(key, hashed) if self.resolve_virtual_key else None
        if caller is None:
            raise ProxyError(
                401,
                "Authentication Error, Invalid proxy server token passed. "
                f"Received API Key = sk-...{key[-4:]}, Key Hash (Token) ={hashed}. "
                "Unable to find token in cache or `LiteLLM_VerificationTokenTable`",
            )
        return caller
