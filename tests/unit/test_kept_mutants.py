"""The kept mutants (tests/mutation.py) each still name text that occurs once in their file: a rule's SQL that
moves on without its mutant would otherwise leave the mutant stale, unnoticed until `make mutate` refuses it."""

from __future__ import annotations

from pathlib import Path

from tests.mutation import MUTANTS, ROOT


def test_every_kept_mutant_names_text_found_once_in_its_file() -> None:
    stale = {
        m.name: count for m in MUTANTS if (count := Path(ROOT / m.file).read_text(encoding="utf-8").count(m.old)) != 1
    }
    assert stale == {}
