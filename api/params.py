"""Query parameters a route does not take are a 400, not silently ignored: `GET /v1/products?barcode=…` used
to answer every product. So is a parameter given twice that takes one value (`?to=2026-01-31&to=2026-12-31`:
the framework kept one of them, unsaid), and `null` for a parameter that takes a date, a number or a boolean
(`?to=null` was read as no `to` at all). The table of what each operation takes is read from the app's own
OpenAPI document (the routes' declarations, dependencies included) once, at start-up."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.openapi.spec import OpenAPI, OpenAPIType, Schema

from domain.errors import param_error

_METHODS = ("get", "put", "post", "delete", "patch")


class Takes:
    """The query parameters of one operation: all of them, those that take a list (repeatable), those that
    take a value other than text (`null` is no such value), and the values of those that take one of a few."""

    __slots__ = ("choices", "lengths", "lists", "names", "repeats", "typed")

    def __init__(
        self,
        names: frozenset[str],
        lists: frozenset[str],
        typed: frozenset[str],
        choices: dict[str, tuple[str, ...]],
        lengths: dict[str, int] | None = None,
        repeats: dict[str, int] | None = None,
    ) -> None:
        self.names = names
        self.lists = lists
        self.typed = typed
        self.choices = choices
        self.lengths = lengths or {}  # the most characters a text parameter takes (maxLength)
        self.repeats = repeats or {}  # the most times a list parameter may be given (maxItems)


def _is_list(schema: Any) -> bool:
    if not isinstance(schema, Schema):
        return False
    alternatives = [*(schema.one_of or ()), *(schema.any_of or ())]
    return schema.type == OpenAPIType.ARRAY or any(_is_list(s) for s in alternatives)


def _is_typed(schema: Any) -> bool:
    """Not text: an integer, a number, a boolean, or a string of a format (a date, a moment)."""
    if not isinstance(schema, Schema):
        return False
    if schema.type in (OpenAPIType.INTEGER, OpenAPIType.NUMBER, OpenAPIType.BOOLEAN):
        return True
    if schema.type == OpenAPIType.STRING and schema.format is not None:
        return True
    return any(_is_typed(s) for s in [*(schema.one_of or ()), *(schema.any_of or ())])


def _choices(schema: Any) -> tuple[str, ...]:
    """The values a parameter takes when it takes one of a few (an enum, or a list of one)."""
    if not isinstance(schema, Schema):
        return ()
    if schema.enum:
        return tuple(str(v) for v in schema.enum)
    for inner in [schema.items, *(schema.one_of or ()), *(schema.any_of or ())]:
        found = _choices(inner)
        if found:
            return found
    return ()


def _bound(schema: Any, name: str) -> int | None:
    """A schema's `max_length` or `max_items`, on it or on one of its alternatives (`oneOf` with null)."""
    if not isinstance(schema, Schema):
        return None
    found = getattr(schema, name, None)
    if found is not None:
        return int(found)
    for inner in [*(schema.one_of or ()), *(schema.any_of or ())]:
        found = _bound(inner, name)
        if found is not None:
            return found
    return None


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
                frozenset(p.name for p in query),
                frozenset(p.name for p in query if _is_list(p.schema)),
                frozenset(p.name for p in query if _is_typed(p.schema)),
                {p.name: c for p in query if (c := _choices(p.schema))},
                {p.name: n for p in query if (n := _bound(p.schema, "max_length")) is not None},
                {p.name: n for p in query if (n := _bound(p.schema, "max_items")) is not None},
            )
    return table


def check_query(request: Request[Any, Any, Any]) -> None:
    """Refuse a query parameter the route does not declare, one given twice that takes one value, and `null`
    for one that takes a value other than text (routes outside the document pass)."""
    if not request.scope.get("query_string"):
        return
    takes = _takes(request)
    if takes is None:
        return
    template = request.scope.get("path_template", "")
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
        if name in takes.typed and given[name] == "null":
            raise param_error(name, "invalid", f"`{name}` is not null: leave it out for none.")


def _takes(request: Request[Any, Any, Any]) -> Takes | None:
    """What the request's operation takes (its route's path as the document writes it); None off the document."""
    table: dict[tuple[str, str], Takes] = request.app.state.query_params
    return table.get((request.method, request.scope.get("path_template", "")))


def choices_of(request: Request[Any, Any, Any], name: str) -> tuple[str, ...]:
    """The values the request's route takes for a query parameter of a few values (none if it takes any)."""
    takes = _takes(request)
    return takes.choices.get(name, ()) if takes is not None else ()


def install(app: Litestar) -> None:
    app.state.query_params = query_table(app.openapi_schema)
