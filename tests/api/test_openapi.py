"""The committed OpenAPI document is the app's own, and every operation is fully described."""

from __future__ import annotations

import json
from pathlib import Path

from api.openapi import document, render

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_the_committed_openapi_document_matches_the_app() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(), "run `make openapi` and commit openapi/openapi.json"


def test_every_operation_has_an_id_a_summary_and_its_problem_responses() -> None:
    doc = document()
    ids = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            assert op.get("summary"), f"{method} {path} has no summary"
            assert op.get("description"), f"{method} {path} has no description"
            if path.startswith("/v1"):
                assert {"401", "403"} <= set(op["responses"]), f"{method} {path} lacks 401/403"
                problem = op["responses"]["403"]["content"]["application/problem+json"]["schema"]
                assert problem == {"$ref": "#/components/schemas/Problem"}
            if method in ("post", "put", "patch"):
                assert "requestBody" in op, f"{method} {path} has no typed body"
                assert "422" in op["responses"], f"{method} {path} does not document 422"
    assert len(ids) == len(set(ids)), "operation ids are unique"


def test_the_docs_page_loads_its_assets_from_the_app_itself() -> None:
    from api.app import openapi_config

    plugin = openapi_config().render_plugins[0]
    html = json.dumps(vars(plugin), default=str)
    assert "cdn" not in html.lower() and "http" not in html.lower()


def test_the_document_declares_the_answers_the_routes_give() -> None:
    """201 on a PUT that creates, 304 on a GET that takes If-None-Match, 414 everywhere (api/guard.py), no key
    asked of /healthz and /readyz, and request bodies as msgspec enforces them: a locale map's keys, and no
    unknown field."""
    doc = document()
    put = doc["paths"]["/v1/products/{code}"]["put"]["responses"]
    assert put["201"]["content"] == put["200"]["content"]
    assert set(put["201"]["headers"]) == {"Location", "ETag"}
    not_modified = doc["paths"]["/v1/products/{code}"]["get"]["responses"]["304"]
    assert "content" not in not_modified and set(not_modified["headers"]) == {"ETag"}
    assert all("414" in op["responses"] for item in doc["paths"].values() for op in item.values())
    assert doc["paths"]["/healthz"]["get"]["security"] == [] == doc["paths"]["/readyz"]["get"]["security"]
    assert doc["paths"]["/v1/products"]["get"].get("security") is None  # (the document's default: a key)
    term = doc["components"]["schemas"]["TermCreate"]
    assert term["additionalProperties"] is False
    assert term["properties"]["labels"]["propertyNames"]["pattern"] == "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
    assert term["properties"]["labels"]["additionalProperties"] == {"type": "string", "minLength": 1, "maxLength": 500}


def test_white_space_in_a_pattern_means_the_same_to_python_and_to_a_json_schema_reader() -> None:
    """msgspec checks a pattern with Python's re, a client (schemathesis) reads it as ECMA-262: their `\\s` differ
    (\\x1c-\\x1f and \\x85 to Python, \\ufeff to ECMA), and a URL with \\x1c was valid to one and not the other."""
    from domain.types import SPACE

    def patterns(value: object) -> list[str]:
        if isinstance(value, dict):
            own = [value["pattern"]] if isinstance(value.get("pattern"), str) else []
            return own + [p for v in value.values() for p in patterns(v)]
        return [p for v in value for p in patterns(v)] if isinstance(value, list) else []

    found = patterns(document())
    spaced = [p for p in found if "\\s" in p]
    assert len(spaced) >= 3  # (the e-mail, the image URL, a search query)
    for pattern in spaced:
        assert pattern.count("\\s") == pattern.count(SPACE) or "\\x1c-\\x1f\\x85" in pattern, pattern
