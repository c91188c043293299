"""The fast lane: the hottest routes answered before the framework's per-request machinery.

Litestar costs about 0.3 ms of CPU per request here (routing, middleware, dependency injection, signature
parsing, response building), two thirds of a warehouse scan's whole cost on two cores. A lane takes the
happy path of one route — the same authentication and roles, the same domain service, the same answer
bytes — with none of that. Anything off the happy path (no key, a wrong role, a body that does not decode
or validate, a refusal from the domain, an unusual header) is handed, unchanged and with its body replayed,
to the framework's own route for that request, which answers it exactly as it would have: the route stays
the one definition of the behaviour and of its OpenAPI document, and the lane is only a shortcut through
it. A refusal costs the lane's attempt (nothing was written: the service's transaction rolled back).

The lanes: a warehouse scan (POST /v1/stock/movements), a product read (GET /v1/products/{code}), a
shop's product page (GET /v1/storefront/products/{code}) and category page (GET /v1/storefront/products?…),
the calls warehouse tools, back offices and shop front ends make most. Only the category page's lane takes a
query string, parsed as the framework parses it; one it does not take exactly as it is (a parameter the
route does not declare or given twice, a value outside the route's declared limits) is the route's.
tests/api/test_fastlane.py compares every answer of a lane, header by header, with the framework's answer to
the same request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar
from litestar._asgi.utils import is_valid_host
from litestar._parsers import parse_query_string
from litestar.types import Receive, ReceiveMessage, Scope, Send

from api import guard
from api.auth import ROLES_KEY, principal_for
from api.db import DatabaseUnavailable
from api.limits import TooManyRequests
from api.params import Takes
from api.replicas import ON_REPLICA_KEY
from domain.errors import DomainError
from domain.keys.model import Principal
from domain.products import service as products
from domain.stock.model import MovementRequest
from domain.stock.service import MovementWriter
from domain.storefront import listing
from domain.storefront import service as storefront
from domain.storefront.model import SORTS
from domain.versioning import etag, matches_none, matches_tag

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Call:
    """What a lane sees of a request: `param` is the route's path parameter, if it has one."""

    scope: Scope
    body: bytes
    principal: Principal
    state: Any
    param: str
    on_replica: bool  # the route declares replica reads (api/replicas.py)
    query: tuple[tuple[str, str], ...] = ()  # the query string's parameters (a lane that takes one)

    def acquire(self) -> Any:
        """The request's connection, where its route reads."""
        return self.state.reads.acquire(self.scope) if self.on_replica else self.state.pool.acquire()

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None


Answer = tuple[int, Headers, bytes]
Handler = Callable[[Call], Awaitable[Answer | None]]


def _json(status: int, body: bytes, extra: Headers = ()) -> Answer:  # type: ignore[assignment]
    return status, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra], body


async def post_movements(call: Call) -> Answer | None:
    """POST /v1/stock/movements: decode, apply with the requests arriving alongside, answer 201."""
    if guard.body_flaw(call.body) is not None:
        return None  # the route's answer: a 400 naming the flaw
    try:
        body = msgspec.json.decode(call.body, type=MovementRequest)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    writer: MovementWriter = call.state.movements
    try:
        result = await writer.post(call.principal, body, call.header(b"idempotency-key"))
    except DomainError:
        return None
    headers = [(b"idempotency-replayed", b"true")] if result.replayed else []
    await call.state.reads.stamp(headers)  # read your writes (api/replicas.py)
    return _json(201, msgspec.json.encode(result), headers)


async def get_product(call: Call) -> Answer | None:
    """GET /v1/products/{code}: the product as the caller may see it, with its ETag; 304 for a current copy."""
    async with call.acquire() as conn:
        try:
            product = await products.get_product(conn, call.param, call.principal)
        except DomainError:
            return None
    headers = [(b"etag", etag(product.version).encode())]
    if matches_none(call.header(b"if-none-match"), product.version):
        return 304, headers, b""
    return _json(200, msgspec.json.encode(product), headers)


