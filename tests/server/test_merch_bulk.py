"""`merch import` and `merch export` (api/bulk.py) as run: the command in a process of its own, against the app
served over a real socket (uvicorn in the test's loop, on a database of the test's own, its job runner running)
— the upload, the job followed to its end, the report beside a file with rejected rows, and every refusal
with its exit status."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import openpyxl
import pytest
import uvicorn

from api.runner import JobRunner
from tests.api.test_imports import catalog
from tests.conftest import KEYS, ROOT

HEADER = "code,category,role,labels[en],attr:width,attr:length\n"


@pytest.fixture
async def url(fresh_pool: asyncpg.Pool, fresh_app: Any) -> AsyncIterator[str]:
    """The app served on a socket that listens before the test goes on (a connection waits in its backlog until
    uvicorn accepts it), with the job runner of a served worker; a catalog committed in its database."""
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(fresh_app, lifespan="off", log_level="warning", access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    runner = JobRunner(fresh_pool, workers=1, poll_seconds=0.05)
    runner.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.stop()
        server.should_exit = True
        await serving
        sock.close()


async def merch(*args: str, key: str | None = KEYS["listing"]) -> tuple[int, bytes, list[str]]:
    """Run `merch ARGS` (polling its job every 50 ms): exit status, standard output, standard error's lines."""
    env = {k: v for k, v in os.environ.items() if k != "MERCH_API_KEY"}
    if key is not None:
        env["MERCH_API_KEY"] = key
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        *args,
        *(["--poll", "0.05"] if args[0] == "import" else []),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out, err.decode().splitlines()


async def products(pool: asyncpg.Pool) -> list[tuple[str, int, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT code, version, attributes->'width' AS width FROM products ORDER BY code")
    return [(r["code"], r["version"], r["width"]) for r in rows]


async def test_an_import_uploads_the_file_follows_its_job_and_an_export_brings_it_back(
    url: str, fresh_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    source = tmp_path / "scarves.csv"
    source.write_text(HEADER + "sq-1,scarves,routine,Silk one,90,90 cm\nsq-2,scarves,destination,Silk two,,\n")
    status, out, err = await merch("import", str(source), "--type", "products", "--url", url)
    assert (status, out) == (0, b""), err
    size = source.stat().st_size
    assert err[0] == f"uploading 100% · {size} B of {size} B · " + err[0].split(" · ")[-1]
    assert err[-1].startswith("done 100% · read 2 · applied 2 · unchanged 0 · rejected 0 · "), err
    assert await products(fresh_pool) == [("sq-1", 1, 90), ("sq-2", 1, None)]

    target = tmp_path / "out" / "scarves.xlsx"
    target.parent.mkdir()
    status, out, err = await merch(
        "export", "--type", "products", "--category", "scarves", "-o", str(target), "--url", url
    )
    assert (status, out) == (0, b""), err
    assert err[-1].startswith(f"exported {target.stat().st_size / 1000:,.1f} kB to {target} in "), err
    assert sorted(p.name for p in target.parent.iterdir()) == ["scarves.xlsx"]  # no `.part` left behind
    sheet = openpyxl.load_workbook(io.BytesIO(target.read_bytes()), read_only=True).worksheets[0]
    assert [r[:2] for r in sheet.iter_rows(values_only=True)] == [
        ("code", "category"),
        ("sq-1", "scarves"),
        ("sq-2", "scarves"),
    ]

    status, _, err = await merch("import", str(target), "--type", "products", "--url", url)
    assert status == 0, err
    assert err[-1].startswith("done 100% · read 2 · applied 0 · unchanged 2 · rejected 0 · "), err
    assert await products(fresh_pool) == [("sq-1", 1, 90), ("sq-2", 1, None)]

    status, out, err = await merch("export", "--type", "products", "--url", url)  # JSON Lines to standard output
    assert status == 0, err
    assert [line[:22] for line in out.splitlines()] == [b'{"code":"sq-1","catego', b'{"code":"sq-2","catego']


async def test_rejected_rows_exit_1_with_the_report_beside_the_file_and_its_first_lines_shown(
    url: str, fresh_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    source = tmp_path / "scarves.csv"
    source.write_text(HEADER + "sq-1,scarves,routine,Silk one,90,90 cm\nsq-2,scarves,routine,Silk two,500,\n")
    status, _, err = await merch("import", str(source), "--type", "products", "--url", url)
    report = tmp_path / "scarves.csv.errors.csv"
    assert status == 1
    assert err[-3:] == [
        f"merch: 1 row(s) rejected (nothing was applied); the report: {report}",
        "  line,column,pointer,code,message",
        "  3,attr:width,/attributes/width,out_of_range,Must be at most 200.",
    ]
    assert err[-4].startswith("rejected · read 2 · applied 0 · unchanged 0 · rejected 1"), err
    assert report.read_text(encoding="utf-8-sig").splitlines()[1] == (
        "3,attr:width,/attributes/width,out_of_range,Must be at most 200."
    )
    assert await products(fresh_pool) == []

    status, _, err = await merch("import", str(source), "--type", "products", "--mode", "valid_rows", "--url", url)
    assert status == 1
    assert err[-3] == f"merch: 1 row(s) rejected (1 applied); the report: {report}", err
    assert await products(fresh_pool) == [("sq-1", 1, 90)]


async def test_a_refused_request_exits_2_naming_why_and_an_api_out_of_reach_exits_3(
    url: str, fresh_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    source = tmp_path / "scarves.csv"
    source.write_text(HEADER + "sq-1,scarves,routine,Silk one,90,90 cm\n")
    assert await merch("import", str(source), "--type", "products", "--url", url, key=None) == (
        2,
        b"",
        ["merch: no API key: set MERCH_API_KEY or pass --key (`merch keys create --role …` makes one)"],
    )
    status, _, err = await merch("import", str(source), "--type", "products", "--url", url, key=KEYS["warehouse"])
    assert (status, err[-1]) == (
        2,
        "merch: Forbidden (403): Importing products is for the roles that write them through the API: admin, listing, "
        "purchasing.",
    ), err
    (tmp_path / "bad.csv").write_text("code,category,attr:nope\n")
    status, _, err = await merch("import", str(tmp_path / "bad.csv"), "--type", "products", "--url", url)
    assert status == 2
    assert err[-3:] == [
        "merch: Bad request (400): The first line of a CSV import is its header, naming columns merchflow knows "
        "(code, category, role, …, attr:<attribute>): 2 problem(s).",
        "  /lines/1/attr:nope unknown_attribute: No attribute has the code 'nope'.",
        "  /lines/1/role missing_column: The header has no 'role' column.",
    ]
    (tmp_path / "notes.txt").write_text("hello")
    assert (await merch("import", str(tmp_path / "notes.txt"), "--type", "products", "--url", url))[::2] == (
        2,
        ["merch: cannot tell the format of notes.txt: name it .jsonl, .csv or .xlsx, or pass --format"],
    )
    status, _, err = await merch("export", "--type", "products", "--category", "nowhere", "--url", url)
    assert (status, err[-1]) == (2, "  category unknown_code: No category has the code 'nowhere'."), err
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening: refused
        status, _, err = await merch("import", str(source), "--type", "products", "--url", gone)
    assert status == 3
    assert err[-1].startswith(f"merch: cannot reach the API at {gone}: "), err
    assert await products(fresh_pool) == []
