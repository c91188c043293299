"""The README's walkthroughs, read as tests: every ```sh block that calls curl, split into shell commands, each
with the answer the README shows for it.

The convention (also described in the README's Development section):

- A block is run command by command, in README order, in one shell for the whole README (a variable set in one
  block is there in the next). A command is a shell line, with its continuation lines (a trailing backslash, or
  a quoted body left open).
- A comment line that starts with `→` (`#   → …`), with the comment lines below it that are indented further,
  shows the answer of the command above it: an optional status (`201`), optional headers (`Name: value`, two
  spaces or a new line between them), then the body: JSON, or text. Without a status, any 2xx or 3xx will do;
  a command with no `→` at all must answer 2xx or 3xx.
- In the JSON, `…` stands for what is left out: a member `…` of an object allows members not shown (without it
  the object has exactly the members shown); an item `…` of a list any number of items there (without one, the
  list has exactly the items shown); `"…"` any value; `…` inside a string any text there (`"a9686b4f…"`).
  Numbers are compared as numbers, everything else exactly. Text bodies and header values are patterns too.
- Other comments are prose and not checked; an answer belongs on a `→` line, so a comment at the end of a
  command that looks like one (starting with `{`, `[` or a status) is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

ELLIPSIS = "…"
FENCE = re.compile(r"^```(\w*)\s*$")
HEADING = re.compile(r"^(#{2,3}) (.+)$")
ARROW = re.compile(r"^#(\s*)→\s?(.*)$")
STATUS = re.compile(r"^([1-5]\d\d)(?:\s+|$)")
HEADER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.*)$")


class ReadmeError(Exception):
    """The README breaks the walkthrough convention (named with its line)."""


@dataclass
class Expectation:
    line: int
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""  # the body pattern as written (JSON with `…`, or text); empty: not checked


@dataclass
class Command:
    line: int
    text: str
    expect: Expectation | None = None


@dataclass
class Block:
    line: int
    section: str
    commands: list[Command]

    @property
    def name(self) -> str:
        return f"README.md:{self.line} ({self.section})"


def blocks(readme: str) -> list[Block]:
    """Every sh block of the README that calls curl, with its commands and their expected answers."""
    found: list[Block] = []
    section = ""
    lines = readme.splitlines()
    i = 0
    while i < len(lines):
        heading = HEADING.match(lines[i])
        if heading:
            section = heading.group(2)
        fence = FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if fence.group(1) == "sh" and any("curl " in line for line in lines[start:end]):
            found.append(Block(start, section, commands(lines[start:end], first=start + 1)))
        i = end + 1
    return found


def commands(lines: list[str], *, first: int) -> list[Command]:
    """The commands of a block's lines (`first`: the README line number of the first one)."""
    result: list[Command] = []
    pending: list[str] = []
    arrow: tuple[int, int, list[str]] | None = None  # (line, indent, texts) of the `→` being read
    for n, line in enumerate(lines, start=first):
        if pending:
            pending.append(line)
            if _complete("\n".join(pending)):
                result.append(_command(n - len(pending) + 1, "\n".join(pending)))
                pending = []
            continue
        stripped = line.strip()
        if arrow is not None:
            indent = len(line) - len(line.lstrip("# ")) if stripped.startswith("#") else 0
            if stripped.startswith("#") and not ARROW.match(stripped) and indent > arrow[1]:
                arrow[2].append(stripped[1:].strip())
                continue
            _attach(result, arrow)
            arrow = None
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = ARROW.match(stripped)
            if m:
                if not result:
                    raise ReadmeError(f"README.md:{n}: an answer (→) before any command")
                arrow = (n, len(line) - len(line.lstrip()) + 1 + len(m.group(1)), [m.group(2)])
            continue
        if line.startswith(" "):
            raise ReadmeError(f"README.md:{n}: an indented line outside a command: {line!r}")
        pending = [line]
        if _complete(line):
            result.append(_command(n, line))
            pending = []
    if pending:
        raise ReadmeError(f"README.md:{first + len(lines) - len(pending)}: a command that never ends")
    if arrow is not None:
        _attach(result, arrow)
    return result


def _scan(text: str) -> tuple[str, int]:
    """A command's text read as the shell quotes it: the quote left open at its end ('' for none), and where
    its comment starts (a `#` beginning a word outside quotes; len(text) for none)."""
    quote = ""
    escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            return "", i
    return quote, len(text)


def _complete(text: str) -> bool:
    """Whether a command's text is whole: no quote left open, no trailing backslash."""
    return not text.rstrip().endswith("\\") and not _scan(text)[0]


def _inline_comment(text: str) -> str:
    """The comment at the end of a command's last line (outside quotes), or ''."""
    return text[_scan(text)[1] + 1 :].strip()


