"""The price rules that need no database: when a recorded price starts (now, never before: a minute of clock
skew counts as now) and what a correction does to the periods it overlaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.prices.model import (
    NOW_TOLERANCE,
    CorrectionPlan,
    Price,
    PriceStartsInThePast,
    StoredPrice,
    plan_correction,
    starts_at,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n)


def period(id: int, start: int, end: int | None, amount: str = "100.00") -> StoredPrice:
    price = Price(
        sku="S1",
        kind="cost",
        amount=amount,
        currency="CNY",
        valid_from=day(start),
        valid_to=None if end is None else day(end),
    )
    return StoredPrice(id=id, price=price)


@pytest.mark.parametrize(
    ("valid_from", "starts"),
    [
        (None, NOW),
        (NOW, NOW),
        (NOW + timedelta(microseconds=1), NOW + timedelta(microseconds=1)),
        (NOW + timedelta(days=30), NOW + timedelta(days=30)),
        (NOW - timedelta(seconds=1), NOW),
        (NOW - NOW_TOLERANCE, NOW),
    ],
)
def test_a_recorded_price_starts_when_asked_or_now_within_a_minute_of_skew(
    valid_from: datetime | None, starts: datetime
) -> None:
    assert starts_at(valid_from, NOW, "S1", "sale") == starts


def test_a_recorded_price_starting_more_than_a_minute_ago_is_refused() -> None:
    assert NOW_TOLERANCE == timedelta(minutes=1)
    with pytest.raises(PriceStartsInThePast) as refused:
        starts_at(NOW - NOW_TOLERANCE - timedelta(microseconds=1), NOW, "S1", "sale")
    assert refused.value.context == {
        "valid_from": NOW - NOW_TOLERANCE - timedelta(microseconds=1),
        "now": NOW,
        "correction": "/v1/skus/S1/prices/corrections",
    }


def test_a_correction_inside_one_period_splits_it_around_the_range() -> None:
    assert plan_correction([period(1, 0, None)], day(10), day(20), "90.00") == CorrectionPlan(
        removed=[],
        cut=[(1, day(0), day(10))],
        inserted=[(day(10), day(20), "90.00"), (day(20), None, "100.00")],
    )


def test_a_correction_removes_the_periods_inside_and_cuts_those_sticking_out_on_one_side() -> None:
    overlapping = [period(1, 0, 10), period(2, 10, 15, "110.00"), period(3, 15, 30, "120.00")]
    assert plan_correction(overlapping, day(5), day(20), "90.00") == CorrectionPlan(
        removed=[2], cut=[(1, day(0), day(5)), (3, day(20), day(30))], inserted=[(day(5), day(20), "90.00")]
    )
    # to no price: the same cuts, and a gap instead of the new period
    assert plan_correction(overlapping, day(5), day(20), None) == CorrectionPlan(
        removed=[2], cut=[(1, day(0), day(5)), (3, day(20), day(30))], inserted=[]
    )


def test_an_open_ended_correction_replaces_everything_after_its_start() -> None:
    overlapping = [period(1, 0, 10), period(2, 10, None, "120.00")]
    assert plan_correction(overlapping, day(5), None, "95.00") == CorrectionPlan(
        removed=[2], cut=[(1, day(0), day(5))], inserted=[(day(5), None, "95.00")]
    )


def test_a_correction_the_periods_already_say_changes_nothing() -> None:
    # one period covering the range at the same amount (written with another scale)
    assert plan_correction([period(1, 0, None)], day(10), day(20), "100") is None
    # contiguous periods at the same amount covering the range
    assert plan_correction([period(1, 0, 12), period(2, 12, 30)], day(10), day(20), "100.0") is None
    assert plan_correction([period(1, 0, 12), period(2, 12, None)], day(10), None, "100.00") is None
    assert plan_correction([], day(10), day(20), None) is None


@pytest.mark.parametrize(
    "overlapping",
    [
        [period(1, 0, None, "101.00")],  # another amount
        [period(1, 11, None)],  # begins after the range does
        [period(1, 0, 12), period(2, 13, 30)],  # a gap inside
        [period(1, 0, 15)],  # ends before the range does
        [],  # no price at all
    ],
)
def test_a_correction_that_differs_anywhere_in_its_range_is_applied(overlapping: list[StoredPrice]) -> None:
    plan = plan_correction(overlapping, day(10), day(20), "100.00")
    assert plan is not None
    assert (day(10), day(20), "100.00") in plan.inserted
