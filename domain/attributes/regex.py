"""Attribute `regex` rules run on RE2: matching takes time linear in the value's length whatever the pattern
(no backtracking, so `(a+)+$` cannot hold a worker for seconds). A pattern RE2 cannot compile — it has no
backreferences or lookarounds — is refused when the rule is written."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2  # type: ignore[import-untyped]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the caller's 422, not a line on the server's stderr


class RegexError(ValueError):
    """RE2 cannot compile the pattern."""


@lru_cache(maxsize=1024)
def compile_rule(pattern: str) -> Any:
    """The compiled rule (`fullmatch`), or RegexError with RE2's reason."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise RegexError(reason) from None
