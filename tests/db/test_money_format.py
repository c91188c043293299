"""Money is written one way whether the API (domain/money.py) or the database (the storefront's stored pages,
the service lookup: merch_money) writes it: a money object, its amount in the currency's own decimals, more only
when the amount has more."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import msgspec

from domain.money import CURRENCIES, Money, money


async def test_the_database_knows_every_currencys_decimals_as_the_api_does(conn: asyncpg.Connection) -> None:
    codes = sorted(CURRENCIES)
    stored = await conn.fetch("SELECT c, merch_currency_decimals(c) AS d FROM unnest($1::text[]) c", codes)
    assert {r["c"]: r["d"] for r in stored} == CURRENCIES


async def test_an_amount_is_written_by_the_database_as_the_api_writes_it(conn: asyncpg.Connection) -> None:
    amounts = ["109.0000", "109.5000", "0.0000", "1990.0000", "12.3450", "12.3456", "999999999999.0000", "-3.1000"]
    for currency in ("CNY", "JPY", "KWD", "USD"):
        for amount in amounts:
            written = await conn.fetchval("SELECT merch_money($1::numeric(18, 4), $2)::text", Decimal(amount), currency)
            # the same object, and nothing else in it (Money forbids unknown fields)
            assert msgspec.json.decode(written, type=Money) == money(Decimal(amount), currency), (amount, currency)
    assert await conn.fetchval("SELECT merch_money(NULL, 'CNY')") is None
    # the shop's figures as a shopper reads them
    examples = {("109.0000", "CNY"): "109.00", ("1990.0000", "JPY"): "1990", ("12.3456", "CNY"): "12.3456"}
    for (amount, currency), shown in examples.items():
        written = await conn.fetchval("SELECT merch_money($1::numeric, $2)", Decimal(amount), currency)
        assert written == {"amount": shown, "currency": currency}
