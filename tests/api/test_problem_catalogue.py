"""The problems merchflow answers with: each code means one thing, and the README lists them all."""

from __future__ import annotations

import inspect
from pathlib import Path

import api.app  # noqa: F401  (loads every area, and so every error class)
from api.problems import HTTP_PROBLEMS, catalogue, domain_errors, markdown, status_of
from api.readme import section

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_every_problem() -> None:
    assert section(README.read_text(encoding="utf-8"), "problems") == markdown(), "run `make openapi`"


def test_a_code_has_one_status_and_one_title_wherever_it_is_raised() -> None:
    seen: dict[str, tuple[int, str]] = {}
    for cls in domain_errors():
        assert seen.setdefault(cls.code, (status_of(cls), cls.title)) == (status_of(cls), cls.title), cls.code
    for code, status, title, _ in HTTP_PROBLEMS:
        assert seen.setdefault(code, (status, title)) == (status, title), code
    assert len({row[0] for row in catalogue()}) == len(catalogue())


def test_every_error_class_says_when_it_is_raised() -> None:
    for cls in domain_errors():
        assert inspect.getdoc(cls) and cls.title, f"{cls.__module__}.{cls.__name__}"
        assert cls.code == cls.code.lower() and " " not in cls.code, cls.code
