"""The OpenAPI 3.1 document, built from a table of operations and the pydantic models they name.

Paths, operationIds and schema names follow LiteLLM's own document, so generated clients and
people reading both see the same names. Request and response schemas come from the models
(`adapters/http/org_requests.py`, `adapters/http/openapi/responses.py`); the three error bodies are written out here,
next to nothing else, because `adapters/http/errors.py` produces them by hand too.

Adding an endpoint to the document is one `Operation(...)` in a list that `adapters/http/openapi/operations.py`
collects (a test fails while a served route has no operation).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

SCHEMA_REF = "#/components/schemas/{model}"

# The three error bodies clients see (adapters/http/errors.py writes them).
PROXY = "ProxyErrorResponse"
DETAIL = "HTTPExceptionResponse"
VALIDATION = "HTTPValidationError"

ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    PROXY: {
        "title": PROXY,
        "description": "LiteLLM's ProxyException body (authentication errors, member_add errors). "
                       "The status code is int(error.code).",
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string", "examples": ["auth_error"]},
                "param": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "code": {"type": "string", "examples": ["401"]},
            },
        }},
    },
    DETAIL: {
        "title": DETAIL,
        "description": 'An HTTPException raised by a handler: {"detail": {"error": "..."}}.',
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"anyOf": [
            {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            {"type": "string"},
        ]}},
    },
    VALIDATION: {
        "title": VALIDATION,
        "description": "FastAPI's request validation error: one entry per problem, located in body or query.",
        "type": "object",
        "properties": {"detail": {
            "type": "array", "title": "Detail", "items": {"$ref": SCHEMA_REF.format(model="ValidationError")},
        }},
    },
    "ValidationError": {
        "title": "ValidationError",
        "type": "object",
        "required": ["loc", "msg", "type"],
        "properties": {
            "loc": {"type": "array", "title": "Location",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string", "title": "Message"},
            "type": {"type": "string", "title": "Error Type"},
            "input": {"title": "Input"},
            # Free-form, as FastAPI's own; said outright, since openapi-generator -g python has no
            # value type for an object with neither properties nor additionalProperties.
            "ctx": {"type": "object", "title": "Context", "additionalProperties": True},
        },
    },
}

ERROR_DESCRIPTIONS = {
    400: "Bad request: the command breaks a rule (the message says which).",
    401: "Missing, malformed or unknown key, or the caller may not do this.",
    404: "Not found.",
    413: "Request body over 1 MiB.",
    422: "Validation Error",
    503: "Not ready: the store cannot be reached.",
}

SECURITY_SCHEMES = {
    "APIKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Authorization: Bearer <key>`: the master key (LITELLM_MASTER_KEY) or a virtual "
                       "key sk-.... The same key is also accepted, without `Bearer `, in "
                       "x-litellm-api-key (which takes precedence), API-Key, x-api-key, x-goog-api-key "
                       "or Ocp-Apim-Subscription-Key.",
    },
    "LiteLLMKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "x-litellm-api-key",
        "description": "The key itself, no `Bearer ` prefix.",
    },
}
# Either scheme authenticates a request (a list of requirement objects means "any of").
SECURED = [{"APIKeyHeader": []}, {"LiteLLMKeyHeader": []}]
# "key": a key is required; "none": open; "optional": open unless configured otherwise ({} = no key).
SECURITY = {"key": SECURED, "none": [], "optional": [{}, *SECURED]}

Errors = Mapping[int, str | tuple[str, ...]]


@dataclass(frozen=True)
class Operation:
    """One documented HTTP operation. `response` is a type: a model, `list[Model]`, `Model | None`, `str`."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    response: Any
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    # Status -> error body schema name(s); 401 (unless auth="none"), 413 and 422 (with a body or
    # query) are implied.
    errors: Errors = field(default_factory=dict)
    auth: Literal["key", "none", "optional"] = "key"
    media_type: str = "application/json"
    deprecated: bool = False
    description: str | None = None
    # Models that hand-written parts of the other schemas refer to by name.
    refers_to: tuple[type[BaseModel], ...] = ()
    # OpenAPI links of the 200 answer: name -> {"operationId", "parameters" | "requestBody"}, so
    # clients and stateful fuzzers know which operations take the ids this one returns.
    links: Mapping[str, dict[str, Any]] = field(default_factory=dict)


