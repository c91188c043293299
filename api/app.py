"""The Litestar application: routes, dependencies, problems, auth, OpenAPI and the pool's lifespan."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from api import __version__, collector, db, document, http, metrics, params
from api.auth import PUBLIC, KeyCache, auth_middleware, declared_roles
from api.edge import Edge
from api.fastlane import FastLane
from api.http import DEPENDENCIES
from api.limits import RateLimiter
from api.problems import EXCEPTION_HANDLERS, PROBLEM_JSON, Problem, keep_raw_body
from api.replicas import (
    TOKEN_HEADER,
    ReadRouter,
    Replica,
    check_replica_routes,
    document_consistency,
    replica_middleware,
)
from api.routes import (
    attributes,
    audit,
    categories,
    console,
    health,
    imports,
    prices,
    products,
    promotions,
    reports,
    sales,
    skus,
    stages,
    stock,
    storefront,
    suppliers,
    trees,
    vocabularies,
    warehouses,
)
from api.runner import JobRunner
from api.settings import Settings
from domain.seed import model as _seed_errors  # noqa: F401  (`merch seed scale`'s errors, listed with the others)
from domain.stock.service import MovementWriter

log = logging.getLogger("merchflow")

ROUTE_HANDLERS: list[Any] = [
    health.healthz,
    health.readyz,
    metrics.metrics,
    audit.list_audit,
    trees.TreeController,
    categories.CategoryController,
    categories.get_tree_nested,
    vocabularies.SeriesController,
    vocabularies.RoleController,
    vocabularies.AttributeGroupController,
    vocabularies.ReturnReasonController,
    attributes.AttributeController,
    attributes.OptionController,
    attributes.AttributeSetController,
    products.ProductController,
    skus.ProductSkuController,
    skus.SkuController,
    stages.StageController,
    stages.get_product_completeness,
    stages.get_stage_view,
    stages.transition_product,
    stages.list_incomplete,
    stages.JobController,
    stock.StockController,
    warehouses.WarehouseController,
    warehouses.LocationController,
    warehouses.PickListController,
    sales.SalesController,
    imports.ImportController,
    imports.ExportController,
    reports.ReportController,
    prices.PriceController,
    promotions.PromotionController,
    suppliers.SupplierController,
    suppliers.ProductSupplierController,
    storefront.StorefrontController,
    storefront.service_lookup,
    storefront.list_events,
    console.console_page,
    console.console_file,
]

DOCS_ASSETS = "/schema/assets"
SHUTDOWN_SECONDS = 10  # how long the pool may take to get its connections back when the server stops


def openapi_config() -> OpenAPIConfig:
    assets = DOCS_ASSETS
    return OpenAPIConfig(
        title="merchflow",
        version=__version__,
        description=(
            "Product and merchandise structure management: category trees, attributes, the attribute "
            "application table, stock, prices and reports. Errors are RFC 9457 problem+json."
        ),
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                js_url=f"{assets}/swagger-ui-bundle.js",
                css_url=f"{assets}/swagger-ui.css",
                standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
                path="/swagger",
                favicon=f"<link rel='icon' type='image/png' href='{assets}/favicon-32x32.png'>",
            )
        ],
        components=Components(
            security_schemes={"apiKey": SecurityScheme(type="http", scheme="bearer", description="An API key.")}
        ),
        security=[{"apiKey": []}],
        use_handler_docstrings=True,
    )


def create_app(
    settings: Settings | None = None, *, pool: asyncpg.Pool | None = None, reads: ReadRouter | None = None
) -> Litestar:
    """Build the app; with `pool` (and `reads`: the replicas' router) the caller owns the pools (tests), else the
    lifespan opens them."""
    settings = settings or Settings()
    http.close_dependencies_on_failure()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        if pool is not None:
            app.state.pool = pool
            yield
            return
        dsn, server = await db.prepare_database(settings)
        app.state.embedded_server = server  # keeps the embedded server alive while this worker runs
        own = await db.create_pool(dsn, settings)
        app.state.pool = db.FairPool(own, settings.db_pool_max)
        app.state.pool.watch(dsn)
        app.state.reads = await read_router(app.state.pool, dsn, settings)
        app.state.reads.start()
        app.state.movements = movement_writer(app.state.pool, settings)
        runner = JobRunner(own, workers=settings.job_workers, poll_seconds=1.0)
        runner.start()
        app.state.wake_jobs = runner.wake
        sampler = asyncio.create_task(metrics.sample_forever(app.state)) if metrics.MULTIPROCESS else None
        collector.tune()  # (last: what the start-up made is frozen)
        try:
            yield
        finally:
            if sampler is not None:
                sampler.cancel()
            metrics.mark_worker_gone()
            await runner.stop()
            await app.state.reads.stop()
            for replica in app.state.reads.replicas:
                replica.pool.pool.terminate()  # reads only: nothing to finish
            await app.state.movements.wait_idle()
            await app.state.pool.stop_watching()
            try:  # a connection a failed request never gave back must not hold the shutdown for ever
                await asyncio.wait_for(own.close(), SHUTDOWN_SECONDS)
            except TimeoutError:
                log.warning("connections still out after %s s at shutdown: closing them", SHUTDOWN_SECONDS)
                own.terminate()

    docs_assets = create_static_files_router(
        path=DOCS_ASSETS, directories=[swagger_ui_path], opt=PUBLIC, include_in_schema=False, name="docs-assets"
    )
    app = Litestar(
        route_handlers=[*ROUTE_HANDLERS, docs_assets],
        dependencies=DEPENDENCIES,
        middleware=[replica_middleware, auth_middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=before_request,
        openapi_config=openapi_config(),
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        cors_config=cors_config(settings),
        logging_config=None,  # (api/logs.py configures logging; the framework's default would replace it)
        debug=False,
    )
    if pool is not None:
        app.state.pool = pool
        app.state.reads = reads or ReadRouter(primary=pool)
        app.state.movements = movement_writer(pool, settings)
    app.state.key_cache = KeyCache(settings.key_cache_seconds)
    app.state.limiter = RateLimiter.from_settings(settings)
    check_declared_roles(app)
    check_replica_routes(app)
    allow_every_method(app)
    document_problems(app)
    document_consistency(app)
    document.complete(app)
    params.install(app)
    return app


async def before_request(request: Any) -> None:
    """Before a handler runs: refuse query parameters it does not take; keep the raw body for validation."""
    params.check_query(request)
    await keep_raw_body(request)


def cors_config(settings: Settings) -> CORSConfig | None:
    """CORS for the browser origins of MERCH_CORS_ORIGINS (none by default): the headers a shop front end
    sends and reads — conditional requests, idempotency keys, locales, request ids, ETags, Retry-After and
    rate limits."""
    origins = settings.cors_origin_list
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
            "Accept-Language",
            "X-Request-ID",
            TOKEN_HEADER,
        ],
        expose_headers=[
            "ETag",
            "Location",
            "Retry-After",
            "Content-Language",
            "Idempotency-Replayed",
            "X-Request-ID",
            "RateLimit",
            "RateLimit-Policy",
            TOKEN_HEADER,
        ],
        max_age=600,
    )


async def read_router(primary: db.FairPool, primary_dsn: str, settings: Settings) -> ReadRouter:
    """The router of replica reads over MERCH_READ_DATABASE_URLS (none: every read on the primary)."""
    replicas = []
    for i, url in enumerate(settings.read_database_url_list, start=1):
        own = await db.create_pool(url, settings, replica=True)
        replicas.append(Replica(name=f"replica-{i}", dsn=url, pool=db.FairPool(own, settings.db_pool_max)))
    return ReadRouter(
        primary=primary,
        replicas=replicas,
        primary_dsn=primary_dsn,
        max_lag=settings.max_replica_lag_ms / 1000,
        wait=settings.consistency_wait_ms / 1000,
    )


def movement_writer(pool: db.FairPool | asyncpg.Pool | db.OneConnectionPool, settings: Settings) -> MovementWriter:
    """Group commit of stock movements (domain/stock/service.py); on one connection, one batch at a time."""
    in_flight = 1 if isinstance(pool, db.OneConnectionPool) else settings.stock_batches
    return MovementWriter(pool, in_flight=in_flight, max_requests=settings.stock_batch_requests)


def check_declared_roles(app: Litestar) -> None:
    """Refuse to start when any route handler declares no roles (a route must never be open by accident)."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            declared_roles(handler)


def allow_every_method(app: Litestar) -> None:
    """Make each path's automatic OPTIONS answer list every method of the path. Litestar 2 builds a path's
    route again for each handler a controller registers on it, and keeps the OPTIONS handler of the first
    build, whose `Allow` names the first handler's method only (`OPTIONS /v1/products` said `OPTIONS, POST`;
    litestar-org/litestar#4169, fixed in Litestar 3): that handler is pointed at the finished route."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fn = handler.fn
            if handler.handler_name != "options_handler" or not fn.__module__.startswith("litestar."):
                continue
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True):
                if name == "self" and isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route


_PROBLEM_TEXT = {
    400: "Malformed JSON, or an invalid query parameter (each named in `errors`).",
    401: "No API key, or an unknown or revoked one.",
    403: "The key's roles may not call this route.",
    404: "No such resource.",
    409: "Conflicts with the current state (a taken code, a reference that blocks deletion, a cycle…).",
    410: "The change feed cursor is older than the retention (7 days): read afresh, then follow the feed.",
    412: "`If-Match` names another version than the current one.",
    413: "The request body is larger than the server accepts.",
    422: "The body is well-formed JSON but invalid: every failing field is listed with a JSON pointer.",
    414: "The path and query string are longer than 8,192 bytes together.",
    429: "The key sent more requests than its rate limit allows: `Retry-After` says when to try again.",
    503: "The database is unavailable or the query took too long.",
}
_NOT_MODIFIED = "Not modified: `If-None-Match` names the current version (the answer has no body)."


def document_problems(app: Litestar) -> None:
    """Give every operation its error responses, as RFC 9457 problems, and its 304 when it takes
    `If-None-Match`, in the OpenAPI document."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            existing = dict(handler.responses or {})
            if "if_none_match" in handler.parsed_fn_signature.parameters:
                existing.setdefault(304, ResponseSpec(data_container=None, description=_NOT_MODIFIED))
            # Any request: an unknown query parameter is a 400 (api/params.py), a URL over 8 KB a 414 (api/guard.py).
            statuses = {400, 414} | set(handler.opt.get("problems", ()))
            methods = handler.http_methods
            if declared_roles(handler) is not None:
                statuses |= {401, 403, 429, 503}
                if "{" in route.path:
                    statuses.add(404)
                if methods & {"POST", "PUT", "PATCH", "DELETE"}:
                    statuses |= {404, 409, 412, 413, 422} if methods != {"DELETE"} else {404, 409, 412}
            for status in sorted(statuses):
                existing.setdefault(
                    status,
                    ResponseSpec(
                        data_container=Problem,
                        description=_PROBLEM_TEXT[status],
                        media_type=PROBLEM_JSON,
                        generate_examples=False,
                    ),
                )
            handler.responses = existing


def asgi_app(
    settings: Settings | None = None,
    *,
    pool: asyncpg.Pool | None = None,
    reads: ReadRouter | None = None,
    lanes: bool = True,
) -> Edge:
    """The app as served: the edge (api/edge.py) around the fast lane (api/fastlane.py) in front of the Litestar
    app (`lanes=False`: the edge around the Litestar app alone, for tests comparing the two)."""
    settings = settings or Settings()
    framework = create_app(settings, pool=pool, reads=reads)
    inner: Any = FastLane(framework, settings.max_body_bytes) if lanes else framework
    return Edge(inner, max_header_bytes=settings.max_header_bytes)


def app_from_env() -> Edge:
    """Factory for uvicorn workers."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # (the embedded server's, as in api/cli.py)
    return asgi_app(Settings())
