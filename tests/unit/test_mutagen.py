"""The mutant generator of the mutation run (tests/mutagen.py): which mutants it makes of a module, and that each
is the one change it says. The run itself is not part of `make test` (python -m tests.mutation --generated)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from tests import mutagen
from tests.mutation import MODULES, ROOT

SOURCE = textwrap.dedent(
    '''\
    """A module."""

    TABLE: dict[str, int] = {"JPY": 0, "EUR": 2}
    LIMIT = 10


    def allowed(n: int, names: list[str], name: str) -> bool:
        """A docstring."""
        assert n != 99
        if n <= LIMIT and name not in names:
            return True
        return not name.startswith("x") or n == 0


    def check(n: int, label: str = "a") -> str:
        if n > 3:
            raise ValueError(f"{n} is over {3 + 0}")
        return label
    '''
)


def by_kind(mutants: list[mutagen.Mutant]) -> dict[str, list[tuple[int, str, str]]]:
    found: dict[str, list[tuple[int, str, str]]] = {}
    for m in mutants:
        found.setdefault(m.kind, []).append((m.line, m.description, m.text))
    return found


def test_each_kind_of_mutation_is_made_where_it_applies_and_nowhere_else() -> None:
    found = by_kind(mutagen.mutants_of(SOURCE, "m.py"))
    assert found == {
        "comparison": [
            (10, "`<=` → `<`", "((n) < (LIMIT))"),
            (10, "`not in` → `in`", "((name) in (names))"),
            (12, "`==` → `!=`", "((n) != (0))"),
            (16, "`>` → `>=`", "((n) >= (3))"),
        ],
        "boolean": [
            (10, "`and` → `or`", "((n <= LIMIT) or (name not in names))"),
            (12, "`or` → `and`", '((not name.startswith("x")) and (n == 0))'),
        ],
        "return": [
            (11, "return True → return False", "False"),
            (12, "a bool answer inverted", '(not (not name.startswith("x") or n == 0))'),
        ],
        "not": [(12, "`not` dropped", '(name.startswith("x"))')],
        "constant": [
            (4, "10 → 11", "11"),
            (4, "10 → 9", "9"),
            (12, "0 → 1", "1"),
            (12, "0 → -1", "(-1)"),
            (16, "3 → 4", "4"),
            (16, "3 → 2", "2"),
        ],
        "raise": [(17, "`raise` removed", "pass")],
    }


def test_a_mutant_changes_only_its_own_span_and_the_result_parses() -> None:
    for mutant in mutagen.mutants_of(SOURCE, "m.py"):
        changed = mutant.apply(SOURCE)
        ast.parse(changed)
        before, after = SOURCE.splitlines(), changed.splitlines()
        assert len(after) == len(before), mutant
        differing = [i + 1 for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        assert differing == [mutant.line], mutant


def test_spans_are_counted_in_bytes_so_text_before_them_may_be_any_unicode() -> None:
    source = 'LABEL = "售后 “CSV”"\n\n\ndef f(n: int) -> bool:\n    return "售后" == LABEL and n < 2\n'
    texts = {m.description: m.apply(source).splitlines()[4] for m in mutagen.mutants_of(source, "u.py")}
    assert texts["`<` → `<=`"] == '    return "售后" == LABEL and ((n) <= (2))'
    assert texts["`and` → `or`"] == '    return (("售后" == LABEL) or (n < 2))'


def test_a_sample_is_capped_in_source_order_and_the_same_for_the_same_seed() -> None:
    mutants = mutagen.mutants_of((ROOT / "domain/money.py").read_text(encoding="utf-8"), "domain/money.py")
    assert len(mutants) > 10
    first = mutagen.sample(mutants, 10, seed=0)
    assert len(first) == 10
    assert first == mutagen.sample(mutants, 10, seed=0)
    assert first != mutagen.sample(mutants, 10, seed=1)
    assert [m.start for m in first] == sorted(m.start for m in first)
    assert mutagen.sample(mutants, 0, seed=0) == mutants


def test_every_module_of_the_run_has_mutants_and_its_tests_exist() -> None:
    for module, tests in MODULES.items():
        assert mutagen.mutants_of((ROOT / module).read_text(encoding="utf-8"), module), module
        assert tests and all(Path(ROOT / t).is_file() for t in tests), (module, tests)
