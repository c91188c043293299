"""Price history for tests: a period that starts in the past is written the one way the API allows — a
correction, with a reason — and ends up as a price recorded at the time would have left it."""

from __future__ import annotations

import httpx


async def history(
    api: httpx.AsyncClient,
    sku: str,
    kind: str,
    amount: str,
    valid_from: str,
    valid_to: str | None = None,
    currency: str = "CNY",
) -> None:
    """The SKU's `kind` price is `amount` from `valid_from` (to `valid_to`, else from then on)."""
    body = {
        "kind": kind,
        "amount": amount,
        "currency": currency,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "reason": "history before the test",
    }
    r = await api.post(f"/v1/skus/{sku}/prices/corrections", json=body)
    assert r.status_code == 201, r.text
