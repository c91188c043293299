"""Process settings, read from the environment (and a `.env` file in development)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.pgconf import check_shared_buffers
from domain.keys.model import ROLES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))
    data_dir: Path = Field(default=Path(".merchflow"), validation_alias=AliasChoices("MERCH_DATA_DIR"))
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("MERCH_HOST"))
    port: int = Field(default=8000, ge=1, le=65535, validation_alias=AliasChoices("MERCH_PORT"))
    workers: int = Field(default=1, ge=1, le=64, validation_alias=AliasChoices("MERCH_WORKERS"))
    log_level: str = Field(default="info", validation_alias=AliasChoices("MERCH_LOG_LEVEL"))
    # json: one JSON object a line (access lines carry the request's fields); text: for a person at a terminal
    log_format: Literal["json", "text"] = Field(default="json", validation_alias=AliasChoices("MERCH_LOG_FORMAT"))
    db_pool_max: int = Field(default=16, ge=1, le=500, validation_alias=AliasChoices("MERCH_DB_POOL_MAX"))
    db_connection_queries: int = Field(
        default=10_000, ge=1, validation_alias=AliasChoices("MERCH_DB_CONNECTION_QUERIES")
    )
    statement_timeout_ms: int = Field(default=30_000, ge=0, validation_alias=AliasChoices("MERCH_STATEMENT_TIMEOUT_MS"))
    key_cache_seconds: float = Field(
        default=5.0, ge=0, le=3600, validation_alias=AliasChoices("MERCH_KEY_CACHE_SECONDS")
    )
    stock_batches: int = Field(default=2, ge=1, le=64, validation_alias=AliasChoices("MERCH_STOCK_BATCHES"))
    stock_batch_requests: int = Field(
        default=32, ge=1, le=64, validation_alias=AliasChoices("MERCH_STOCK_BATCH_REQUESTS")
    )
    job_workers: int = Field(default=2, ge=1, le=16, validation_alias=AliasChoices("MERCH_JOB_WORKERS"))
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, validation_alias=AliasChoices("MERCH_MAX_BODY_BYTES")
    )
    # A request whose header block (names, values, `: ` and CRLF of each) is larger: a 431 problem.
    max_header_bytes: int = Field(
        default=16 * 1024, ge=1024, le=1024 * 1024, validation_alias=AliasChoices("MERCH_MAX_HEADER_BYTES")
    )
    # Requests per second per API key, in each worker process (0: no limit), and the bucket (burst) size.
    rate_limit: float = Field(default=100.0, ge=0, le=1_000_000, validation_alias=AliasChoices("MERCH_RATE_LIMIT"))
    rate_limit_burst: int = Field(
        default=200, ge=1, le=10_000_000, validation_alias=AliasChoices("MERCH_RATE_LIMIT_BURST")
    )
    # Per role: `role:rate[:burst]`, comma-separated (rate 0: no limit; burst defaults to twice the rate). A key
    # of several roles gets the most generous of theirs.
    rate_limit_roles: str = Field(
        default="admin:0,storefront:1000:2000", max_length=1000, validation_alias=AliasChoices("MERCH_RATE_LIMIT_ROLES")
    )
    # On SIGTERM, requests in flight get this long to finish before they are cancelled.
    shutdown_seconds: int = Field(default=20, ge=0, le=3600, validation_alias=AliasChoices("MERCH_SHUTDOWN_SECONDS"))
    # Streaming replicas that serve the storefront, service lookups, reports, exports and the change feed,
    # comma-separated PostgreSQL URLs; empty: every read on the primary.
    read_database_urls: str = Field(default="", validation_alias=AliasChoices("MERCH_READ_DATABASE_URLS"))
    # A replica further behind the primary than this is left out until it catches up.
    max_replica_lag_ms: int = Field(
        default=1000, ge=0, le=3_600_000, validation_alias=AliasChoices("MERCH_MAX_REPLICA_LAG_MS")
    )
    # How long a read with a consistency token waits for a replica to replay that far before the primary serves it.
    consistency_wait_ms: int = Field(
        default=200, ge=0, le=10_000, validation_alias=AliasChoices("MERCH_CONSISTENCY_WAIT_MS")
    )
    # The embedded PostgreSQL's shared_buffers (no effect with DATABASE_URL): `auto` is a quarter of the memory it
    # may use (its container's limit when lower than the machine's), between 128MB and 2GB; or a size such as
    # 512MB. A change applies at once when the command is the server's only holder, else at its next start.
    pg_shared_buffers: str = Field(
        default="auto",
        pattern=r"^(auto|[1-9][0-9]{0,6}(kB|MB|GB))$",
        validation_alias=AliasChoices("MERCH_PG_SHARED_BUFFERS"),
    )
    # Browser origins that may call the API (a shop front end's), comma-separated; empty: no CORS at all.
    cors_origins: str = Field(default="", max_length=4000, validation_alias=AliasChoices("MERCH_CORS_ORIGINS"))

    @property
    def read_database_url_list(self) -> list[str]:
        return [u.strip() for u in self.read_database_urls.split(",") if u.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @field_validator("pg_shared_buffers")
    @classmethod
    def _shared_buffers_in_range(cls, value: str) -> str:
        return check_shared_buffers(value)

    @field_validator("rate_limit_roles")
    @classmethod
    def _roles_parse(cls, value: str) -> str:
        parse_role_rates(value)
        return value

    @property
    def role_rates(self) -> dict[str, tuple[float, int]]:
        return parse_role_rates(self.rate_limit_roles)


def parse_role_rates(text: str) -> dict[str, tuple[float, int]]:
    """`admin:0,storefront:1000:2000` → {role: (requests per second, burst)}."""
    rates: dict[str, tuple[float, int]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        role, _, rest = item.partition(":")
        rate_text, _, burst_text = rest.partition(":")
        if role not in ROLES:
            raise ValueError(f"{role!r} is not a role (roles: {', '.join(ROLES)})")
        try:
            rate = float(rate_text)
            burst = int(burst_text) if burst_text else max(1, math.ceil(2 * rate))
        except ValueError:
            raise ValueError(f"{item!r} is not role:rate[:burst]") from None
        if not (0 <= rate <= 1_000_000 and rate == rate) or burst < 1:
            raise ValueError(f"{item!r}: the rate is 0 or more, the burst 1 or more")
        rates[role] = (rate, burst)
    return rates
