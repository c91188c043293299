"""Query parameters a route does not take are a 400, not silently ignored: `GET /v1/products?barcode=…` used
to answer every product. So is a parameter given twice that takes one value (`?to=2026-01-31&to=2026-12-31`:
the framework kept one of them, unsaid). The table of what each operation takes is read from the app's own
OpenAPI document (the routes' declarations, dependencies included) once, at start-up."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.openapi.spec import OpenAPI, OpenAPIType, Schema

from domain.errors import param_error

_METHODS = ("get", "put", "post", "delete", "patch")


class Takes:
    """The query parameters of one operation: all of them, and those that take a list (repeatable)."""

    __slots__ = ("lists", "names")

    def __init__(self, names: frozenset[str], lists: frozenset[str]) -> None:
        self.names = names
        self.lists = lists


def _is_list(schema: Any) -> bool:
    if not isinstance(schema, Schema):
        return False
    alternatives = [*(schema.one_of or ()), *(schema.any_of or ())]
    return schema.type == OpenAPIType.ARRAY or any(_is_list(s) for s in alternatives)


def query_table(schema: OpenAPI) -> dict[tuple[str, str], Takes]:
    """(method, path as the OpenAPI document writes it) → the query parameters the operation takes."""
    table: dict[tuple[str, str], Takes] = {}
    for path, item in (schema.paths or {}).items():
        for method in _METHODS:
            operation = getattr(item, method, None)
            if operation is None:
                continue
            query = [p for p in operation.parameters or [] if getattr(p, "param_in", None) == "query"]
            table[(method.upper(), path)] = Takes(
                frozenset(p.name for p in query), frozenset(p.name for p in query if _is_list(p.schema))
            )
    return table


def check_query(request: Request[Any, Any, Any]) -> None:
    """Refuse a query parameter the route does not declare, and one given twice that takes one value (routes
    outside the document pass)."""
    if not request.scope.get("query_string"):
        return
    template = request.scope.get("path_template", "")  # (the route's path as the document writes it)
    table: dict[tuple[str, str], Takes] = request.app.state.query_params
    takes = table.get((request.method, template))
    if takes is None:
        return
    given = request.query_params
    unknown = sorted(set(given) - takes.names)
    if unknown:
        names = ", ".join(sorted(takes.names)) or "none"
        raise param_error(
            unknown[0],
            "unknown_parameter",
            f"{request.method} {template} takes no parameter `{unknown[0]}` (it takes: {names}).",
        )
    for name in sorted(set(given) - takes.lists):
        count = len(given.getall(name))
        if count > 1:
            raise param_error(name, "repeated", f"`{name}` takes one value; it is given {count} times.")


def install(app: Litestar) -> None:
    app.state.query_params = query_table(app.openapi_schema)
