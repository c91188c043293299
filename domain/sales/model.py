"""Sales facts: the upload body, its answer and the listed facts; how an upload (JSON or JSONL) is read and
checked row by row; what a removal takes and answers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import msgspec

from domain.errors import FieldError, MalformedJson, ValidationFailed, param_error, pointer_join
from domain.money import Money, money_errors
from domain.types import CODE_PATTERN, Code, SkuCode
from domain.validation import collect

MAX_FACTS = 10_000
JSONL_MEDIA_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/x-jsonlines"})
# sales_facts.revenue is numeric(18, 4): at most 14 digits before the point.

Qty = Annotated[int, msgspec.Meta(ge=0, le=2_000_000_000, description="Units sold that day (0 or more).")]


class SalesFact(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One day's sales of one SKU in one channel."""

    # (from EARLIEST_DAY, 2000-01-01, on: the pattern says so to a client; _row checks it)
    day: Annotated[date, msgspec.Meta(extra_json_schema={"pattern": "^[2-9][0-9]{3}-"})]
    sku: SkuCode
    channel: Annotated[Code, msgspec.Meta(examples=["web", "distribution"])]
    qty: Qty
    revenue: Money


class SalesUpload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/sales (JSON form)."""

    facts: Annotated[list[SalesFact], msgspec.Meta(min_length=1, max_length=MAX_FACTS)]


class SalesResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an upload did: facts accepted, new (day, SKU, channel) rows, and rows it replaced."""

    accepted: int
    inserted: int
    replaced: int


class SalesFactRow(msgspec.Struct, frozen=True, kw_only=True):
    """A stored sales fact."""

    day: date
    sku: str
    channel: str
    qty: int
    revenue: Money
    updated_at: datetime


class SalesFactPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of sales facts."""

    items: list[SalesFactRow]
    next_cursor: str | None


class SalesRemoval(msgspec.Struct, frozen=True, kw_only=True):
    """What a removal did: facts removed, of how many SKUs, and their units and revenue (per currency)."""

    removed: int
    skus: int
    qty: int
    revenue: list[Money]


class RemovedFact(msgspec.Struct, frozen=True, kw_only=True):
    """A removed fact as the audit trail keeps it (under its SKU's code)."""

    day: date
    channel: str
    qty: int
    revenue: Money


class RemovalScope(msgspec.Struct, frozen=True, kw_only=True):
    """Which facts a removal takes — days `since`..`until` (inclusive), optionally one SKU and one channel —
    and why."""

    since: date
    until: date
    sku: str | None
    channel: str | None
    reason: str


class StoredRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The first answer to an upload or a removal under an Idempotency-Key, with the hash of its request."""

    request_hash: bytes
    response: dict[str, Any]


MAX_REASON = 500
_CODE = re.compile(CODE_PATTERN)


def days_of(day: date | None, since: date | None, until: date | None) -> tuple[date | None, date | None]:
    """The day range of `day` or `from`/`to` (the two forms are exclusive; `to` before `from` is a 400, and so
    is a day before EARLIEST_DAY: no sale is kept before it)."""
    if day is not None:
        if since is not None or until is not None:
            which = "from" if since is not None else "to"
            raise param_error(which, "conflicting", "Send `day` for one day, or `from` and `to` for a range: not both.")
        since = until = day
    for name, value in (("day" if day is not None else "from", since), ("to", until)):
        if value is not None and value < EARLIEST_DAY:
            raise param_error(
                name, "before_first_day", f"{value} is before {EARLIEST_DAY}: no sale is kept before that day."
            )
    if day is not None:
        return day, day
    if since is not None and until is not None and until < since:
        raise param_error("to", "before_from", f"`to` ({until}) is before `from` ({since}).")
    return since, until


def removal_scope(
    *,
    day: date | None,
    since: date | None,
    until: date | None,
    sku: str | None,
    channel: str | None,
    reason: str | None,
) -> RemovalScope:
    """The facts a removal names, checked: its days are required (`day`, or both `from` and `to`: nothing
    is removed without them), a channel is a code, a reason is given; each problem is a 400 naming the
    parameter."""
    first, last = days_of(day, since, until)
    if first is None or last is None:
        missing = "day" if since is None and until is None else ("from" if since is None else "to")
        raise param_error(
            missing,
            "required",
            "A removal names its days: `day`, or both `from` and `to` (no removal without them).",
        )
    if channel is not None and not _CODE.match(channel):
        raise param_error("channel", "invalid_format", f"{channel!r} is not a channel code.")
    if reason is None or not reason.strip():
        raise param_error("reason", "required", "A removal says why: `reason` is kept in the audit trail.")
    if len(reason) > MAX_REASON:
        raise param_error("reason", "too_long", f"`reason` has at most {MAX_REASON} characters.")
    return RemovalScope(since=first, until=last, sku=sku, channel=channel, reason=reason.strip())


# Business days are from this one on: an earlier date is a typo (year 1 stored as `-infinity` in monthly
# rollups and broke every report of the whole tree) and is refused.
EARLIEST_DAY = date(2000, 1, 1)


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
    if fact.day > latest:
        found.append(
            FieldError(pointer=pointer_join(base, "day"), code="future_day", message=f"{fact.day} has not begun yet.")
        )
    elif fact.day < EARLIEST_DAY:
        found.append(
            FieldError(
                pointer=pointer_join(base, "day"),
                code="too_early",
                message=f"{fact.day} is before {EARLIEST_DAY}, the first business day merchflow takes.",
            )
        )
    errors += found
    return None if found else fact


def _json_rows(raw: bytes) -> tuple[list[tuple[str, Any]], list[FieldError]]:
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise MalformedJson() from None
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
