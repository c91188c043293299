"""The fuzzing net: schemathesis generates requests from the app's own OpenAPI document — valid ones and
invalid ones — for every operation, with the key of every role, sends them to the app as served (the fast
lane in front of Litestar) and checks every answer against the document with all of its checks: no 5xx, no
status the operation does not declare, the declared content type, headers and body schema, invalid data
refused, valid data not refused for a malformed request, a protected operation refusing a request without
its key, an unsupported method answered 405 with `Allow`, `OPTIONS` listing what the document lists — and,
after every answer, every database connection back in the pool and no write refused by a database constraint
that no rule of the app had caught first.

Deterministic (derandomized, no example database) and bounded (the budget below). A wide run, to look for
new failure classes, is the same test with a bigger budget (about 15 minutes for 40):

    MERCH_FUZZ_EXAMPLES=40 MERCH_FUZZ_NO_SHRINK=1 .venv/bin/python -m pytest tests/api/test_fuzz.py -s

The requests go to a database of their own, cloned from the harness's template and dropped afterwards:
what the fuzzing creates, changes or deletes never reaches another test.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import db
from api.app import asgi_app, create_app
from api.openapi import document
from api.roles import route_table
from api.settings import Settings
from domain.keys.model import ROLES
from tests.conftest import KEYS, UNLIMITED, Server, cloned

# The budget (make test: well under two minutes on two cores). admin may call every operation: its run has
# the coverage phase too (each parameter's and field's boundaries and flaws, a missing key, a method the path
# does not take) and FUZZ_EXAMPLES generated examples an operation, positive and negative. Another role gets
# ROLE_EXAMPLES an operation it may call (its answers differ: what it may see) and REFUSED_EXAMPLES one it may
# not (the same 403 every time). MERCH_FUZZ_EXAMPLES=N makes a wide run: N examples for every role, and the
# coverage phase for every role.
WIDE = "MERCH_FUZZ_EXAMPLES" in os.environ
FUZZ_EXAMPLES = int(os.environ.get("MERCH_FUZZ_EXAMPLES", "3"))
ROLE_EXAMPLES = FUZZ_EXAMPLES if WIDE else 2
REFUSED_EXAMPLES = FUZZ_EXAMPLES if WIDE else 1
# A wide run finds more classes in its time without shrinking each failure to its smallest case.
NO_SHRINK = os.environ.get("MERCH_FUZZ_NO_SHRINK") == "1"

# The statuses that refuse a request, for negative_data_rejection: its defaults, and
# - 412: a PUT with `If-Match` names a version of what does not exist, refused before its other flaws,
# - 413 / 414: a body or a URL too large for the server is refused before anything reads it (api/guard.py).
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "412", "413", "414", "415", "422", "428", "429", "5xx"]
# The answers a request valid by the document may get, for positive_data_acceptance: its defaults and 412 —
# `If-Match` is any string to the document, and a generated one names another version than the stored one.
ACCEPTANCES = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]

# A 400 or 422 to a request the document calls valid fails, unless every error it lists is one of these,
# which no schema can foresee (valid_data_accepted replaces schemathesis's positive_data_acceptance for this):
UNKNOWABLE = {
    # the request names what does not exist (a category, a group, a SKU, a parent…): the document cannot
    # know the data (as a 404 for an unknown path parameter, which the check accepts)
    "not_found",
    "not_in_attribute_set",
    "home_tree",  # (a product's home category must be in a merchandise tree)
    # an opaque cursor that no page of this list handed out
    "invalid_cursor",
    # rules between fields, parameters or items: a window ending before it starts, `root` with a `parent`,
    # the fields a stock movement needs by its type, an item listed twice, a code the catalog keeps
    "dates_reversed",
    "before_valid_from",
    "conflicting",
    "not_applicable",
    "required",
    "duplicate",
    "duplicate_item",
    "reserved_code",
    "product_mismatch",  # (a SKU's body naming another product than its path)
    "invalid_gtin",  # (a barcode's check digit)
    "idempotency-key-reused",  # (a key sent before with another body: the document cannot know what was sent)
    "invalid_total",  # (shares that must add up to 100, weights to 1)
    "too_many_decimals",  # (as many as the currency has: 2 for CNY, 0 for JPY)
    "future_day",  # (a day of sales that has not begun: the document cannot know today)
    # money is one shape everywhere; a price's amount may not be negative where a sales correction's may
    "negative_amount",
    # an uploaded file is text (CSV) or bytes (XLSX) to the document: its header, its encoding, its being a
    # workbook at all are read from it
    "missing_column",
    "missing_header",
    "duplicate_column",
    "invalid_encoding",
    "unclosed_quote",
    "row_too_large",
    "invalid_xlsx",
}
# JSON Schema's `integer` admits 2.0 (a number with a zero fraction); to msgspec, and so to this API, an
# integer is written without one: `2.0` is refused with exactly this message.
FLOAT_FOR_INT = "Expected `int`, got `float`."


# Rules between fields of one operation: (operation, end of the pointer, code).
BETWEEN_FIELDS = {
    # a movement's type decides its quantity's range: a pick moves at least one unit, an adjustment is signed
    # and not zero, a count is zero or more
    ("POST /v1/stock/movements", "/qty", "out_of_range"),
    ("POST /v1/stock/movements", "/qty", "zero_quantity"),
}


def _unknowable(error: dict[str, Any], operation: str) -> bool:
    code = str(error.get("code", ""))
    if code.startswith("unknown_") and code not in ("unknown_field", "unknown_parameter"):
        return True  # (a reference to what does not exist: unknown_category, unknown_sku…)
    pointer = str(error.get("pointer") or "")
    if any(op == operation and pointer.endswith(end) and code == c for op, end, c in BETWEEN_FIELDS):
        return True
    return code in UNKNOWABLE or (code == "wrong_type" and error.get("message") == FLOAT_FOR_INT)


@schemathesis.check
def valid_data_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's positive_data_acceptance, except for a refusal that names only what no schema can say."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code in (400, 422):
            problem = response.json()
            errors = problem.get("errors") or [{"code": problem.get("code")}]
            if all(_unknowable(e, case.operation.label) for e in errors):
                return None
        raise


@schemathesis.serializer("application/x-ndjson")
def _json_lines(ctx: Any, value: Any) -> bytes:
    """An import of one row: its JSON object as one line (the document describes a row)."""
    return json.dumps(value, ensure_ascii=False).encode() + b"\n"


@schemathesis.serializer("text/csv")
def _csv_text(ctx: Any, value: Any) -> bytes:
    """CSV is text to the document: as generated."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else json.dumps(value).encode()


