"""The bounds of what a caller may send, declared once and carried by pydantic into validation
(a FastAPI-style 422) and into the OpenAPI document (maxLength, maxItems, pattern).

An event is stored for good and every read model must hold it, on SQLite and PostgreSQL alike:
PostgreSQL's B-tree indexes refuse a key over 2,704 bytes, and a projector that cannot apply an
event stops there. 256 characters (at most 1 KiB in UTF-8) fits every index, and is more than
any id LiteLLM makes (uuid4s) and any email (RFC 5321 allows 254 characters) needs."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from pydantic import AfterValidator, Field, StringConstraints

# Ids (organization, user, budget, key) and emails.
MAX_ID_LENGTH = 256
# Aliases, model names, durations and every other free string.
MAX_TEXT_LENGTH = 256
# models, organization_ids, organizations, keys, object_permission's lists.
MAX_LIST_ITEMS = 1000
# members in one member_add: LiteLLM's callers add a handful; one call stays under a second.
MAX_MEMBERS_PER_CALL = 1000
# metadata, model_max_budget and the other free-form objects, measured as JSON.
MAX_OBJECT_BYTES = 64 * 1024
# Pages of GET /audit: with page_size up to 1,000 every offset fits any store's integers.
MAX_AUDIT_PAGE = 1_000_000_000

# C0 controls (newline and tab included), DEL and C1 controls: in an id or email they could forge
# log lines or terminal output. A character class, so that the pattern is valid ECMA-262 too.
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f"
WITHOUT_CONTROL_CHARACTERS = rf"^[^{CONTROL_CHARACTERS}]*$"

# NUL is refused in every string of a request, free text included (PostgreSQL text cannot hold it;
# adapters/http/endpoint.py checks before validation). The document says so with this pattern, so that
# clients and fuzzers do not send what is refused; validation does not run it a second time.
WITHOUT_NUL = r"^[^\x00]*$"

Id = Annotated[str, StringConstraints(max_length=MAX_ID_LENGTH, pattern=WITHOUT_CONTROL_CHARACTERS)]
Email = Id
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH), Field(json_schema_extra={"pattern": WITHOUT_NUL})]
# An object's keys: bounded as Text. A pattern on a key type would become patternProperties,
# which lets keys that do not match through, so the NUL rule is said in propertyNames instead.
Key = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH)]
KEY_NAMES = {"propertyNames": {"maxLength": MAX_TEXT_LENGTH, "pattern": WITHOUT_NUL}}
# Budgets: a negative one is LiteLLM's 400 (domain/budget.py says so), not a 422, so the bound
# is the document's only.
Money = Annotated[float, Field(json_schema_extra={"minimum": 0})]
# A key's lifetime (domain/key.py parses it): a count and a unit. The document bounds the count
# per unit so that every duration it allows ends before the year 9999 (a later end is a 400).
DURATION_PATTERN = r"^\s*([0-9]{1,9}\s*[sm]|[0-9]{1,6}\s*[hd]|[0-9]{1,5}\s*w|[0-9]{1,4}\s*mo)\s*$"
Duration = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH),
                     Field(json_schema_extra={"pattern": DURATION_PATTERN})]
IdList = Annotated[list[Id], Field(max_length=MAX_LIST_ITEMS)]
TextList = Annotated[list[Text], Field(max_length=MAX_LIST_ITEMS)]


def _bounded_object(value: dict[str, Any]) -> dict[str, Any]:
    if len(msgspec.json.encode(value)) > MAX_OBJECT_BYTES:
        raise ValueError(f"the object is larger than {MAX_OBJECT_BYTES} bytes as JSON")
    return value


OBJECT_BOUND = f"At most {MAX_OBJECT_BYTES} bytes as JSON. No string in it, key or value, may hold a NUL character."

# A free-form JSON object, bounded by its encoded size.
JsonObject = Annotated[dict[str, Any], AfterValidator(_bounded_object),
                       Field(json_schema_extra={"description": OBJECT_BOUND, "propertyNames": {"pattern": WITHOUT_NUL}})]
