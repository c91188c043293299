"""Process settings, read from the environment (and a `.env` file in development)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))
    data_dir: Path = Field(default=Path(".merchflow"), validation_alias=AliasChoices("MERCH_DATA_DIR"))
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("MERCH_HOST"))
    port: int = Field(default=8000, ge=1, le=65535, validation_alias=AliasChoices("MERCH_PORT"))
    workers: int = Field(default=1, ge=1, le=64, validation_alias=AliasChoices("MERCH_WORKERS"))
    log_level: str = Field(default="info", validation_alias=AliasChoices("MERCH_LOG_LEVEL"))
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
    # Browser origins that may call the API (a shop front end's), comma-separated; empty: no CORS at all.
    cors_origins: str = Field(default="", max_length=4000, validation_alias=AliasChoices("MERCH_CORS_ORIGINS"))

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]
