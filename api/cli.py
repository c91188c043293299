"""The `merch` command: serve, migrate, seed, manage API keys; import and export files through a running API
(api/bulk.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import warnings
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from api import bulk, db, logs, migrate, seeding, standby
from api.settings import Settings
from domain.errors import DomainError
from domain.keys import service as keys

T = TypeVar("T")
DEMO_KEY_FILE = "demo-admin.key"


def _quiet() -> None:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


async def _with_conn(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    dsn, _server = await db.prepare_database(settings)
    return await db.on_connection(dsn, work)


def _run(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    return asyncio.run(_with_conn(settings, work))


async def _migrate(conn: asyncpg.Connection) -> list[str]:
    return (await migrate.migrate(conn)).names


async def _demo_key(conn: asyncpg.Connection, data_dir: Path) -> str:
    """A ready admin key for demo mode, kept in the data directory so that it survives restarts."""
    path = data_dir.expanduser() / DEMO_KEY_FILE
    if path.exists():
        secret = path.read_text().strip()
        if await keys.authenticate(conn, secret) is not None:
            return secret
    await keys.delete_key(conn, "demo-admin")
    new = await keys.create_key(conn, ["admin"], "demo-admin")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.secret + "\n")
    path.chmod(0o600)
    return new.secret


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers

    async def prepare(conn: asyncpg.Connection) -> str | None:
        applied = await _migrate(conn)
        if applied:
            print(f"applied: {', '.join(applied)}", flush=True)
        if not args.demo:
            return None
        from api import demo

        if await demo.is_empty(conn):
            summary = await demo.seed(conn)
            print(f"loaded the demo catalog: {summary}", flush=True)
        return await _demo_key(conn, settings.data_dir)

    # Keep the embedded server handle for the life of this process: workers join the same server.
    _dsn, server = asyncio.run(db.prepare_database(settings))
    if args.replicas and server is None:
        print(
            "merch: --replicas starts replicas of the embedded server (DATABASE_URL unset); with your own "
            "PostgreSQL, list its replicas in MERCH_READ_DATABASE_URLS",
            file=sys.stderr,
        )
        return 2
    key = _run(settings, prepare)
    replicas = standby.embedded_replicas(server, settings.data_dir, args.replicas) if args.replicas else []
    if replicas:
        # the workers read it from the environment, as they read every setting
        os.environ["MERCH_READ_DATABASE_URLS"] = ",".join(r.dsn(db.DATABASE_NAME) for r in replicas)
    base = f"http://{host}:{port}"
    print(f"merchflow serving on {base}  (API docs: {base}/schema/swagger)", flush=True)
    print(f"database: {'embedded PostgreSQL in ' + str(settings.data_dir) if server else 'DATABASE_URL'}", flush=True)
    for replica in replicas:
        print(f"replica: streaming from the embedded server, data in {replica.pgdata}", flush=True)
    if key:
        print(f"demo admin key: {key}", flush=True)
        print(f"try: curl -H 'Authorization: Bearer {key}' {base}/v1/category-trees", flush=True)
    os.environ["MERCH_HOST"], os.environ["MERCH_PORT"], os.environ["MERCH_WORKERS"] = host, str(port), str(workers)
    try:
        with _metrics_directory(workers):
            started = _serve(settings, host, port, workers)
    finally:
        for replica in replicas:  # stopped with the server (their data stays: the next start resumes them)
            replica.stop()
    del server
    return 0 if started else 3


def _serve(settings: Settings, host: str, port: int, workers: int) -> bool:
    """Serve until SIGTERM or SIGINT, then stop gracefully: no new connections (they are refused), requests in
    flight finish (for at most MERCH_SHUTDOWN_SECONDS, then they are cancelled), then each worker's lifespan
    closes its pool. Whether the server started."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    # uvloop and httptools, chosen by measurement (bench/servers.py, bench/RESULTS.md): on asyncio's own loop,
    # the sockets accepted through uvicorn's multi-worker listening socket never get TCP_NODELAY (the socket
    # uvicorn makes for its workers has protocol 0, and asyncio only sets the option for IPPROTO_TCP), so
    # h11's two writes per response wait for the client's delayed ACK: 44 ms per request with two workers.
    # uvloop sets TCP_NODELAY on every TCP connection, and httptools parses faster than h11.
    config = uvicorn.Config(
        "api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_config=logs.config(settings.log_format, settings.log_level),
        log_level=settings.log_level.lower(),
        access_log=False,  # the edge writes one access line per request (api/edge.py)
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=settings.shutdown_seconds,
    )

    class Workers(Multiprocess):
        """uvicorn's supervisor, closing its own copy of the listening socket as it stops: each worker closes its
        copy as its shutdown begins, so new connections are then refused — instead of waiting in the backlog of
        a socket the supervisor still held open and no one would accept them from."""

        def terminate_all(self) -> None:
            for sock in self.sockets:
                sock.close()
            super().terminate_all()

    # uvicorn raises the stop signal again once it has shut down gracefully: that is a clean stop (exit 0).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if workers > 1:
        Workers(config, sockets=[config.bind_socket()]).run()
        return True
    server = uvicorn.Server(config)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, _stop)
    return server.started