async def get_storefront_product(call: Call) -> Answer | None:
    """GET /v1/storefront/products/{code}: the stored page in the negotiated locale, as its bytes; 304 for a
    current copy. (`?locale=` has a query string: the route answers it.)"""
    async with call.acquire() as conn:
        locales, _ = await storefront.config(conn)
        locale = storefront.negotiate(locales, None, call.header(b"accept-language"))
        try:
            page = await storefront.product_page(conn, call.param, locale)
        except DomainError:
            return None
    headers = [
        (name.lower().encode(), value.encode())
        for name, value in storefront.cache_headers(page.etag, page.max_age, locale)
    ]
    if matches_tag(call.header(b"if-none-match"), page.etag):
        return 304, headers, b""
    return _json(200, page.body, headers)


_LIST_ROUTE = ("GET", "/v1/storefront/products")


def _list_query(query: tuple[tuple[str, str], ...], takes: Takes) -> dict[str, Any] | None:
    """The category page's parameters when the lane takes them as they are, else None (the route judges). The
    route's declared limits — each text's length, how often `filter` may be given — are read from what the
    route's OpenAPI operation says it takes (api/params.py), not kept here a second time."""
    given: dict[str, Any] = {"filter": []}
    for name, value in query:
        if name == "filter":
            given["filter"].append(value)
            continue
        if name in given or not value:
            return None  # given twice, or empty: the route's 400 (or its reading of it)
        if name in takes.lengths:
            if len(value) > takes.lengths[name]:
                return None
            given[name] = value
        elif name == "sort":
            if value not in SORTS:
                return None
            given[name] = value
        elif name == "limit":
            if not (value.isascii() and value.isdigit() and value[0] != "0" and len(value) <= 3 and int(value) <= 100):
                return None
            given[name] = int(value)
        elif name == "in_stock":
            if value not in ("true", "false"):
                return None
            given[name] = value == "true"
        else:
            return None  # a parameter the route does not take: its 400
    if "category" not in given or len(given["filter"]) > takes.repeats.get("filter", 0):
        return None
    return given


async def list_storefront_products(call: Call) -> Answer | None:
    """GET /v1/storefront/products?category=…: a category page's cards, as the route makes them, with their
    ETag; 304 for a current copy."""
    given = _list_query(call.query, call.state.query_params[_LIST_ROUTE])
    if given is None:
        return None
    async with call.acquire() as conn:
        locales, _ = await storefront.config(conn)
        locale = storefront.negotiate(locales, given.get("locale"), call.header(b"accept-language"))
        query = listing.PageQuery(
            given["category"],
            tuple(given["filter"]),
            given.get("price"),
            given.get("in_stock"),
            given.get("role"),
            given.get("series"),
        )
        try:
            page = await listing.category_page(
                conn,
                query,
                sort=given.get("sort", "position"),
                limit=given.get("limit", 50),
                cursor=given.get("cursor"),
                locale=locale,
            )
        except DomainError:
            return None
    body = msgspec.json.encode(page)
    tag = storefront.etag_of(body)
    headers = [
        (name.lower().encode(), value.encode())
        for name, value in storefront.cache_headers(tag, storefront.LIST_MAX_AGE, locale)
    ]
    if matches_tag(call.header(b"if-none-match"), tag):
        return 304, headers, b""
    return _json(200, body, headers)


@dataclass(frozen=True, slots=True)
class Lane:
    """A shortcut through one route: its method, its path as the framework declares it (a fixed path, or a
    prefix and one path parameter at the end), and the handler of its happy path."""

    method: str
    route: str
    handler: Handler
    body: bool  # whether requests carry a JSON body
    query: bool = False  # whether the lane takes a query string (else a request with one is the route's)

    @property
    def prefix(self) -> str | None:
        return self.route[: self.route.index("{")] if "{" in self.route else None


LANES = (
    Lane("POST", "/v1/stock/movements", post_movements, body=True),
    Lane("GET", "/v1/products/{code:str}", get_product, body=False),
    Lane("GET", "/v1/storefront/products/{code:str}", get_storefront_product, body=False),
    Lane("GET", "/v1/storefront/products", list_storefront_products, body=False, query=True),
)


