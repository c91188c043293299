"""Which recomputation jobs a worklist filtered by category names (domain/stages/model.py `covers`): a job over the
category itself, above it or below it touches products under it; a sibling's or a cousin's does not."""

from __future__ import annotations

import pytest

from domain.stages.model import covers


@pytest.mark.parametrize(
    ("scope", "path", "touches"),
    [
        (None, "a.b", True),  # a job over every product
        ("a.b", None, True),  # a worklist over every product
        ("a.b", "a.b", True),  # the category itself
        ("a", "a.b", True),  # a job above it
        ("a.b.c", "a.b", True),  # a job below it
        ("a.bc", "a.b", False),  # a sibling whose code starts alike
        ("a.b", "a.bc", False),
        ("a.c", "a.b", False),
        ("x", "a", False),
    ],
)
def test_a_job_touches_the_products_under_a_category_when_their_paths_nest(
    scope: str | None, path: str | None, touches: bool
) -> None:
    assert covers(scope, path) is touches
