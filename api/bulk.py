"""`merch import` and `merch export`: bulk files through a running API over HTTP, with an API key — the same
rules, roles and jobs as any client, and no database connection of their own.

`merch import FILE --type products` uploads the file as it is read (never held whole), then follows the job
(`GET /v1/jobs/{id}`) to its end, showing rows read / applied / unchanged / rejected, the rate and an ETA on
standard error: one line redrawn on a terminal, a plain line every few seconds when not. When rows are
rejected it writes the per-row report beside the file (`FILE.errors.csv`), shows its first lines and exits 1.
`merch export --type products` streams the file to `-o FILE` (written whole or not at all) or standard output.

Exit status: 0 done; 1 rows rejected (the report beside the file); 2 a request the API refused (its problem
shown), or a usage error; 3 the API unreachable, or the import failed for another reason.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx"}
DEFAULT_URL = "http://127.0.0.1:8000"
REPORT_LINES = 10  # of the report shown when rows are rejected
BLOCK = 1 << 16


class Refused(Exception):
    """The API answered a request with a problem (or not at all): exit with `status`, showing `message`."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


class Progress:
    """One status line on standard error: redrawn in place on a terminal, else a plain line when it changed and
    `every` seconds have passed (and always the last one)."""

    def __init__(self, out: IO[str], every: float = 2.0) -> None:
        self.out = out
        self.tty = out.isatty()
        self.every = every
        self.last = ""
        self.shown_at = float("-inf")

    def show(self, text: str, *, final: bool = False) -> None:
        if self.tty:
            self.out.write("\r\x1b[K" + text + ("\n" if final else ""))
        elif text != self.last and (final or time.monotonic() - self.shown_at >= self.every):
            self.out.write(text + "\n")
            self.shown_at = time.monotonic()
        self.last = text
        self.out.flush()


