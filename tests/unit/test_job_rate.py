"""The rate and ETA a job shows: rows a second since its phase began, and what the rest needs at that rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.jobs.model import rate_and_eta

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_an_applying_import_shows_its_rate_and_the_seconds_the_rest_needs() -> None:
    assert rate_and_eta("applying", 50, 200, NOW - timedelta(seconds=10), NOW) == (5.0, 30.0)
    assert rate_and_eta("applying", 200, 200, NOW - timedelta(seconds=8), NOW) == (25.0, 0.0)


def test_an_upload_has_a_rate_but_no_eta_for_its_size_is_unknown_until_its_end() -> None:
    assert rate_and_eta("receiving", 3000, None, NOW - timedelta(seconds=2), NOW) == (1500.0, None)


def test_nothing_is_guessed_before_the_first_row_or_outside_a_running_phase() -> None:
    assert rate_and_eta("applying", 0, 200, NOW - timedelta(seconds=5), NOW) == (None, None)
    assert rate_and_eta("applying", 10, 200, None, NOW) == (None, None)
    assert rate_and_eta("done", 200, 200, NOW - timedelta(seconds=5), NOW) == (None, None)
    assert rate_and_eta("queued", 0, None, NOW, NOW) == (None, None)
