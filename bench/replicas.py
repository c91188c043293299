"""Streaming replicas on one box (issue 15): the storefront's reads with the primary alone, with one and with two
embedded replicas (api/standby.py, as `merch serve --replicas N` makes them), replica lag under 64 concurrent
stock-movement writers, and a replica killed under read load.

    python -m bench.replicas                       (its own database in bench/out/replicas: a modest catalog)
    python -m bench.replicas --only reads          (reads | lag | kill)

1. reads  GET /v1/storefront/products/{code} (random) and a category page (web-bench, two filters, 50 cards),
          three `merch serve` side by side on the same primary — MERCH_READ_DATABASE_URLS empty, one replica,
          two replicas — wrk runs alternated, concurrency 1 first (latency), then under load; where the CPU
          went during each side's runs (API workers, the primary's processes, the replicas', wrk, the rest of
          the machine), because replicas on the same two cores cannot add CPU.
2. lag    wrk -c64 of POST /v1/stock/movements (one pick each) on the two-replica server, while a sampler asks
          the primary for its flushed WAL position and each replica for what it has replayed every 5 ms: the
          lag, as the router measures it, is how long ago the primary first had WAL the replica had not
          replayed. p50 / p99 / max per replica.
3. kill   wrk on the product page against the two-replica server; replica-1 stopped hard (`pg_ctl stop -m
          immediate`) a third of the way in: failed reads (non-2xx and socket errors: must be 0) and the
          slowest read; then replica-1 started again: seconds until every worker says it streams, and the
          reads it serves afterwards (its own count of transactions), the API not restarted.

The catalog: the storefront benchmark's preparation (bench/storefront.py: the scale seed, every product
listed, the web-bench shelf) at --products (default 30,000), and the stock benchmark's warehouse
(bench/stock.py). Uses MERCH_DATA_DIR (default bench/out/replicas); the replicas go to MERCH_DATA_DIR/replica-N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import threading
import time
import urllib.request
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from api import db, standby
from api.replicas import POSITION
from bench import stock, storefront
from bench.harness import ROOT, SERVER, Side, bench_database, start_merchflow, stop, wrk

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

WRK = ROOT / "bench" / "wrk"
POOL = 8  # connections per worker and database: three servers of two workers share the primary's 100


# -- where the CPU goes -----------------------------------------------------------------------------------


def _ticks() -> dict[int, tuple[int, int, str]]:
    """pid → (parent, user + system ticks, command name) of every process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        out[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), name)
    return out


def _descends(pid: int, roots: set[int], procs: dict[int, tuple[int, int, str]]) -> bool:
    while pid > 1:
        if pid in roots:
            return True
        pid = procs.get(pid, (0, 0, ""))[0]
    return False


class CPU:
    """CPU seconds spent between `start` and `stop`, by group: the API servers, the primary, the replicas, wrk,
    everything else on the machine (other users included) — and the machine's idle time."""

    def __init__(self, servers: list[int], primary: int, replicas: list[int]) -> None:
        self.groups = {"API": set(servers), "primary": {primary}, "replicas": set(replicas)}
        self.before: dict[int, tuple[int, int, str]] = {}
        self.started = 0.0
        self.children = 0.0
        self.idle = 0

    def start(self) -> None:
        self.before, self.started = _ticks(), time.monotonic()
        self.children, self.idle = _children(), _idle()

    def stop(self) -> dict[str, float]:
        after, seconds = _ticks(), time.monotonic() - self.started
        hz = os.sysconf("SC_CLK_TCK")
        spent = dict.fromkeys([*self.groups, "other"], 0.0)
        for pid, (_, ticks, _name) in after.items():
            delta = (ticks - self.before.get(pid, (0, 0, ""))[1]) / hz
            group = next((g for g, roots in self.groups.items() if _descends(pid, roots, after)), None)
            spent[group or "other"] += delta
        spent["wrk"] = _children() - self.children  # (wrk has exited by now: its CPU is in ours, as a child's)
        spent["idle"] = (_idle() - self.idle) / hz
        return {g: s / seconds for g, s in spent.items()}  # cores in use (idle: cores left idle), on average