class Api:
    """The API at `url`, with a key: one connection per request (the job is polled a few times a second)."""

    def __init__(self, url: str, key: str, timeout: float = 300.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(f"--url must be http(s)://host[:port], not {url!r}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port
        self.base = parts.path.rstrip("/")
        self.key = key
        self.timeout = timeout

    def send(
        self, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None
    ) -> http.client.HTTPResponse:
        kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = kind(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(
                method, self.base + path, body=body, headers={"Authorization": f"Bearer {self.key}", **(headers or {})}
            )
        except (BrokenPipeError, ConnectionResetError):
            pass  # the API refused an upload before its end (a bad header, a missing key): its answer says why
        except OSError as exc:
            conn.close()
            raise Refused(f"cannot reach the API at {self.where()}: {exc}", 3) from None
        try:
            answer = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise Refused(f"no answer from the API at {self.where()}: {exc}", 3) from None
        if answer.status >= 400:
            raise Refused(problem_text(answer.status, answer.read()))
        return answer

    def json(self, path: str) -> Any:
        with self.send("GET", path) as answer:
            return json.loads(answer.read())

    def where(self) -> str:
        return f"{'https' if self.https else 'http'}://{self.host}{':' + str(self.port) if self.port else ''}"


def problem_text(status: int, body: bytes) -> str:
    """An answer's problem as lines: its title and detail, then each error it names."""
    try:
        problem = json.loads(body)
    except ValueError:
        return f"the API answered {status}: {body[:200].decode(errors='replace')}"
    if not isinstance(problem, dict):
        return f"the API answered {status}"
    lines = [f"{problem.get('title', status)} ({status}): {problem.get('detail', '')}".rstrip(": ")]
    for error in problem.get("errors") or []:
        where = error.get("pointer") or error.get("parameter") or ""
        lines.append(f"  {where} {error.get('code', '')}: {error.get('message', '')}".rstrip())
    return "\n".join(lines)


class _Reading:
    """A file read in blocks for the upload, telling how far it got."""

    def __init__(self, file: IO[bytes], on_read: Callable[[int], None]) -> None:
        self.file = file
        self.on_read = on_read
        self.sent = 0

    def read(self, size: int = BLOCK) -> bytes:
        data = self.file.read(max(size, BLOCK))
        self.sent += len(data)
        self.on_read(self.sent)
        return data


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n} GB"


def job_line(job: dict[str, Any]) -> str:
    """A job's progress as one line: phase (and %), rows, rate, ETA."""
    rows = job.get("rows") or {}
    phase = str(job.get("phase") or job.get("state"))
    share = job.get("progress")
    parts = [f"{phase} {share * 100:.0f}%" if share is not None and phase in ("applying", "done") else phase]
    parts += [f"{k} {rows.get(k, 0):,}" for k in ("read", "applied", "unchanged", "rejected")]
    if job.get("rate"):
        parts.append(f"{job['rate']:,.0f} rows/s")
    if job.get("eta_seconds") is not None and job.get("state") == "running":
        parts.append(f"ETA {job['eta_seconds']:,.0f} s")
    return " · ".join(parts)


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    fmt = args.format or SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise Refused(f"cannot tell the format of {path.name}: name it .jsonl, .csv or .xlsx, or pass --format")
    api = Api(args.url, _key(args))
    progress = Progress(sys.stderr)
    started = time.monotonic()
    try:
        file = path.open("rb")
    except OSError as exc:
        raise Refused(f"cannot read {path}: {exc.strerror}") from None
    with file:
        total = os.fstat(file.fileno()).st_size

        def uploaded(sent: int) -> None:
            rate = sent / max(time.monotonic() - started, 1e-6)
            share = f" {sent * 100 // total}%" if total else ""
            progress.show(f"uploading{share} · {_size(sent)} of {_size(total)} · {_size(rate)}/s")

        query = urlencode({"type": args.type, "mode": args.mode})
        headers = {"Content-Type": MEDIA_TYPES[fmt], "Content-Length": str(total)}
        with api.send("POST", f"/v1/imports?{query}", body=_Reading(file, uploaded), headers=headers) as answer:
            job = json.loads(answer.read())
    while job["state"] not in ("done", "failed"):
        progress.show(job_line(job))
        time.sleep(args.poll)  # (a client follows a job by polling it: the API has no push)
        job = api.json(f"/v1/jobs/{job['id']}")
    progress.show(f"{job_line(job)} · {time.monotonic() - started:,.1f} s", final=True)
    if job["rows"]["rejected"]:
        return _rejected(api, job, path)
    if job["state"] == "failed":
        print(f"merch: the import failed: {job.get('error')}", file=sys.stderr)
        return 3
    return 0


def _rejected(api: Api, job: dict[str, Any], path: Path) -> int:
    """Write the report beside the file, show its first lines; exit 1."""
    report = path.with_name(path.name + ".errors.csv")
    with api.send("GET", f"/v1/imports/{job['id']}/errors?format=csv") as answer, report.open("wb") as out:
        while block := answer.read(BLOCK):
            out.write(block)
    applied = "nothing was applied" if job["state"] == "failed" else f"{job['rows']['applied']:,} applied"
    print(f"merch: {job['rows']['rejected']:,} row(s) rejected ({applied}); the report: {report}", file=sys.stderr)
    with report.open(encoding="utf-8-sig") as lines:
        for n, line in enumerate(lines):
            if n > REPORT_LINES:
                print("  …", file=sys.stderr)
                break
            print("  " + line.rstrip("\r\n"), file=sys.stderr)
    return 1


def cmd_export(args: argparse.Namespace) -> int:
    target = Path(args.output) if args.output else None
    fmt = args.format or (SUFFIXES.get(target.suffix.lower()) if target else None) or "jsonl"
    api = Api(args.url, _key(args))
    query = {"type": args.type, "format": fmt} | ({"category": args.category} if args.category else {})
    progress = Progress(sys.stderr)
    started = time.monotonic()
    with api.send("GET", f"/v1/exports?{urlencode(query)}") as answer:
        partial = target.with_name(target.name + ".part") if target else None
        out = partial.open("wb") if partial else sys.stdout.buffer
        written = 0
        try:
            while block := answer.read(BLOCK):
                out.write(block)
                written += len(block)
                rate = written / max(time.monotonic() - started, 1e-6)
                progress.show(f"exporting · {_size(written)} · {_size(rate)}/s")
        except BaseException:
            if partial:
                out.close()
                partial.unlink()
            raise
        if partial and target:
            out.close()
            partial.replace(target)  # the file appears whole, or not at all
        else:
            out.flush()
    where = f" to {target}" if target else ""
    progress.show(f"exported {_size(written)}{where} in {time.monotonic() - started:,.1f} s", final=True)
    return 0


def _key(args: argparse.Namespace) -> str:
    key = args.key or os.environ.get("MERCH_API_KEY")
    if not key:
        raise Refused("no API key: set MERCH_API_KEY or pass --key (`merch keys create --role …` makes one)")
    return str(key)


def run(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return command(args)
    except Refused as exc:
        print(f"merch: {exc}", file=sys.stderr)
        return exc.status


def add_parsers(sub: Any) -> None:
    """The `import` and `export` subcommands of `merch`."""

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--type",
            required=True,
            choices=[
                "products",
                "skus",
                "prices",
                "stock",
                "categories",
                "attributes",
                "attribute_sets",
                "supplier_terms",
            ],
            help="what it holds",
        )
        p.add_argument("--format", choices=sorted(MEDIA_TYPES), help="default: from the file's name")
        p.add_argument(
            "--url",
            default=os.environ.get("MERCH_API_URL", DEFAULT_URL),
            help=f"the API (MERCH_API_URL; default {DEFAULT_URL})",
        )
        p.add_argument("--key", help="an API key (default: MERCH_API_KEY)")

    imp = sub.add_parser("import", help="upload a file to a running API and follow the import to its end")
    imp.add_argument("file")
    common(imp)
    imp.add_argument("--mode", default="all_or_nothing", choices=["all_or_nothing", "valid_rows"])
    imp.add_argument("--poll", type=float, default=0.5, help=argparse.SUPPRESS)
    imp.set_defaults(func=lambda args, settings: run(cmd_import, args))

    exp = sub.add_parser("export", help="download a file from a running API")
    common(exp)
    exp.add_argument("--category", help="only products in this category's subtree (home or placement)")
    exp.add_argument("-o", "--output", help="write here (default: standard output)")
    exp.set_defaults(func=lambda args, settings: run(cmd_export, args))