DOCUMENT = document()


def _operations_by_role() -> dict[str, set[tuple[str, str]]]:
    """role → the (method, path) the role may call, from the routes' own declarations."""
    allowed: dict[str, set[tuple[str, str]]] = {role: set() for role in ROLES}
    for method, path, roles in route_table(create_app(Settings())):
        pretty = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
        for role in ROLES:
            if roles is None or role in roles:
                allowed[role].add((method, pretty))
    return allowed


ALLOWED = _operations_by_role()


def _config(role: str, examples: int, *, coverage: bool, explicit: bool) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "generation": {
                "mode": "all",  # positive and negative
                "max-examples": examples,
                "deterministic": True,
                "no-shrink": NO_SHRINK,
                "database": "none",
                # A NUL is refused anywhere (api/guard.py: text cannot hold it), whatever the schema says of a
                # string; tests/api/test_input_guard.py covers it. Without this every string could be a 400.
                "allow-x00": False,
            },
            "phases": {
                "examples": {"enabled": explicit},
                "coverage": {
                    "enabled": coverage,
                    # (make test: its negative cases only — each value just outside a bound; a wide run: both)
                    "generation": {"mode": "all" if WIDE else "negative"},
                    "unexpected-methods": ["trace", "options"],
                },
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {
                "negative_data_rejection": {"expected-statuses": REJECTIONS},
                # (its expected statuses still hold: valid_data_accepted runs it)
                "positive_data_acceptance": {"enabled": False, "expected-statuses": ACCEPTANCES},
            },
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large", "large_base_example"],
            "auth": {"openapi": {"apiKey": {"bearer": KEYS[role]}}},
        }
    )


