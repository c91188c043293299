"""The README's curl walkthroughs, run as written against a fresh `merch serve --demo`: a README that drifts
from what the server answers fails here, naming its line (the convention: tests/readme_walk.py).

One server for every block, started once on a database cloned from the migrated template (the demo catalog
is loaded by `merch serve --demo` itself, as `make run` does); the blocks run in README order in one bash, as a
reader would paste them, with `merch` on the PATH and its working directory holding `.merchflow/` — so the
README's own `cat .merchflow/demo-admin.key` and `merch keys create …` work. `localhost:8000` becomes the
test server's address; nothing else of a command is changed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests import readme_walk as walk
from tests.conftest import ROOT, Server, cloned

README = ROOT / "README.md"
BLOCKS = walk.blocks(README.read_text(encoding="utf-8"))
# curl as the README calls it, but with the answer's status and headers kept aside for the checks, and a bound on
# how long a command may take.
CURL = 'curl() { command curl --max-time 20 -D "$MF_HEADERS" "$@"; }'


@pytest.fixture(scope="module")
async def demo_database(server: Server, template: str) -> AsyncIterator[str]:
    async with cloned(server, template, "merch_readme") as name:
        yield server.dsn(name)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readme")


@pytest.fixture(scope="module")
def demo(demo_database: str, workdir: Path) -> Iterator[int]:
    """`merch serve --demo` on a free port, in `workdir`; returns when it serves."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, "DATABASE_URL": demo_database, "MERCH_LOG_LEVEL": "info"}
    env.pop("MERCH_DATA_DIR", None)
    with (workdir / "serve.out").open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--demo", "--port", str(port)],
            cwd=workdir,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # uvicorn logs this line when the worker's startup is complete
            if "Application startup complete" in line:
                break
        else:
            pytest.fail(f"merch serve --demo stopped: {(workdir / 'serve.out').read_text()}")
        # Keep reading its log, so that a full pipe never holds the server.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        # A worker logs its start-up before it listens: wait until the socket takes a connection.
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "merch serve --demo never listened"
                time.sleep(0.01)  # polling the socket above
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


class Shell:
    """One bash for the whole README: commands run in it one at a time, their answers kept in files."""

    def __init__(self, workdir: Path, database: str, port: int) -> None:
        self.port = port
        self.dir = workdir
        self.played: set[int] = set()
        bin_dir = Path(sys.executable).parent
        env = {k: v for k, v in os.environ.items() if not k.startswith("MERCH_")}
        env |= {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "DATABASE_URL": database,
            "MF_HEADERS": str(workdir / "headers"),
            "LC_ALL": "C.UTF-8",
        }
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._send(CURL)

    def _send(self, line: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\necho __done $?\n")
        self.proc.stdin.flush()
        while not (answer := self.proc.stdout.readline()).startswith("__done"):
            if not answer:
                raise RuntimeError("the shell ended")
        self.rc = int(answer.split()[1])

    def run(self, command: walk.Command) -> tuple[int, str, str]:
        """Run a command; answers its exit status, its output and its error output."""
        text = command.text.replace("localhost:8000", f"127.0.0.1:{self.port}")
        (self.dir / "command.sh").write_text(text + "\n", encoding="utf-8")
        (self.dir / "headers").write_text("")
        self._send(f"source {self.dir / 'command.sh'} >{self.dir / 'out'} 2>{self.dir / 'err'}")
        return self.rc, self._read("out"), self._read("err")

    def _read(self, name: str) -> str:
        return (self.dir / name).read_bytes().decode("utf-8", errors="replace")

    def answer(self) -> tuple[int | None, dict[str, str]]:
        """The status and headers of the last curl of the last command."""
        status = None
        headers: dict[str, str] = {}
        for line in self._read("headers").splitlines():
            if line.startswith("HTTP/"):
                status, headers = int(line.split()[1]), {}
            elif ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return status, headers

    def close(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def shell(demo: int, demo_database: str, workdir: Path) -> Iterator[Shell]:
    if shutil.which("curl") is None:
        pytest.fail("the README walkthroughs need curl")
    sh = Shell(workdir, demo_database, demo)
    yield sh
    sh.close()


def check(shell: Shell, command: walk.Command) -> list[str]:
    """Run one command; what differs from the README (empty: nothing)."""
    rc, out, err = shell.run(command)
    if rc != 0:
        return [f"exit status {rc}: {err.strip() or out.strip()}"]
    if "curl " not in command.text:
        return []
    status, headers = shell.answer()
    body = out.split("\r\n\r\n", 1)[1] if out.startswith("HTTP/") and "\r\n\r\n" in out else out
    expect = command.expect or walk.Expectation(command.line)
    found: list[str] = []
    if status is None:
        return [f"no answer: {err.strip()}"]
    if expect.status is not None and status != expect.status:
        found.append(f"status {status}, the README says {expect.status}")
    elif expect.status is None and status >= 400:
        found.append(f"status {status}, the README shows no error")
    for name, value in expect.headers:
        actual = headers.get(name.lower())
        if actual is None or not walk.glob(value, actual):
            found.append(f"header {name}: {actual!r}, the README says {value!r}")
    if expect.body.startswith(("{", "[")):
        try:
            actual_json = json.loads(body)
        except json.JSONDecodeError:
            found.append(f"the answer is not JSON: {body[:300]!r}")
        else:
            found += walk.mismatches(walk.pattern(expect.body, expect.line), actual_json)
    elif expect.body and not walk.glob(expect.body, body.replace("\r\n", "\n").strip()):
        found.append(f"the answer is {body.strip()[:300]!r}, the README says {expect.body!r}")
    if found:
        found.append(f"the whole answer: {body[:2000]}")
    return found


def play(shell: Shell, upto: int) -> None:
    """Run the blocks before `upto` that have not run (a block may use what the ones before it set up)."""
    for i in range(upto):
        if i not in shell.played:
            shell.played.add(i)
            for command in BLOCKS[i].commands:
                shell.run(command)


def test_the_readme_has_walkthroughs_to_run() -> None:
    sections = {b.section for b in BLOCKS}
    assert len(BLOCKS) >= 7 and sum(len(b.commands) for b in BLOCKS) >= 50, sections


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[b.name for b in BLOCKS])
def test_a_walkthrough_answers_what_the_readme_shows(shell: Shell, index: int) -> None:
    play(shell, index)
    shell.played.add(index)
    failures = []
    for command in BLOCKS[index].commands:
        found = check(shell, command)
        if found:
            failures.append(f"README.md:{command.line}: {command.text}\n    " + "\n    ".join(found))
    assert not failures, "\n".join(failures)