def _children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _idle() -> int:
    """The machine's idle ticks, every core together (/proc/stat: idle and iowait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return int(fields[4]) + int(fields[5])


def postmaster(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


# -- the cluster ------------------------------------------------------------------------------------------


async def position(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(POSITION))
    finally:
        await conn.close()


async def caught_up(primary: str, replicas: list[str]) -> None:
    head = await position(primary)
    for dsn in replicas:
        while await position(dsn) < head:  # noqa: ASYNC110 (another process's replay: nothing to wait on)
            await asyncio.sleep(0.05)


async def transactions(dsn: str) -> int:
    """Transactions the server's own backends committed in the merchflow database (a replica counts its reads)."""
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"))
    finally:
        await conn.close()


def replica_states(port: int, asks: int = 8) -> set[tuple[str, str]]:
    """(name, state) of the replicas as several answers of /readyz see them (each worker answers for itself)."""
    seen = set()
    for _ in range(asks):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
            seen |= {(r["name"], r["state"]) for r in json.load(answer).get("replicas", [])}
    return seen


def wait_streaming(port: int, names: set[str], timeout: float = 60) -> float:
    started = time.monotonic()
    while replica_states(port) != {(n, "streaming") for n in names}:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"replicas not streaming after {timeout:.0f} s: {replica_states(port)}")
        time.sleep(0.05)  # the servers' monitors judge ten times a second
    return time.monotonic() - started


# -- 1. reads ---------------------------------------------------------------------------------------------


