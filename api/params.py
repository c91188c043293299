"""Query parameters a route does not take are a 400, not silently ignored: `GET /v1/products?barcode=…` used
to answer every product. The table of what each operation takes is read from the app's own OpenAPI
document (the routes' declarations, dependencies included) once, at start-up."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.openapi.spec import OpenAPI

from domain.errors import param_error

_METHODS = ("get", "put", "post", "delete", "patch")


def query_table(schema: OpenAPI) -> dict[tuple[str, str], frozenset[str]]:
    """(method, path as the OpenAPI document writes it) → the query parameters the operation takes."""
    table: dict[tuple[str, str], frozenset[str]] = {}
    for path, item in (schema.paths or {}).items():
        for method in _METHODS:
            operation = getattr(item, method, None)
            if operation is None:
                continue
            names = {p.name for p in operation.parameters or [] if getattr(p, "param_in", None) == "query"}
            table[(method.upper(), path)] = frozenset(names)
    return table


def check_query(request: Request[Any, Any, Any]) -> None:
    """Refuse a query parameter the route does not declare (routes outside the document pass)."""
    if not request.scope.get("query_string"):
        return
    template = request.scope.get("path_template", "")  # (the route's path as the document writes it)
    table: dict[tuple[str, str], frozenset[str]] = request.app.state.query_params
    allowed = table.get((request.method, template))
    if allowed is None:
        return
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "none"
        raise param_error(
            unknown[0],
            "unknown_parameter",
            f"{request.method} {template} takes no parameter `{unknown[0]}` (it takes: {takes}).",
        )


def install(app: Litestar) -> None:
    app.state.query_params = query_table(app.openapi_schema)
