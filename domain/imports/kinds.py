"""What differs between import types beyond their `TypeSpec`: what checks a type's rows as an upload streams in,
and — for the types whose rows are applied one by one through their API's own use case — how a chunk of them
is applied."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import asyncpg

from domain.imports import attribute_sets, attributes, categories, counts, prices, rows, skus, supplier_terms
from domain.imports.model import ImportRun, ImportType, RowError, RowFault
from domain.keys.model import Principal


class Header(Protocol):
    @property
    def width(self) -> int: ...


H = TypeVar("H", bound=Header)


class Checker(Protocol[H]):
    """What checks the rows of one type (SKUs, prices, …): a JSON Lines row, a CSV header, a CSV record."""

    async def jsonl(self, line: int, raw: bytes) -> tuple[rows.Staged, list[RowFault]]: ...
    def header(self, cells: list[str]) -> H: ...
    async def csv(self, header: H, line: int, cells: list[str]) -> tuple[rows.Staged, list[RowFault]]: ...


async def checker(conn: asyncpg.Connection, actor: Principal, kind: ImportType) -> Checker[Any]:
    """What checks the rows of a type other than products (what it reads of the catalog read once)."""
    if kind == "skus":
        return await skus.SkuRows.load(conn)
    if kind == "prices":
        return prices.PriceRows(actor)
    if kind == "stock":
        return counts.CountRows()
    if kind == "categories":
        return await categories.CategoryRows.load(conn)
    if kind == "attributes":
        return await attributes.AttributeRows.load(conn)
    if kind == "attribute_sets":
        return await attribute_sets.AttributeSetRows.load(conn)
    return await supplier_terms.TermsRows.load(conn)


Apply = Callable[[asyncpg.Connection, ImportRun, int, int], Awaitable[tuple[int, int, list[RowError]]]]

# Types whose rows are applied one by one through their API's own use case (few rows; rules of a tree or a
# list that a set-based statement would have to copy): categories, attributes, attribute sets, supplier terms.
THROUGH_API: dict[str, Apply] = {
    "categories": categories.apply,
    "attributes": attributes.apply,
    "attribute_sets": attribute_sets.apply,
    "supplier_terms": supplier_terms.apply,
}
