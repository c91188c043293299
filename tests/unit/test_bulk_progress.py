"""The progress `merch import` shows (api/bulk.py): a job as one line, redrawn on a terminal, plain lines when not."""

from __future__ import annotations

import io

from api.bulk import Progress, job_line


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_job_is_one_line_of_phase_rows_rate_and_eta() -> None:
    rows = {"read": 20000, "applied": 8000, "unchanged": 0, "rejected": 3}
    running = {
        "state": "running",
        "phase": "applying",
        "progress": 0.4,
        "rows": rows,
        "rate": 1650.2,
        "eta_seconds": 7.3,
    }
    assert job_line(running) == (
        "applying 40% · read 20,000 · applied 8,000 · unchanged 0 · rejected 3 · 1,650 rows/s · ETA 7 s"
    )
    queued = {"state": "queued", "phase": "queued", "progress": None, "rows": rows, "rate": None, "eta_seconds": None}
    assert job_line(queued) == "queued · read 20,000 · applied 8,000 · unchanged 0 · rejected 3"
    rejected = {**queued, "state": "failed", "phase": "rejected", "progress": 0.0}
    assert job_line(rejected).startswith("rejected · read 20,000")


def test_a_terminal_gets_the_line_redrawn_and_a_pipe_plain_lines_when_they_change() -> None:
    terminal = Terminal()
    shown = Progress(terminal)
    shown.show("uploading 10%")
    shown.show("uploading 20%")
    shown.show("done", final=True)
    assert terminal.getvalue() == "\r\x1b[Kuploading 10%\r\x1b[Kuploading 20%\r\x1b[Kdone\n"
    pipe = io.StringIO()
    plain = Progress(pipe, every=3600)
    for text in ("uploading 10%", "uploading 10%", "uploading 20%"):
        plain.show(text)
    plain.show("done", final=True)
    assert pipe.getvalue() == "uploading 10%\ndone\n"