def _error_content(names: str | tuple[str, ...]) -> dict[str, Any]:
    refs = [{"$ref": SCHEMA_REF.format(model=n)} for n in ((names,) if isinstance(names, str) else names)]
    return {"application/json": {"schema": refs[0] if len(refs) == 1 else {"anyOf": refs}}}


def _errors(op: Operation) -> dict[int, str | tuple[str, ...]]:
    implied: dict[int, str | tuple[str, ...]] = {}
    if op.auth != "none":
        implied[401] = PROXY
    if op.body is not None:
        implied[413] = DETAIL
    if op.body is not None or op.query is not None:
        implied[422] = VALIDATION
    return {**implied, **op.errors}


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


def _path_parameters(path: str) -> list[dict[str, Any]]:
    # Starlette's `{name}` (or `{name:convertor}`) templates; every segment is taken as a string.
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)(?::\w+)?}", path)]


def _operation(op: Operation, schemas: Mapping[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    key = op.operation_id
    doc: dict[str, Any] = {"tags": [op.tag], "summary": op.summary, "operationId": key}
    if op.description:
        doc["description"] = op.description
    parameters = _path_parameters(op.path)
    if op.query is not None:
        parameters += _query_parameters(schemas[(key, "query")])
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = {"required": True,
                              "content": {"application/json": {"schema": schemas[(key, "body")]}}}
    responses: dict[str, Any] = {"200": {
        "description": "Successful Response",
        "content": {op.media_type: {"schema": schemas[(key, "response")]}},
    }}
    if op.links:
        responses["200"]["links"] = dict(op.links)
    for status, names in sorted(_errors(op).items()):
        responses[str(status)] = {"description": ERROR_DESCRIPTIONS.get(status, "Error"),
                                  "content": _error_content(names)}
    doc["responses"] = responses
    doc["security"] = SECURITY[op.auth]
    if op.deprecated:
        doc["deprecated"] = True
    return doc


def build_document(operations: Iterable[Operation], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `operations`, with every schema they name as a component."""
    ops = list(operations)
    seen = [(op.path, op.method.lower()) for op in ops]
    duplicates = {s for s in seen if seen.count(s) > 1}
    if duplicates:
        raise ValueError(f"operations documented twice: {sorted(duplicates)}")
    # One mode for every schema, so a model used in both directions keeps one name (no "-Input"/"-Output").
    inputs = [((op.operation_id, "response"), "validation", TypeAdapter(op.response)) for op in ops]
    inputs += [((op.operation_id, part), "validation", TypeAdapter(model)) for op in ops
               for part, model in (("body", op.body), ("query", op.query)) if model is not None]
    inputs += [((op.operation_id, model.__name__), "validation", TypeAdapter(model))
               for op in ops for model in op.refers_to]
    keyed, definitions = TypeAdapter.json_schemas(inputs, ref_template=SCHEMA_REF)
    schemas = {key: schema for (key, _mode), schema in keyed.items()}
    # A query model is spread into parameters, never referenced as a schema of its own.
    query_refs = {SCHEMA_REF.format(model=op.query.__name__) for op in ops if op.query is not None}
    resolved = dict(schemas)
    for (key, part), schema in schemas.items():
        if part == "query" and schema.get("$ref") in query_refs:
            resolved[(key, part)] = definitions["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    components = {name: s for name, s in definitions.get("$defs", {}).items()
                  if SCHEMA_REF.format(model=name) not in query_refs}
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        path = re.sub(r"{(\w+):\w+}", r"{\1}", op.path)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, resolved)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "orgledger - LiteLLM Organization Management API",
            "description": "An event-sourced service answering LiteLLM proxy's organization endpoints. "
                           "Authorize with the master key (`Bearer sk-...`) to try them here.",
            "version": version,
        },
        "paths": paths,
        "components": {"schemas": {**components, **ERROR_SCHEMAS}, "securitySchemes": SECURITY_SCHEMES},
    }
