"""A served worker's garbage collector (api/collector.py), tuned in a process of its own: the test run's
collector is left as it is."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import gc, json
from api import collector
before = (gc.get_threshold(), gc.get_freeze_count())
collector.tune()
print(json.dumps({"before": before, "after": [gc.get_threshold(), gc.get_freeze_count()]}))
"""


def test_tune_freezes_what_exists_and_collects_the_young_generation_less_often() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout)
    (threshold, frozen), (tuned, frozen_after) = seen["before"], seen["after"]
    assert (threshold[0], frozen) == (700, 0)  # (CPython's defaults: the probe's premise)
    assert tuned == [50_000, threshold[1], threshold[2]]  # the older generations' thresholds as they were
    assert frozen_after > 1_000  # the modules the probe imported, at least