def reads(args: argparse.Namespace, env: dict[str, str], servers: list[tuple[str, int, Any]], cpu: CPU) -> None:
    print(f"\n## 1. reads: {SERVER} × {args.workers} workers per server, pools of {POOL}, wrk -t2\n")
    for what, script in (("product page", "storefront_page.lua"), ("category page", "storefront_list.lua")):
        sides = [Side(f"{label}: {what}", port, WRK / script) for label, port, _ in servers]
        usage: dict[tuple[int, int], list[dict[str, float]]] = {}
        runs = {}
        for n, side in enumerate(sides):  # warm-up: connections opened, plans made, pages cached
            runs[(n, 0)] = [wrk(side.port, side.script, max(args.concurrency), 3, env)]
        for conc in args.concurrency:
            for _ in range(args.rounds):
                for n, side in enumerate(sides):
                    cpu.start()
                    runs.setdefault((n, conc), []).append(wrk(side.port, side.script, conc, args.seconds, env))
                    usage.setdefault((n, conc), []).append(cpu.stop())
        print(f"### {what}\n")
        print(
            "| side | conc | req/s (median) | p50 ms | p99 ms | failed | runs (req/s) |"
            " cores: API / primary / replicas / wrk / rest of the machine / idle |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for conc in args.concurrency:
            base = 0.0
            for n, side in enumerate(sides):
                these = runs[(n, conc)]
                rps = statistics.median(r["rps"] for r in these)
                base = base or rps
                p50 = statistics.median(r["p50_us"] for r in these) / 1000
                p99 = statistics.median(r["p99_us"] for r in these) / 1000
                bad = sum(r["non_2xx"] + r["socket_errors"] for r in these)
                each = ", ".join(f"{r['rps']:,.0f}" for r in these)
                cores = {g: statistics.median(u[g] for u in usage[(n, conc)]) for g in usage[(n, conc)][0]}
                split = " / ".join(f"{cores[g]:.2f}" for g in ("API", "primary", "replicas", "wrk", "other", "idle"))
                print(
                    f"| {side.label} | {conc} | {rps:,.0f} ({rps / base:.2f}×) | {p50:.2f} | {p99:.2f} | {bad} |"
                    f" {each} | {split} |"
                )
        print()


# -- 2. lag -----------------------------------------------------------------------------------------------


async def sample_lag(primary: str, replicas: dict[str, str], stop_at: threading.Event) -> dict[str, list[float]]:
    """Lag samples (seconds) per replica every 5 ms or so until `stop_at` is set: how long ago the primary first
    had WAL beyond what the replica had replayed (api/replicas.py's definition; its resolution is the sampling
    period: a replica within one period reads 0) — and the primary's own replay_lag of its standbys (OWN)."""
    head = await asyncpg.connect(primary)
    conns = {name: await asyncpg.connect(dsn) for name, dsn in replicas.items()}
    history: deque[tuple[float, int]] = deque()
    samples: dict[str, list[float]] = {name: [] for name in replicas}
    samples[OWN] = []
    try:
        while not stop_at.is_set():
            own = await head.fetch("SELECT extract(epoch FROM replay_lag)::float8 AS s FROM pg_stat_replication")
            samples[OWN] += [r["s"] for r in own if r["s"] is not None]
            now = time.monotonic()
            history.append((now, int(await head.fetchval(POSITION))))
            for name, conn in conns.items():
                replayed = int(await conn.fetchval(POSITION))
                first = next((at for at, lsn in history if lsn > replayed), None)
                samples[name].append(0.0 if first is None else now - first)
            while len(history) > 2 and history[1][0] < now - 30:
                history.popleft()
            await asyncio.sleep(0.005)  # the sampling period
    finally:
        await head.close()
        for conn in conns.values():
            await conn.close()
    return samples


# PostgreSQL's own measure, sampled alongside: pg_stat_replication.replay_lag on the primary (time between
# flushing WAL and hearing that a standby replayed it; both standbys' rows together).
OWN = "either (pg_stat_replication.replay_lag)"


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def lag(args: argparse.Namespace, env: dict[str, str], port: int, dsn: str, replicas: dict[str, str]) -> None:
    done = threading.Event()
    result: dict[str, Any] = {}

    def load() -> None:
        try:
            result["wrk"] = wrk(
                port,
                WRK / "movement.lua",
                64,
                args.lag_seconds,
                {**env, "MERCH_BENCH_KEY": env["MERCH_BENCH_WAREHOUSE_KEY"]},
            )
        finally:
            done.set()

    writer = threading.Thread(target=load)
    writer.start()
    samples = asyncio.run(sample_lag(dsn, replicas, done))
    writer.join()
    w = result["wrk"]
    print(f"\n## 2. replica lag under 64 concurrent stock-movement writers ({args.lag_seconds} s)\n")
    print(
        f"writes: {w['rps']:,.0f} req/s, p50 {w['p50_us'] / 1000:.1f} ms, p99 {w['p99_us'] / 1000:.1f} ms,"
        f" failed {w['non_2xx'] + w['socket_errors']}\n"
    )
    period = args.lag_seconds * 1000 / max(1, len(samples["replica-1"]))
    print(f"(sampling period {period:.1f} ms: the router's measure reads 0 for a replica within one period)\n")
    print("| replica | samples | lag p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, values in samples.items():
        ms = [v * 1000 for v in values]
        print(f"| {name} | {len(ms):,} | {quantile(ms, 0.5):.1f} | {quantile(ms, 0.99):.1f} | {max(ms):.1f} |")


# -- 3. kill ----------------------------------------------------------------------------------------------


async def read_load(
    port: int, env: dict[str, str], conc: int, seconds: float, during: Any = None
) -> tuple[list[tuple[float, float, int]], float | None]:
    """`conc` readers of random product pages for `seconds`, each read's (start, seconds, status) — a timeline,
    which wrk does not give; `during` (a blocking call) runs in a thread a third of the way in: when it started."""
    count = int(env["MERCH_BENCH_PRODUCTS"])
    headers = {"Authorization": f"Bearer {env['MERCH_BENCH_KEY']}"}
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    answers: list[tuple[float, float, int]] = []
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits) as http:

        async def reader(n: int) -> None:
            rng = random.Random(n)
            while loop.time() - t0 < seconds:
                started = loop.time()
                try:
                    status = (await http.get(f"/v1/storefront/products/sp-{rng.randint(1, count):07d}")).status_code
                except httpx.HTTPError:
                    status = 0
                answers.append((started - t0, loop.time() - started, status))

        async def act() -> float | None:
            if during is None:
                return None
            await asyncio.sleep(seconds / 3)  # a third of the run first
            at = loop.time() - t0
            await asyncio.to_thread(during)
            return at

        *_, at = await asyncio.gather(*(reader(n) for n in range(conc)), act())
    return answers, at


def kill(args: argparse.Namespace, env: dict[str, str], port: int, victim: standby.EmbeddedReplica) -> None:
    answers, at = asyncio.run(
        read_load(port, env, args.kill_concurrency, args.kill_seconds, lambda: victim.stop("immediate"))
    )
    assert at is not None
    dsn = victim.dsn(db.DATABASE_NAME)
    victim.start()
    rejoined = wait_streaming(port, {"replica-1", "replica-2"})
    before = asyncio.run(transactions(dsn))
    after, _ = asyncio.run(read_load(port, env, args.kill_concurrency, 5))
    served = asyncio.run(transactions(dsn)) - before
    failed = [a for a in answers if a[2] != 200]

    def slowest(lo: float, hi: float) -> str:
        spans = sorted(s for t, s, _ in answers if lo <= t < hi)
        if not spans:
            return "—"
        p50, p99 = spans[len(spans) // 2] * 1000, quantile(spans, 0.99) * 1000
        return f"{len(spans):,} reads, p50 {p50:.0f} ms, p99 {p99:.0f} ms, slowest {spans[-1] * 1000:.0f} ms"

    print(
        f"\n## 3. a replica killed under read load (product page, {args.kill_concurrency} readers,"
        f" {args.kill_seconds} s; replica-1 stopped with `pg_ctl stop -m immediate` {at:.1f} s in)\n"
    )
    print(f"- reads: {len(answers):,}, failed (not 200, or no answer): **{len(failed)}**")
    print(f"- started in the 3 s before the stop: {slowest(at - 3, at)}")
    print(f"- started in the second after it: {slowest(at, at + 1)}")
    print(f"- started 1–3 s after it: {slowest(at + 1, at + 3)}")
    print(f"- started after that: {slowest(at + 3, args.kill_seconds)}")
    print(
        f"- replica-1 started again: streaming in every worker's view {rejoined:.1f} s after its start returned;"
        f" the next 5 s of reads ({len(after):,}, failed {sum(1 for a in after if a[2] != 200)})"
        f" committed {served:,} transactions on it — the API was not restarted"
    )


# -- main -------------------------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> None:
    os.environ.setdefault("MERCH_DATA_DIR", str(ROOT / "bench" / "out" / "replicas"))
    dsn, server, env = bench_database("replicas")
    data_dir = Path(os.environ["MERCH_DATA_DIR"])
    asyncio.run(storefront.prepare(dsn, args.products))
    env["MERCH_BENCH_WAREHOUSE_KEY"] = asyncio.run(stock.prepare(dsn))
    env["MERCH_BENCH_KEY"] = asyncio.run(storefront.bench_key(dsn, "storefront"))
    count = asyncio.run(storefront._count(dsn))
    env["MERCH_BENCH_PRODUCTS"] = str(count)
    filters = asyncio.run(storefront.list_filters(dsn))
    env["MERCH_BENCH_QUERY"] = f"category=web-bench&{filters}&limit=50"
    env["MERCH_DB_POOL_MAX"] = str(POOL)
    replicas = standby.embedded_replicas(server, data_dir, 2)
    urls = [r.dsn(db.DATABASE_NAME) for r in replicas]
    asyncio.run(caught_up(dsn, urls))
    print(f"catalog: {count:,} listed products; category page /v1/storefront/products?{env['MERCH_BENCH_QUERY']}")
    servers: list[tuple[str, int, Any]] = []
    try:
        for label, read_urls in (("primary alone", ""), ("1 replica", urls[0]), ("2 replicas", ",".join(urls))):
            port, proc = start_merchflow({**env, "MERCH_READ_DATABASE_URLS": read_urls}, args.workers)
            servers.append((label, port, proc))
        wait_streaming(servers[2][1], {"replica-1", "replica-2"})
        wanted = set(args.only or ["reads", "lag", "kill"])
        if "reads" in wanted:
            cpu = CPU(
                [proc.pid for _, _, proc in servers],
                postmaster(Path(server.pgdata)),
                [postmaster(r.pgdata) for r in replicas],
            )
            reads(args, env, servers, cpu)
        if "lag" in wanted:
            lag(args, env, servers[2][1], dsn, {f"replica-{i}": u for i, u in enumerate(urls, 1)})
        if "kill" in wanted:
            kill(args, env, servers[2][1], replicas[0])
    finally:
        for _, _, proc in servers:
            stop(proc)
        for replica in replicas:
            replica.stop()
        del server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=30_000, help="scale catalog size when none is loaded")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--lag-seconds", type=int, default=20)
    parser.add_argument("--kill-concurrency", type=int, default=16)
    parser.add_argument("--kill-seconds", type=int, default=15)
    parser.add_argument("--only", nargs="+", choices=["reads", "lag", "kill"])
    main(parser.parse_args())
