"""Sales facts: uploads checked row by row (every bad row named at once), applied all or nothing as one
set-based upsert by (day, SKU, channel) (the refresh point moves the monthly rollup and the per-SKU totals
before the transaction commits), idempotent under an Idempotency-Key; and their keyset listing."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.errors import BadRequest, FieldError, RuleViolation, ValidationFailed, param_error, pointer_join
from domain.keys.model import Principal
from domain.money import money, money_errors
from domain.paging import decode_cursor, split_page
from domain.sales.model import MAX_FACTS, SalesFact, SalesFactRow, SalesResult
from domain.sql import load
from domain.types import Page
from domain.validation import collect

Q = load("sales")
JSONL_MEDIA_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/x-jsonlines"})
# sales_facts.revenue is numeric(18, 4): at most 14 digits before the point.
MAX_REVENUE = Decimal(10) ** 14


def _latest_day() -> date:
    # A day is "in the future" only once it has not begun anywhere on Earth (UTC+14 is the earliest zone).
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def _row(value: Any, base: str, latest: date, errors: list[FieldError]) -> SalesFact | None:
    """One fact checked on its own: its shape (strictly: a float revenue or a string qty is refused), then
    the money rules and the day."""
    try:
        fact = msgspec.convert(value, SalesFact)
    except msgspec.ValidationError as exc:
        found = collect(value, SalesFact, base)
        errors += found or [FieldError(pointer=base, code="wrong_type", message=str(exc).split(" - at ")[0] + ".")]
        return None
    found = money_errors(fact.revenue, pointer_join(base, "revenue"))
    if not found and abs(Decimal(fact.revenue.amount)) >= MAX_REVENUE:
        found.append(
            FieldError(
                pointer=pointer_join(base, "revenue", "amount"), code="out_of_range", message="The amount is too large."
            )
        )
    if fact.day > latest:
        found.append(
            FieldError(pointer=pointer_join(base, "day"), code="future_day", message=f"{fact.day} has not begun yet.")
        )
    errors += found
    return None if found else fact


def _json_rows(raw: bytes) -> tuple[list[tuple[str, Any]], list[FieldError]]:
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise BadRequest("The request body is not valid JSON.", code="malformed-json", title="Malformed JSON") from None
    if not isinstance(doc, dict):
        raise ValidationFailed([FieldError(pointer="", code="wrong_type", message="The body is a JSON object.")])
    errors = [
        FieldError(pointer=pointer_join("", k), code="unknown_field", message=f"`{k}` is not a field here.")
        for k in doc
        if k != "facts"
    ]
    facts: Any = doc.get("facts")
    if facts is None:
        errors.append(FieldError(pointer="/facts", code="required", message="`facts` is required."))
    elif not isinstance(facts, list):
        errors.append(FieldError(pointer="/facts", code="wrong_type", message="`facts` is a list of facts."))
    if errors:
        raise ValidationFailed(errors)
    return [(f"/facts/{i}", fact) for i, fact in enumerate(facts)], []


def _jsonl_rows(raw: bytes) -> tuple[list[tuple[str, Any]], list[FieldError]]:
    rows: list[tuple[str, Any]] = []
    errors: list[FieldError] = []
    for i, line in enumerate(raw.split(b"\n")):
        if not line.strip():
            continue  # blank lines (a trailing newline) carry nothing, but keep their number
        try:
            rows.append((f"/lines/{i}", msgspec.json.decode(line)))
        except msgspec.DecodeError:
            errors.append(
                FieldError(pointer=f"/lines/{i}", code="malformed_json", message=f"Line {i} is not valid JSON.")
            )
    return rows, errors


def parse_upload(raw: bytes, media_type: str) -> list[tuple[str, SalesFact]]:
    """The facts of a JSON or JSONL upload with their pointers, each checked; every bad row is named in one 422."""
    jsonl = media_type.lower() in JSONL_MEDIA_TYPES
    rows, errors = _jsonl_rows(raw) if jsonl else _json_rows(raw)
    where = "/lines" if jsonl else "/facts"
    if not rows and not errors:
        raise ValidationFailed([FieldError(pointer=where, code="too_short", message="No facts.")])
    if len(rows) + len(errors) > MAX_FACTS:
        raise ValidationFailed(
            [FieldError(pointer=where, code="too_long", message=f"At most {MAX_FACTS:,} facts per request.")]
        )
    latest = _latest_day()
    facts: list[tuple[str, SalesFact]] = []
    seen: dict[tuple[date, str, str], str] = {}
    for base, value in rows:
        fact = _row(value, base, latest, errors)
        if fact is None:
            continue
        key = (fact.day, fact.sku, fact.channel)
        if key in seen:
            errors.append(
                FieldError(
                    pointer=pointer_join(base, "day"),
                    code="duplicate",
                    message=f"{base} repeats the day, SKU and channel of {seen[key]}.",
                )
            )
            continue
        seen[key] = base
        facts.append((base, fact))
    if errors:
        raise ValidationFailed(sorted(errors, key=_order))
    return facts


def _order(e: FieldError) -> tuple[int, str]:
    parts = (e.pointer or "").split("/")
    return (int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else -1, e.pointer or "")


def _fingerprint(facts: list[SalesFact]) -> bytes:
    return hashlib.sha256(msgspec.json.encode(facts)).digest()


async def post_sales(
    conn: asyncpg.Connection, actor: Principal, raw: bytes, media_type: str, idempotency_key: str | None
) -> SalesResult:
    """Upsert daily facts all or nothing; a retry with the same Idempotency-Key and body gets the first answer."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise BadRequest("An Idempotency-Key has 1 to 200 characters.", code="invalid-idempotency-key")
    located = parse_upload(raw, media_type)
    facts = [f for _, f in located]
    fingerprint = _fingerprint(facts)
    async with conn.transaction():
        if idempotency_key is not None:
            await conn.execute(Q.lock_sales_request.sql, actor.name, idempotency_key)
            prior = await conn.fetchrow(Q.get_sales_request.sql, actor.name, idempotency_key)
            if prior is not None:
                if prior["request_hash"] != fingerprint:
                    raise RuleViolation(
                        "This Idempotency-Key was used with another body; use a new key for a new request.",
                        code="idempotency-key-reused",
                    )
                return msgspec.convert(prior["response"], SalesResult)
        ids = {r["sku"]: r["id"] for r in await conn.fetch(Q.list_sku_ids.sql, sorted({f.sku for f in facts}))}
        unknown = [
            FieldError(pointer=f"{base}/sku", code="unknown_sku", message=f"No SKU is {f.sku}.")
            for base, f in located
            if f.sku not in ids
        ]
        if unknown:
            raise ValidationFailed(unknown)
        days, sku_ids = [f.day for f in facts], [ids[f.sku] for f in facts]
        row = await conn.fetchrow(
            Q.upsert_sales_facts.sql,
            days,
            sku_ids,
            [f.channel for f in facts],
            [f.qty for f in facts],
            [Decimal(f.revenue.amount) for f in facts],
            [f.revenue.currency for f in facts],
        )
        result = msgspec.convert(dict(row), SalesResult)
        if idempotency_key is not None:
            await conn.execute(
                Q.insert_sales_request.sql, actor.name, idempotency_key, fingerprint, msgspec.to_builtins(result)
            )
        return result


async def list_sales(
    conn: asyncpg.Connection,
    *,
    sku: str | None,
    channel: str | None,
    since: date | None,
    until: date | None,
    limit: int,
    cursor: str | None,
) -> Page[SalesFactRow]:
    """Facts in (day, SKU, channel) order, one keyset page at a time."""
    after = decode_cursor(cursor, (str, str, str))
    try:
        a = [date.fromisoformat(after[0]), after[1], after[2]] if after else [None, None, None]
    except ValueError:
        raise param_error("cursor", "invalid_cursor", "The cursor is not one this list handed out.") from None
    rows = await conn.fetch(Q.list_sales_facts.sql, sku, channel, since, until, *a, limit + 1)
    items = [
        SalesFactRow(
            day=r["day"],
            sku=r["sku"],
            channel=r["channel"],
            qty=r["qty"],
            revenue=money(r["revenue"], r["currency"]),
            updated_at=r["updated_at"],
        )
        for r in rows
    ]
    page, next_cursor = split_page(items, limit, lambda f: [f.day.isoformat(), f.sku, f.channel])
    return Page(items=page, next_cursor=next_cursor)