class FastLane:
    """An ASGI app: the lanes first, the Litestar app for everything else (and for what a lane hands back)."""

    def __init__(self, app: Litestar, max_body: int) -> None:
        self.app = app
        self.max_body = max_body
        self.fixed = {(lane.method, lane.route): lane for lane in LANES if lane.prefix is None}
        self.prefixed = [(lane, lane.prefix) for lane in LANES if lane.prefix is not None]
        self.roles = {lane: _declared(app, lane.method, lane.route) for lane in LANES}
        self.on_replica = {lane: bool(_handler(app, lane.method, lane.route).opt.get(ON_REPLICA_KEY)) for lane in LANES}
        self.templates = {lane: _template(app, lane.route) for lane in LANES}
        self.served = 0  # requests a lane answered itself

    def _match(self, scope: Any) -> tuple[Lane, str] | None:
        """The lane of a request and its path parameter; None for any request a lane does not take as is."""
        if scope["type"] != "http" or scope.get("root_path"):
            return None
        method, path = scope["method"], scope["path"]
        lane = self.fixed.get((method, path))
        if lane is not None:
            return (lane, "") if lane.query or not scope.get("query_string") else None
        if scope.get("query_string"):
            return None
        for lane, prefix in self.prefixed:
            if lane.method == method and path.startswith(prefix):
                param = path[len(prefix) :]
                if param and "/" not in param:
                    return lane, param
        return None

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        matched = self._match(scope)
        if matched is None or not _plain(scope, matched[0].body, self.max_body):
            await self.app(scope, receive, send)
            return
        lane, param = matched
        scope["path_template"] = self.templates[lane]  # (for the edge's metrics and access line)
        body = await _read(receive) if lane.body else b""
        # (a write that fails unexpectedly raises through: not run a second time by the route, it is logged and
        # answered a 500 problem by the edge's net, api/edge.py)
        answer = await self._try(scope, body, lane, param)
        if answer is None:
            await self.app(scope, _replay(body, receive) if lane.body else receive, send)
            return
        status, headers, payload = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload, "more_body": False})
        self.served += 1

    async def _try(self, scope: Any, body: bytes, lane: Lane, param: str) -> Answer | None:
        state = self.app.state
        try:
            principal = await principal_for(scope, state)
            if principal is None:
                return None
            scope["user"] = principal  # (as the framework's auth leaves it: the edge logs the key's name)
            state.limiter.take(scope, principal)
            if not principal.has_any(self.roles[lane]):
                return None
            query = tuple(parse_query_string(scope["query_string"])) if lane.query else ()
            call = Call(
                scope=scope,
                body=body,
                principal=principal,
                state=state,
                param=param,
                on_replica=self.on_replica[lane],
                query=query,
            )
            return await lane.handler(call)
        except (DatabaseUnavailable, TooManyRequests):
            return None  # the route answers: a 503 or 429 problem
        except Exception:
            if lane.body:
                raise
            return None  # a read: the route runs it again and answers its problem (a statement timeout: 503)


def _route(app: Litestar, path: str) -> Any:
    for route in app.routes:
        if route.path == path:
            return route
    raise LookupError(f"no route {path} for a fast lane")


def _handler(app: Litestar, method: str, path: str) -> Any:
    for handler in getattr(_route(app, path), "route_handlers", []):
        if method in handler.http_methods:
            return handler
    raise LookupError(f"no route {method} {path} for a fast lane")


def _declared(app: Litestar, method: str, path: str) -> frozenset[str]:
    """The roles the framework's route for this lane declares (a lane never allows more)."""
    roles: frozenset[str] = _handler(app, method, path).opt[ROLES_KEY]
    return roles


def _template(app: Litestar, path: str) -> str:
    """The route's path as the metrics name it (its parameters without their types)."""
    return str(_route(app, path).path_format)


def _plain(scope: Scope, body: bool, max_body: int) -> bool:
    """Headers the lane takes as they are (else the framework answers): a valid Host; for a lane with a body,
    one declared JSON with a length within the limit; for one without, no body at all."""
    length = content_type = host = None
    for key, value in scope["headers"]:
        if key == b"content-length":
            length = value
        elif key == b"content-type":
            content_type = value
        elif key == b"host":
            host = value
        elif key == b"origin":
            return False  # a browser's request: the framework answers it with its CORS headers
    if host is not None and not is_valid_host(host):
        return False
    if not body:
        return length is None or length == b"0"
    return (
        content_type is not None
        and content_type.split(b";")[0].strip().lower() == b"application/json"
        and length is not None
        and length.isdigit()
        and int(length) <= max_body
    )


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body read already, then whatever comes next (a disconnect)."""
    sent = False

    async def replay() -> ReceiveMessage:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