class FuzzedApp:
    """The app as served, on the fuzzing's database. schemathesis runs an ASGI app in an event loop of its own
    (a thread) and starts and stops its lifespan around every test: the pool is opened there on the first
    request and kept for the whole run; the fuzz_database fixture's last request closes it, in that loop."""

    CLOSE = "/.fuzz/close-the-pool"

    def __init__(self) -> None:
        self.dsn: str | None = None
        self.pool: Any = None
        self.app: Any = None
        self.requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if self.app is None:
            assert self.dsn is not None, "the fuzz_database fixture names the database first"
            settings = Settings(MERCH_DB_POOL_MAX=4, **UNLIMITED)  # type: ignore[call-arg]  # (no 429s)
            self.pool = await db.create_pool(self.dsn, settings)
            self.app = asgi_app(settings, pool=self.pool)
        if scope["path"] == self.CLOSE:
            try:  # every connection back in the pool within a second, or one was never given back
                await asyncio.wait_for(self.pool.close(), 1)
                status = 204
            except TimeoutError:
                self.pool.terminate()
                status = 409
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        self.requests += 1
        await self.app(scope, receive, send)


FUZZED = FuzzedApp()


def _schema(role: str, *, allowed: bool) -> Any:
    ops = ALLOWED[role]

    def chosen(ctx: Any) -> bool:
        return ((ctx.operation.method.upper(), ctx.operation.path) in ops) is allowed

    examples = (FUZZ_EXAMPLES if role == "admin" else ROLE_EXAMPLES) if allowed else REFUSED_EXAMPLES
    coverage = allowed and (role == "admin" or WIDE)
    schema = schemathesis.openapi.from_dict(
        DOCUMENT, config=_config(role, examples, coverage=coverage, explicit=allowed and (role == "admin" or WIDE))
    )
    schema.app = FUZZED
    return schema.include(chosen)


SCHEMAS = {role: _schema(role, allowed=True) for role in ROLES} | {
    f"{role}-refused": _schema(role, allowed=False) for role in ROLES if role != "admin"
}


@pytest.fixture(scope="session")
async def fuzz_database(server: Server, template: str) -> AsyncIterator[str]:
    """A database of the fuzzing's own, cloned from the template (keys of every role included)."""
    async with cloned(server, template, "merch_fuzz") as name:
        FUZZED.dsn = server.dsn(name)
        yield name
        if FUZZED.pool is not None:
            with schemathesis_asgi.get_client(FUZZED) as client:
                closed = client.post(FuzzedApp.CLOSE)
            assert closed.status_code == 204, "a database connection was never given back to the pool"
            if WIDE:
                print(f"\nfuzzing: {FUZZED.requests} requests")


class Reached(logging.Handler):
    """What the problem handlers log of a database error no rule caught first: one request at a time races
    nothing, so a constraint that refused its write is a rule the app should have checked (a 422 naming the
    field, a 409 naming the references) — not the `constraint-violation` a race gets."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("integrity error reached the API"):
            self.seen.append(record.getMessage())


@pytest.fixture(scope="session")
def reached() -> Iterator[Reached]:
    handler = Reached()
    logging.getLogger("merchflow.api").addHandler(handler)
    yield handler
    logging.getLogger("merchflow.api").removeHandler(handler)


@schemathesis.pytest.parametrize(**SCHEMAS)
def test_every_answer_to_generated_requests_conforms_to_the_document(
    case: Any, fuzz_database: str, reached: Reached
) -> None:
    reached.seen.clear()
    case.call_and_validate()
    held = FUZZED.pool.get_size() - FUZZED.pool.get_idle_size()
    assert held == 0, f"{held} database connection(s) not given back after {case.method} {case.formatted_path}"
    assert not reached.seen, f"{case.method} {case.formatted_path}: {reached.seen[0]}"