def _command(line: int, text: str) -> Command:
    comment = _inline_comment(text)
    if comment.startswith(("{", "[")) or STATUS.match(comment):
        raise ReadmeError(f"README.md:{line}: an answer in a comment at the end of a command; write it on a → line")
    return Command(line, text)


def _attach(result: list[Command], arrow: tuple[int, int, list[str]]) -> None:
    line, _indent, texts = arrow
    command = result[-1]
    if command.expect is not None:
        raise ReadmeError(f"README.md:{line}: a second answer (→) for the command of line {command.line}")
    command.expect = expectation(line, texts)


def expectation(line: int, texts: list[str]) -> Expectation:
    """An answer as the README shows it: `[status] [Header: value]… [body]`."""
    expect = Expectation(line)
    text = "\n".join(texts).strip()
    status = STATUS.match(text)
    if status:
        expect.status = int(status.group(1))
        text = text[status.end() :].strip()
    while text and text[0] not in "{[":
        first, _, rest = text.partition("\n")
        segments = re.split(r"\s{2,}", first.strip())
        headers = [HEADER.match(s) for s in segments]
        if not all(headers):
            break  # a text body
        expect.headers += [(h.group(1), h.group(2)) for h in headers if h]
        text = rest.strip()
    expect.body = text
    if text.startswith(("{", "[")):
        pattern(text, line)  # refuse a malformed pattern when the README is read, not when it runs
    return expect


def pattern(text: str, line: int = 0) -> Any:
    """A JSON pattern as a value: a bare `…` member of an object becomes the key `…`, a bare `…` elsewhere the
    string `…`."""
    out: list[str] = []
    stack: list[str] = []
    in_string = False
    escaped = False
    previous = ""  # the last significant character outside strings
    for ch in text:
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                previous = '"'
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
        if ch == ELLIPSIS:
            out.append('"…": "…"' if stack and stack[-1] == "{" and previous in "{," else '"…"')
            previous = '"'
            continue
        out.append(ch)
        if not ch.isspace():
            previous = ch
    try:
        return json.loads("".join(out))
    except json.JSONDecodeError as exc:
        raise ReadmeError(f"README.md:{line}: the answer is not JSON with … for what is left out: {exc}") from exc


def glob(expected: str, actual: str) -> bool:
    """A text pattern: `…` stands for any text."""
    parts = [re.escape(p) for p in expected.split(ELLIPSIS)]
    return re.fullmatch(".*".join(parts), actual, re.S) is not None


def mismatches(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Where an answer differs from the README's pattern (empty: it matches)."""
    here = where or "the body"
    if expected == ELLIPSIS:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{here}: expected an object, got {_short(actual)}"]
        found: list[str] = []
        for key, value in expected.items():
            if key == ELLIPSIS:
                continue
            if key not in actual:
                found.append(f"{where}/{key}: missing")
            else:
                found += mismatches(value, actual[key], f"{where}/{key}")
        if ELLIPSIS not in expected:
            extra = sorted(set(actual) - set(expected))
            if extra:
                found.append(f"{here}: members not shown (add …): {', '.join(extra)}")
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{here}: expected a list, got {_short(actual)}"]
        return _list_mismatches(expected, actual, where)
    if isinstance(expected, str):
        if isinstance(actual, str) and glob(expected, actual):
            return []
        return [f"{here}: expected {json.dumps(expected, ensure_ascii=False)}, got {_short(actual)}"]
    if isinstance(expected, bool) or expected is None or isinstance(actual, bool):
        return [] if expected is actual else [f"{here}: expected {json.dumps(expected)}, got {_short(actual)}"]
    if isinstance(expected, int | float) and isinstance(actual, int | float) and expected == actual:
        return []
    return [f"{here}: expected {json.dumps(expected)}, got {_short(actual)}"]


def _list_mismatches(expected: list[Any], actual: list[Any], where: str, at: int = 0) -> list[str]:
    """Items in order; a `…` item matches any run of items (as few as lets the rest match)."""
    here = where or "the body"
    if not expected:
        return [] if not actual else [f"{here}: {len(actual)} items from [{at}] not shown (add …)"]
    head, rest = expected[0], expected[1:]
    if head == ELLIPSIS:
        for skip in range(len(actual) + 1):
            if not _list_mismatches(rest, actual[skip:], where, at + skip):
                return []
        return [f"{here}: no items from [{at}] on match {_short(rest)}: {_short(actual)}"]
    if not actual:
        return [f"{here}: fewer items than shown; [{at}] would be {_short(head)}"]
    first = mismatches(head, actual[0], f"{where}[{at}]")
    if first:
        return first
    return _list_mismatches(rest, actual[1:], where, at + 1)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 300 else text[:297] + "…"
