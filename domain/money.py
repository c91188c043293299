"""Money: exact decimal amounts with an ISO 4217 currency, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import msgspec

from domain.errors import FieldError, pointer_join

# ISO 4217 currencies in use, with their minor units (decimal places).
CURRENCIES: dict[str, int] = {
    "AED": 2,
    "ARS": 2,
    "AUD": 2,
    "BDT": 2,
    "BGN": 2,
    "BHD": 3,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "COP": 2,
    "CZK": 2,
    "DKK": 2,
    "EGP": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KES": 2,
    "KRW": 0,
    "KWD": 3,
    "KZT": 2,
    "LKR": 2,
    "MAD": 2,
    "MOP": 2,
    "MXN": 2,
    "MYR": 2,
    "NGN": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PEN": 2,
    "PHP": 2,
    "PKR": 2,
    "PLN": 2,
    "QAR": 2,
    "RON": 2,
    "RUB": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TND": 3,
    "TRY": 2,
    "TWD": 2,
    "UAH": 2,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
}
_CENT = Decimal("0.01")
_QUANTA = {code: Decimal(1).scaleb(-places) for code, places in CURRENCIES.items()}  # (made once)

Currency = Annotated[
    str,
    msgspec.Meta(
        pattern="^[A-Z]{3}$",
        description="ISO 4217 code, one of those merchflow knows (another is a 422 `unknown_currency`).",
        examples=["CNY"],
        extra_json_schema={"enum": sorted(CURRENCIES)},
    ),
]
# Every amount the API takes is below 10^12 (twelve digits before the point, six after at most): what the
# money columns hold (numeric(18, 4) and, for unit costs, numeric(18, 6)) — one bound, checked as the body is read.
Amount = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$",
        description="A decimal string (never a float), below 10^12: at most 12 digits before the point, 6 after.",
        examples=["129.00"],
    ),
]


class Money(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An exact amount in a currency."""

    amount: Amount
    currency: Currency


def money_errors(value: Money, pointer: str, *, extra_decimals: int = 0, negative: bool = False) -> list[FieldError]:
    """An unknown currency, a negative amount or more decimals than the currency allows (plus `extra_decimals`,
    e.g. unit costs carry up to four more)."""
    errors: list[FieldError] = []
    minor = CURRENCIES.get(value.currency)
    if minor is None:
        errors.append(
            FieldError(
                pointer=pointer_join(pointer, "currency"),
                code="unknown_currency",
                message=f"{value.currency} is not an ISO 4217 currency merchflow knows.",
            )
        )
    try:
        amount = Decimal(value.amount)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        errors.append(
            FieldError(
                pointer=pointer_join(pointer, "amount"),
                code="invalid_amount",
                message="The amount is not a decimal number.",
            )
        )
        return errors
    if amount < 0 and not negative:
        errors.append(
            FieldError(
                pointer=pointer_join(pointer, "amount"),
                code="negative_amount",
                message="The amount cannot be negative.",
            )
        )
    exponent = amount.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if minor is not None and places > minor + extra_decimals:
        errors.append(
            FieldError(
                pointer=pointer_join(pointer, "amount"),
                code="too_many_decimals",
                message=f"{value.currency} takes at most {minor + extra_decimals} decimal places here.",
            )
        )
    return errors


def quantum(currency: str | None) -> Decimal:
    """One minor unit of the currency (`0.01` for CNY, `1` for JPY; two places for one not known)."""
    return _QUANTA.get(currency or "", _CENT)


def in_currency(amount: Decimal, currency: str) -> Decimal:
    """An amount in the currency's own precision (`Decimal("109.0000")` → `109.00` for CNY, `1990` for JPY), or
    more, when the amount has more (nothing is rounded away). merch_money (sql/functions/storefront.sql) is the
    same rule for the documents the database writes."""
    unit = quantum(currency)
    return amount.quantize(unit) if amount == amount.quantize(unit) else amount.normalize()


def money(amount: Decimal, currency: str) -> Money:
    """A Money in the currency's own precision (or more, when the amount has more)."""
    return Money(amount=format(in_currency(amount, currency), "f"), currency=currency)
