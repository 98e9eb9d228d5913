"""The OpenAPI document is a contract generated clients and fuzzers can trust (issue 14).

Fast checks of the document itself, then a seeded schemathesis run of every operation with the
checks `--checks all` runs on single requests: a request the document allows is taken, and every
answer has a documented status, content type and shape. `make contract` does the slow rest
(client generators, the stateful phase)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from orgledger.adapters.http.openapi.docs import build_document
from orgledger.adapters.http.app import build_app
from orgledger.adapters.http.openapi.operations import OPERATIONS
from orgledger.adapters.runtime import Runtime, build_runtime
from tests.conftest import ADMIN, backend_settings

CONFIG = Path(__file__).resolve().parents[2] / "contract" / "schemathesis.toml"
EXAMPLES = 10  # per operation: a few seconds in all

def _hooks() -> Any:
    """contract/st_hooks.py, whose check `make contract` runs too."""
    spec = importlib.util.spec_from_file_location("orgledger_st_hooks", CONFIG.with_name("st_hooks.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# schemathesis' positive_data_acceptance, with LiteLLM's 400s for a missing or duplicate thing let through.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          _hooks().positive_data_acceptance_as_litellm]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document(OPERATIONS, "0")


def subschemas(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in the document that may be a schema, with where it is."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from subschemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from subschemas(value, f"{where}/{i}")


def test_is_a_valid_openapi_document(document: dict[str, Any]) -> None:
    validate(document)


def test_no_property_can_only_be_null(document: dict[str, Any]) -> None:
    # A generator has nothing to decode into (openapi-generator: "not yet supported in getPydanticType").
    only_null = [f"{where}/{name}" for where, node in subschemas(document)
                 if isinstance(node.get("properties"), dict)
                 for name, prop in node["properties"].items()
                 if prop.get("type") in ("null", ["null"]) or prop.get("const", 0) is None]
    assert only_null == []


def test_every_default_is_valid_for_its_schema(document: dict[str, Any]) -> None:
    components = document["components"]
    wrong = []
    defaults = [(where, node) for where, node in subschemas(document["components"]["schemas"], "#/components/schemas")
                if "default" in node]
    defaults += [(where, node) for where, node in subschemas(document["paths"], "#/paths") if "default" in node
                 and "type" in node or "anyOf" in node and "default" in node]
    for where, node in defaults:
        schema = {k: v for k, v in node.items() if k != "default"}
        errors = list(OAS31Validator({**schema, "components": components}).iter_errors(node["default"]))
        if errors:
            wrong.append(f"{where}: {node['default']!r}: {errors[0].message}")
    assert len(defaults) > 20
    assert wrong == []


def test_no_nullable_object_defaults_to_anything_but_null(document: dict[str, Any]) -> None:
    # openapi-python-client takes only null as the default of a nullable object ("Value {} is not valid").
    wrong = [where for where, node in subschemas(document)
             if "default" in node and node["default"] is not None
             and {"type": "null"} in node.get("anyOf", ()) and any(s.get("type") == "object" for s in node["anyOf"])]
    assert wrong == []


def test_no_schema_leaves_the_python_generator_without_a_type(document: dict[str, Any]) -> None:
    # openapi-generator -g python decodes anyOf [{}, ...] through a model named "AnyOf" that does
    # not exist ("Failed to lookup model in createImportMapOfSet AnyOf"), and finds no value type
    # for an object with neither properties nor additionalProperties ("Codegen property is null").
    # {} alone takes any value, null included; additionalProperties: true keeps an object free-form.
    union_with_anything = [where for where, node in subschemas(document)
                           for key in ("anyOf", "oneOf") if isinstance(node.get(key), list) and {} in node[key]]
    untyped_object = [where for where, node in subschemas(document)
                      if node.get("type") == "object" or isinstance(node.get("type"), list) and "object" in node["type"]
                      if not {"properties", "additionalProperties", "patternProperties"} & node.keys()]
    assert union_with_anything == []
    assert untyped_object == []


def test_links_name_operations_and_parameters_that_exist(document: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for item in document["paths"].values() for op in item.values()}
    found = 0
    for item in document["paths"].values():
        for op in item.values():
            for name, link in op["responses"]["200"].get("links", {}).items():
                target = by_id[link["operationId"]]
                taken = {p["name"] for p in target.get("parameters", ())}
                assert set(link.get("parameters", {})) <= taken, name
                # An expression, not an object: openapi-generator's parser refuses object bodies.
                assert isinstance(link.get("requestBody", "$response.body"), str), name
                assert link.get("requestBody", "$response.body").startswith("$response.body"), name
                found += 1
    new_org = document["paths"]["/organization/new"]["post"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in new_org.values()} >= {
        "organization_member_add_organization_member_add_post", "info_organization_organization_info_get",
        "update_organization_organization_update_patch"}
    member_add = document["paths"]["/organization/member_add"]["post"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in member_add.values()} == {
        "organization_member_update_organization_member_update_patch",
        "organization_member_delete_organization_member_delete_delete"}
    assert "links" in document["paths"]["/user/new"]["post"]["responses"]["200"]
    assert found >= 9


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    with backend_settings("sqlite", tmp_path) as config:
        runtime = build_runtime(config)
        yield runtime
        runtime.close()


def test_requests_the_document_allows_are_taken_and_answered_as_documented(runtime: Runtime) -> None:
    app = build_app(runtime=runtime)
    app.state.runtime = runtime  # schemathesis calls the app without running its lifespan
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=SchemathesisConfig.from_path(CONFIG))
    failures: list[str] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            try:
                case.call_and_validate(headers=ADMIN, checks=CHECKS)
            except (Failure, FailureGroup) as e:
                failures.append(f"{operation.label}: {str(e)[:600]} body={case.body!r} query={case.query!r}")

        check()
        checked += 1
    assert failures == [], "\n".join(failures)
    assert checked >= 15
