"""What the OpenAPI document says beyond what Litestar writes by itself: the bodies as msgspec itself
describes them, the headers of 201 and 304 answers, and the operations that take no key.

Litestar's own schemas of msgspec Structs lose what msgspec enforces: the `Meta` constraints of dictionary
keys and values (a locale map's keys), of the members of a union (every PATCH field), and that a request body
refuses unknown fields. A client (or a fuzzer) reading the document then sends what the app refuses with a
422; msgspec's JSON Schema of the same types is what the app enforces, so it replaces Litestar's.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import msgspec
from litestar import Litestar, Response
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    RequestBody,
    Schema,
)

from api.auth import declared_roles

_REF = "#/components/schemas/{name}"


def complete(app: Litestar) -> None:
    """Finish the app's document (built once; the served JSON and `make openapi` are made from it)."""
    doc = app.openapi_schema
    describe_structs(doc, _struct_types(app))
    for method, handler, operation in operations(app, doc):
        if declared_roles(handler) is None:
            operation.security = []  # (the document's default asks every operation for a key)
        responses = operation.responses or {}
        name_rules = handler.opt.get("upsert")
        if method == "PUT" and name_rules is not None and "200" in responses:
            _name_format(operation, name_rules)
            replaced = responses["200"]
            assert isinstance(replaced, OpenAPIResponse)
            responses["201"] = OpenAPIResponse(
                description="Created: the resource did not exist. `Location` names it.",
                content=replaced.content,
                headers={"Location": _header("Where the new resource is."), "ETag": _header("Its version.")},
            )
        answered = handler.opt.get("file_answer")
        if answered and isinstance(responses.get("200"), OpenAPIResponse):
            # a file (JSON Lines, CSV: text; XLSX: binary), streamed, in one of these media types, not one JSON
            # document
            text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
            binary = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
            responses["200"].content = {  # type: ignore[union-attr]
                media: (text if media.startswith(("text/", "application/x-ndjson")) else binary) for media in answered
            }
        uploaded = handler.opt.get("file_upload")
        if uploaded and isinstance(operation.request_body, RequestBody):
            # JSON Lines of the documented row (each line one), CSV text, or a binary file (XLSX): the row's JSON
            # form is the schema of JSON Lines
            row = operation.request_body.content.get("application/json")
            text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
            binary = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
            kinds = {"text": text, "binary": binary}
            operation.request_body.content = {
                media: (row if kind == "rows" and row is not None else kinds[kind]) for media, kind in uploaded.items()
            }
        not_modified = responses.get("304")
        if isinstance(not_modified, OpenAPIResponse):
            not_modified.headers = {"ETag": _header("The version the client has.")}


def _name_format(operation: Operation, rules: dict[str, Any]) -> None:
    """The last path parameter of a PUT that creates names the new resource: its format is the code's (a name
    that does not fit is a 422 on `/code`, not a resource that does not exist)."""
    named = [p for p in operation.parameters or [] if isinstance(p, Parameter) and p.param_in == "path"]
    if named:
        named[-1].schema = Schema(
            type=OpenAPIType.STRING,
            pattern=rules["pattern"],
            min_length=rules.get("minLength"),
            max_length=rules.get("maxLength"),
            description=rules.get("description"),
        )


def _header(description: str) -> OpenAPIHeader:
    return OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), required=True, description=description)


def operations(app: Litestar, doc: OpenAPI) -> typing.Iterator[tuple[str, HTTPRouteHandler, Operation]]:
    """(method, handler, its operation in `doc`) of every documented operation."""
    for route in app.routes:
        item = (doc.paths or {}).get(re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
        if item is None:
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if isinstance(operation, Operation):
                    yield method, handler, operation


def _struct_types(app: Litestar) -> list[Any]:
    """The types the documented operations take as a body or answer (msgspec reaches the nested ones)."""
    found: list[Any] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            signature = handler.parsed_fn_signature
            candidates = [signature.return_type.annotation]
            # the body: the handler's `data`, or a dependency's (POST /v1/sales documents its JSON form so)
            for parsed in [signature, *(p.parsed_fn_signature for p in handler.resolve_dependencies().values())]:
                if "data" in parsed.parameters:
                    candidates.append(parsed.parameters["data"].annotation)
            candidates += [spec.data_container for spec in (handler.responses or {}).values()]
            for candidate in candidates:
                body = _unwrap(candidate)
                if _is_struct(body) and body not in found:
                    found.append(body)
    return found


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if isinstance(origin, type) and issubclass(origin, Response):
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _is_struct(annotation: Any) -> bool:
    target = typing.get_origin(annotation) or annotation  # (a generic Struct: Report[MarginRow])
    return isinstance(target, type) and issubclass(target, msgspec.Struct)


def describe_structs(doc: OpenAPI, types: list[Any]) -> None:
    """Replace the component schema of every Struct with msgspec's JSON Schema of it. Litestar names a generic
    `Report_domain.reports.model.MarginRow_` where msgspec says `Report_MarginRow_`: Litestar's names stay (the
    operations refer to them)."""
    if doc.components is None or doc.components.schemas is None:
        return
    schemas: dict[str, Any] = doc.components.schemas
    _, components = msgspec.json.schema_components(types, ref_template=_REF)
    renamed = {_short(name): name for name in schemas if _short(name) != name}
    for name, schema in components.items():
        schemas[renamed.get(name, name)] = _with_refs(schema, renamed)


# A decimal string as the app reads one (msgspec writes `"format": "decimal"`, which a client cannot check).
DECIMAL = r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$"


def _short(name: str) -> str:
    """`Report_domain.reports.model.MarginRow_` → `Report_MarginRow_`."""
    return re.sub(r"(?:(?<=_)|^)(?:[a-z][a-z0-9_]*\.)+(?=[A-Z])", "", name)


def _with_refs(value: Any, renamed: dict[str, str]) -> Any:
    """The schema with its references renamed, and its decimal strings given their pattern."""
    if isinstance(value, dict):
        out = {k: _with_refs(v, renamed) for k, v in value.items()}
        if out.get("format") == "decimal" and out.get("type") == "string":
            out.setdefault("pattern", DECIMAL)
        ref = out.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            out["$ref"] = _REF.format(name=renamed.get(name, name))
        return out
    if isinstance(value, list):
        return [_with_refs(v, renamed) for v in value]
    return value
