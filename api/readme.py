"""The README's generated sections (the role table, the list of problems): each between its markers
`<!-- name:start -->` and `<!-- name:end -->`, rewritten by `make openapi`; tests fail when one drifts."""

from __future__ import annotations


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"


def section(text: str, name: str) -> str:
    """What stands between a section's markers."""
    start, end = markers(name)
    return text.partition(start)[2].partition(end)[0]


def update_section(path: str, name: str, content: str) -> None:
    """Replace what stands between a section's markers in the file."""
    start, end = markers(name)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if start not in text or end not in text:
        raise SystemExit(f"{path} has no {start.strip()} … {end} markers")
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + start + content + end + tail)