@contextlib.contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """With several workers, a fresh PROMETHEUS_MULTIPROC_DIR for their metrics (api/metrics.py), set before they
    start and removed when they are done (an operator's own is used, emptied first)."""
    if workers == 1:
        yield
        return
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        yield
        return
    folder = tempfile.mkdtemp(prefix="merchflow-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    try:
        yield
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(folder, ignore_errors=True)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    applied = _run(settings, _migrate)
    print(f"applied: {', '.join(applied)}" if applied else "the database is up to date")
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from api import demo
    from domain.seed import scale

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.what == "scale" and not args.direct:
        return seeding.run(args, settings)
    if args.what == "scale" and (misuse := seeding.direct_misuse(args)):
        print(f"merch: {misuse}", file=sys.stderr)
        return 2

    async def work(conn: asyncpg.Connection) -> str:
        await _migrate(conn)
        if args.what == "demo":
            if not await demo.is_empty(conn):
                return "the database already has a catalog; the demo catalog loads only into an empty one"
            return f"loaded the demo catalog: {await demo.seed(conn)}"
        return await scale.seed(conn, products=args.products, progress=progress)

    print(_run(settings, work))
    if args.what == "scale":
        asyncio.run(_run_jobs(settings, progress))
    return 0


async def _run_jobs(settings: Settings, progress: Callable[[str], None]) -> None:
    """Run queued jobs here and now (the scale seed's completeness), printing progress."""
    from domain.jobs.service import run_pending

    dsn, _server = await db.prepare_database(settings)
    pool = await db.create_pool(dsn, settings)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        progress(f"completeness: {done:,} products")

    try:
        await run_pending(pool, workers=settings.job_workers, on_progress=tick)
    finally:
        await pool.close()


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    async def work(conn: asyncpg.Connection) -> int:
        await _migrate(conn)
        if args.action == "create":
            new = await keys.create_key(conn, args.role, args.name)
            print(new.secret)
            print(f"created key {new.info.name!r} with roles {', '.join(new.info.roles)}", file=sys.stderr)
        elif args.action == "list":
            for k in await keys.list_keys(conn):
                state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
                print(f"{k.name}\t{k.prefix}…\t{','.join(k.roles)}\t{k.created_at:%Y-%m-%d %H:%M}\t{state}")
        else:
            k = await keys.revoke_key(conn, args.name)
            print(f"revoked {k.name}", file=sys.stderr)
        return 0

    return _run(settings, work)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="merch", description="merchflow: product and merchandise structure management.")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply pending migrations, then serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument(
        "--demo", action="store_true", help="load the demo catalog into an empty database; print an admin key"
    )
    serve.add_argument(
        "--replicas",
        type=int,
        default=0,
        choices=range(9),
        metavar="N",
        help="with the embedded server: N streaming replicas beside it (data in MERCH_DATA_DIR/replica-1 …), "
        "serving the storefront, service lookups, reports, exports and the change feed",
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply pending migrations and exit").set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="load a catalog")
    seed_sub = seed.add_subparsers(dest="what", required=True)
    seed_sub.add_parser("demo", help="the bilingual demo catalog")
    scale_p = seed_sub.add_parser(
        "scale",
        help="a synthetic catalog shaped like a large real one, written as import files and loaded through the "
        "import path",
        description="A synthetic catalog shaped like a large real one (at 1,000,000 products: about 4,000 "
        "categories and 1,000 attributes), written as JSON Lines import files and loaded through the import path "
        "— every row checked by the API's rules, jobs, derived data current — with progress and a summary per "
        "file. --direct is the benchmarks' direct writer instead: straight into the tables, past every rule.",
    )
    seeding.add_arguments(scale_p)
    seed.set_defaults(func=cmd_seed)

    keys_p = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys_p.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create", help="create a key and print it, alone, on standard output")
    create.add_argument("--role", action="append", required=True, help="a role; repeat for several")
    create.add_argument("--name")
    keys_sub.add_parser("list", help="list keys (never their secrets)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("name")
    keys_p.set_defaults(func=cmd_keys)

    bulk.add_parsers(sub)
    return p


def _stop(*_: object) -> None:
    sys.exit(143)


def main(argv: list[str] | None = None) -> int:
    _quiet()
    # A stop signal ends the command like an error would: exit handlers run (and stop an embedded server
    # this command started). `merch serve` hands the signals to uvicorn, which shuts down and returns.
    signal.signal(signal.SIGTERM, _stop)
    args = parser().parse_args(argv)
    settings = Settings()
    logs.configure(settings.log_format, settings.log_level)
    try:
        result: Any = args.func(args, settings)
        return int(result)
    except DomainError as exc:
        print(f"merch: {exc.detail}", file=sys.stderr)
        return 2
    except migrate.MigrationError as exc:
        print(f"merch: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
