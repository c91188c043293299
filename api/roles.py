"""The role × route table, generated from the app's own route declarations (printed in the README)."""

from __future__ import annotations

import re
import sys

from litestar import Litestar
from litestar.handlers.http_handlers import HTTPRouteHandler

from api.auth import declared_roles
from domain.keys.model import ROLES


def route_table(app: Litestar) -> list[tuple[str, str, frozenset[str] | None]]:
    """(method, path, roles) for every documented operation; roles None means public."""
    rows: list[tuple[str, str, frozenset[str] | None]] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            if handler.fn.__module__.startswith("litestar."):
                continue
            for method in sorted(handler.http_methods):
                rows.append((method, route.path, declared_roles(handler)))
    order = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}
    return sorted(rows, key=lambda r: (r[1], order.get(r[0], 9)))


def markdown(app: Litestar) -> str:
    head = "| method | path | " + " | ".join(ROLES) + " |"
    sep = "|---|---|" + "---|" * len(ROLES)
    lines = [head, sep]
    for method, path, roles in route_table(app):
        cells = ["✓" if roles is None or role in roles else "" for role in ROLES]
        pretty = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
        lines.append(f"| {method} | `{pretty}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from api.app import create_app
    from api.readme import update_section

    table = markdown(create_app())
    if len(sys.argv) > 2 and sys.argv[1] == "--update":
        update_section(sys.argv[2], "roles", table)
    else:
        sys.stdout.write(table)
