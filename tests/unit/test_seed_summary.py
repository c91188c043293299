"""The scale seed's summary: each step's rows, seconds and rate, and the total of the rows loaded."""

from __future__ import annotations

from api.seeding import summary
from domain.seed.front import Loaded


def test_the_summary_lists_every_step_and_totals_the_rows_loaded_not_those_written() -> None:
    steps = [
        Loaded(step="writing the files", rows=300, seconds=0.5, in_total=False),
        Loaded(step="1-categories.jsonl", rows=100, seconds=2.0),
        Loaded(step="4-products.jsonl", rows=200, seconds=0.0),
    ]
    assert summary(steps, 4.0).splitlines() == [
        "step                        rows    seconds      rows/s",
        "writing the files            300        0.5         600",
        "1-categories.jsonl           100        2.0          50",
        "4-products.jsonl             200        0.0           0",
        "total                        300        4.0          75",
    ]
