"""build_document for operations another module would add: path parameters, plain dict answers, checks."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

from orgledger.adapters.http.openapi.document import DETAIL, Operation, build_document


class AuditQuery(BaseModel):
    object_id: str | None = None
    page: int = 1


class NewThingRequest(BaseModel):
    name: str


def test_another_modules_operations_make_a_valid_document() -> None:
    # A module documents a query endpoint, one with a path parameter, and a command.
    document = build_document([
        Operation("GET", "/audit", "audit_list_audit_get", "Audit Log", "audit",
                  response=dict[str, Any], query=AuditQuery),
        Operation("GET", "/audit/{entry_id:str}", "audit_entry_audit__entry_id__get", "Audit Entry", "audit",
                  response=dict[str, Any], errors={404: DETAIL}),
        Operation("POST", "/things/new", "new_thing_things_new_post", "New Thing", "things",
                  response=list[NewThingRequest], body=NewThingRequest),
    ], version="1.2.3")
    validate(document)
    assert document["info"]["version"] == "1.2.3"
    entry = document["paths"]["/audit/{entry_id}"]["get"]
    assert entry["parameters"] == [{"name": "entry_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert set(entry["responses"]) == {"200", "401", "404"}
    listing = document["paths"]["/audit"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in listing["parameters"]] == [
        ("object_id", "query", False), ("page", "query", False)]
    # A query model is spread into parameters, never left behind as a component.
    assert "AuditQuery" not in document["components"]["schemas"]
    assert "NewThingRequest" in document["components"]["schemas"]
    assert set(document["paths"]["/things/new"]["post"]["responses"]) == {"200", "401", "413", "422"}


def test_the_same_operation_twice_is_refused() -> None:
    op = Operation("GET", "/audit", "audit_list_audit_get", "Audit Log", "audit", response=dict[str, Any])
    with pytest.raises(ValueError, match="documented twice"):
        build_document([op, op], version="0")
