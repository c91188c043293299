"""Per-key rate limits: a token bucket per API key, in each worker process.

A key's bucket holds up to `burst` tokens and refills at `rate` tokens a second; a request takes one, and a
request that finds less than one is answered 429 `too-many-requests` with `Retry-After` (whole seconds,
rounded up, until a token is there) and takes nothing. The rate is MERCH_RATE_LIMIT / MERCH_RATE_LIMIT_BURST,
or the role's of MERCH_RATE_LIMIT_ROLES (the most generous of the key's roles; rate 0: no limit — admin by
default). Buckets are per worker process: with MERCH_WORKERS=N a key may reach up to N times its rate.

Every answer to a limited key says where it stands (draft-ietf-httpapi-ratelimit-headers-10):
`RateLimit-Policy: "per-key";q=<burst>;w=<seconds to refill>` and `RateLimit: "per-key";r=<tokens left>;t=<seconds
until full>`. The check runs once the key is known: in the framework's auth middleware, or in a fast lane (which
leaves a refusal to the framework's route, and marks an admitted request so that the route does not count it again).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.exceptions import HTTPException

from api.edge import RATE_LIMIT
from domain.keys.model import Principal

ADMITTED = "merch.rate_admitted"  # scope key: this request took its token already


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: int

    @property
    def policy(self) -> bytes:
        """The `RateLimit-Policy` header of this rate: its quota, and the seconds it takes to refill."""
        return f'"per-key";q={self.burst};w={math.ceil(self.burst / self.per_second)}'.encode()


class TooManyRequests(HTTPException):
    status_code = 429


class RateLimiter:
    """Token buckets by key name; `clock` is injectable (tests drive it by hand)."""

    def __init__(
        self,
        default: Rate | None,
        roles: dict[str, Rate | None],
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.default = default
        self.roles = roles
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, list[float]] = {}  # key name → [tokens, when counted]
        self._rates: dict[frozenset[str], tuple[Rate, bytes] | None] = {}  # (with the rate's policy header)

    @classmethod
    def from_settings(cls, settings: Any, clock: Callable[[], float] = time.monotonic) -> RateLimiter:
        def rate(per_second: float, burst: int) -> Rate | None:
            return Rate(per_second, burst) if per_second > 0 else None

        return cls(
            rate(settings.rate_limit, settings.rate_limit_burst),
            {role: rate(*pair) for role, pair in settings.role_rates.items()},
            clock,
        )

    def rate_of(self, roles: frozenset[str]) -> Rate | None:
        """The most generous rate of the roles (None: no limit)."""
        found = self._rate(roles)
        return None if found is None else found[0]

    def _rate(self, roles: frozenset[str]) -> tuple[Rate, bytes] | None:
        if roles in self._rates:
            return self._rates[roles]
        rates = [self.roles[role] if role in self.roles else self.default for role in roles]
        best = None if not rates or None in rates else max(rates, key=lambda r: (r.per_second, r.burst))  # type: ignore[union-attr]
        self._rates[roles] = None if best is None else (best, best.policy)
        return self._rates[roles]

    def take(self, scope: Any, principal: Principal) -> None:
        """Take a token of the key's bucket for this request, or raise TooManyRequests (429) taking none."""
        if scope.get(ADMITTED):
            return
        found = self._rate(principal.roles)
        if found is None:
            return
        rate, policy = found
        now = self.clock()
        bucket = self._buckets.get(principal.name)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._buckets.clear()  # (more keys than any deployment has: forget them all, each starts full)
            bucket = self._buckets[principal.name] = [float(rate.burst), now]
        tokens = bucket[0] + (now - bucket[1]) * rate.per_second
        if tokens > rate.burst:
            tokens = float(rate.burst)
        bucket[1] = now
        admitted = tokens >= 1.0
        if admitted:
            tokens -= 1.0
        bucket[0] = tokens
        full_in = math.ceil((rate.burst - tokens) / rate.per_second)
        scope[RATE_LIMIT] = (policy, b'"per-key";r=%d;t=%d' % (tokens, full_in))
        if admitted:
            scope[ADMITTED] = True
            return
        retry_after = max(1, math.ceil((1.0 - tokens) / rate.per_second))
        raise TooManyRequests(
            detail=f"The key {principal.name!r} may send {rate.per_second:g} requests a second (bursts of "
            f"{rate.burst}); try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
