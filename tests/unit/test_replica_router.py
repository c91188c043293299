"""The replica router's pure parts: consistency tokens (PostgreSQL's X/Y WAL positions) and how the monitor
judges a replica from the primary's positions it has seen."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest

from api.replicas import InvalidConsistencyToken, ReadRouter, Replica, format_lsn, parse_token


class StubPool:
    def __init__(self, down: bool = False) -> None:
        self.down = down


def router(history: list[tuple[float, int]], *, down: bool = False, max_lag: float = 1.0) -> ReadRouter:
    replica = Replica(name="replica-1", dsn="", pool=StubPool(down))  # type: ignore[arg-type]
    made = ReadRouter(primary=None, replicas=[replica], max_lag=max_lag)
    made._history = deque(history)
    return made


def test_a_token_is_a_wal_position_in_postgresqls_notation_both_ways() -> None:
    assert parse_token("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert format_lsn((0x16 << 32) | 0xB374D848) == "16/B374D848"
    assert parse_token(format_lsn(0)) == 0
    assert parse_token(" 0/1a2b ") == 0x1A2B


@pytest.mark.parametrize("bad", ["", "yesterday", "0/", "/1", "1/2/3", "123456789/0", "0x1/2", "-1/2"])
def test_anything_else_is_refused_naming_the_header(bad: str) -> None:
    with pytest.raises(InvalidConsistencyToken) as raised:
        parse_token(bad)
    assert raised.value.errors[0].parameter == "X-Consistency-Token"


@pytest.mark.parametrize(
    ("replayed", "lag"),
    [
        (300, 0.0),  # everything the primary had
        (400, 0.0),  # ahead of the last position seen (asked later than the primary)
        (250, 8.0),  # the primary first had more at 2.0 (now 10.0)
        (200, 8.0),
        (199, 9.0),
        (50, 10.0),  # behind the oldest position kept: at least that long
    ],
)
def test_lag_is_how_long_ago_the_primary_first_had_wal_the_replica_has_not_replayed(replayed: int, lag: float) -> None:
    made = router([(0.0, 100), (1.0, 200), (2.0, 300)])
    assert made._lag(replayed, 10.0) == lag


def test_a_replica_is_used_while_it_answers_within_the_lag_bound() -> None:
    made = router([(9.0, 100), (9.5, 200)], max_lag=1.0)
    replica: Any = made.replicas[0]
    made._judge(replica, 200, 10.0)
    assert (replica.state, replica.lag, replica.usable) == ("streaming", 0.0, True)
    made._judge(replica, 150, 10.0)  # behind since 9.5: 0.5 s
    assert (replica.state, replica.lag, replica.usable) == ("streaming", 0.5, True)
    made._judge(replica, 100, 10.6)  # behind since 9.5: 1.1 s
    assert (replica.state, replica.usable) == ("lagging", False) and replica.lag == pytest.approx(1.1)
    made._judge(replica, None, 10.7)  # no answer
    assert (replica.state, replica.lag, replica.usable) == ("down", None, False)
    made._judge(replica, 200, 10.8)
    assert replica.usable
    replica.pool.down = True  # its pool's watchdog cut it
    assert not replica.usable
    made._judge(replica, 200, 10.9)
    assert replica.state == "down"
