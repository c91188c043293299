"""The scale catalog's import files (domain/seed/catalog.py): one JSON Lines file per import type, named in the
order they load (`4-products.jsonl`), written a row at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec

from domain.seed.catalog import KINDS, Catalog


def file_name(position: int, kind: str) -> str:
    return f"{position + 1}-{kind}.jsonl"


def write_files(catalog: Catalog, folder: Path, skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, Path, int]]:
    """Write each file of the catalog (but those of the types in `skip`) into `folder`, a row at a time; yields
    (kind, path, rows) as each is done."""
    encoder = msgspec.json.Encoder()
    buffer = bytearray()
    for position, kind in enumerate(KINDS):
        if kind in skip:
            continue
        path = folder / file_name(position, kind)
        count = 0
        with path.open("wb") as out:
            for row in catalog.rows(kind):
                encoder.encode_into(row, buffer)
                buffer.extend(b"\n")
                out.write(buffer)
                count += 1
        yield kind, path, count
