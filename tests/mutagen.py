"""Generated mutants of a Python module, for `python -m tests.mutation --generated`: the module is parsed with
`ast`, and each mutant is one small change of its text, as a plausible bug would be:

- a comparison off by one (`<` ↔ `<=`, `>` ↔ `>=`) or turned round (`==` ↔ `!=`, `in` ↔ `not in`, `is` ↔ `is not`);
- `and` ↔ `or`; a `not` dropped;
- an integer constant one more or one less;
- a function that answers a bool answering the opposite (`return True` ↔ `return False`, `return x` → `return not (x)`);
- a `raise` removed (`pass` in its place).

Left alone: assertions, annotations, f-strings, docstrings, and the values of a module-level dict (tables of data,
such as the currencies' decimals, not rules). The text of a mutant replaces the span of one node (byte offsets of
the UTF-8 source, as `ast` counts them), so the rest of the file, its comments and line numbers stay as they were.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass

_BOUNDARY: dict[type[ast.cmpop], tuple[type[ast.cmpop], str, str]] = {
    ast.Lt: (ast.LtE, "<", "<="),
    ast.LtE: (ast.Lt, "<=", "<"),
    ast.Gt: (ast.GtE, ">", ">="),
    ast.GtE: (ast.Gt, ">=", ">"),
    ast.Eq: (ast.NotEq, "==", "!="),
    ast.NotEq: (ast.Eq, "!=", "=="),
    ast.In: (ast.NotIn, "in", "not in"),
    ast.NotIn: (ast.In, "not in", "in"),
    ast.Is: (ast.IsNot, "is", "is not"),
    ast.IsNot: (ast.Is, "is not", "is"),
}
_SYMBOL = {cls: old for cls, (_new, old, _n) in _BOUNDARY.items()}


@dataclass(frozen=True)
class Mutant:
    """One change: the byte span [start, end) of the source becomes `text`."""

    file: str
    line: int
    column: int
    kind: str
    description: str
    start: int
    end: int
    text: str
    original_line: str

    def apply(self, source: str) -> str:
        data = source.encode("utf-8")
        return (data[: self.start] + self.text.encode("utf-8") + data[self.end :]).decode("utf-8")

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @property
    def key(self) -> tuple[str, str, int, str]:
        """What names it across edits elsewhere in the file: its line as written, its column, the mutation."""
        return (self.file, self.original_line, self.column, self.description)


class _Finder(ast.NodeVisitor):
    def __init__(self, file: str, source: str) -> None:
        self.file = file
        self.data = source.encode("utf-8")
        self.lines = source.splitlines()
        starts = [0]
        for raw in self.data.splitlines(keepends=True):
            starts.append(starts[-1] + len(raw))
        self.starts = starts
        self.found: list[Mutant] = []
        self.bool_functions: list[bool] = []
        self.depth = 0  # 0: at module level

    # --- spans and text

    def _span(self, node: ast.AST) -> tuple[int, int]:
        start = self.starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        end = self.starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        return start, end

    def _text(self, node: ast.AST) -> str:
        start, end = self._span(node)
        return self.data[start:end].decode("utf-8")

    def _add(self, node: ast.AST, kind: str, description: str, text: str) -> None:
        start, end = self._span(node)
        line = node.lineno  # type: ignore[attr-defined]
        self.found.append(
            Mutant(
                self.file,
                line,
                node.col_offset + 1,  # type: ignore[attr-defined]
                kind,
                description,
                start,
                end,
                text,
                self.lines[line - 1].strip(),
            )
        )

    # --- what is left alone

    def visit_Assert(self, node: ast.Assert) -> None:
        return

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None and not (self.depth == 0 and isinstance(node.value, ast.Dict)):
            self.visit(node.value)

    def visit_arguments(self, node: ast.arguments) -> None:
        for default in [*node.defaults, *(d for d in node.kw_defaults if d is not None)]:
            self.visit(default)

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.depth == 0 and isinstance(node.value, ast.Dict):
            return  # a table of data
        self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        test = ast.unparse(node.test)
        if test in ("TYPE_CHECKING", "__name__ == '__main__'"):
            return
        self.generic_visit(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.visit(node.args)
        returns_bool = isinstance(node.returns, ast.Name) and node.returns.id == "bool"
        if isinstance(node.returns, ast.Constant) and node.returns.value == "bool":
            returns_bool = True
        self.bool_functions.append(returns_bool)
        self.depth += 1
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        for statement in body:
            self.visit(statement)
        self.depth -= 1
        self.bool_functions.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.depth += 1
        for statement in node.body:
            self.visit(statement)
        self.depth -= 1

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.bool_functions.append(False)
        self.generic_visit(node)
        self.bool_functions.pop()

    # --- the mutations

    def visit_Compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        for i, op in enumerate(node.ops):
            _new, old, new_symbol = _BOUNDARY[type(op)]
            parts = [f"({self._text(operands[0])})"]
            for j, (each, right) in enumerate(zip(node.ops, operands[1:], strict=True)):
                symbol = new_symbol if j == i else _SYMBOL[type(each)]
                parts.append(f"{symbol} ({self._text(right)})")
            self._add(node, "comparison", f"`{old}` → `{new_symbol}`", "(" + " ".join(parts) + ")")
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        text = f" {new} ".join(f"({self._text(v)})" for v in node.values)
        self._add(node, "boolean", f"`{old}` → `{new}`", f"({text})")
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self._add(node, "not", "`not` dropped", f"({self._text(node.operand)})")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            for delta in (1, -1):
                value = node.value + delta
                text = f"({value})" if value < 0 else str(value)
                self._add(node, "constant", f"{node.value} → {value}", text)

    def visit_Return(self, node: ast.Return) -> None:
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, bool):
            self._add(value, "return", f"return {value.value} → return {not value.value}", str(not value.value))
            return
        if value is not None and self.bool_functions and self.bool_functions[-1]:
            self._add(value, "return", "a bool answer inverted", f"(not ({self._text(value)}))")
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        self._add(node, "raise", "`raise` removed", "pass")


def mutants_of(source: str, file: str) -> list[Mutant]:
    """Every mutant of a module's source that compiles and changes its code, in the order of the source."""
    tree = ast.parse(source)
    finder = _Finder(file, source)
    finder.visit(tree)
    original = ast.dump(tree)
    kept: list[Mutant] = []
    for mutant in finder.found:
        try:
            changed = ast.parse(mutant.apply(source))
        except SyntaxError:
            continue
        if ast.dump(changed) != original:
            kept.append(mutant)
    return kept


def sample(mutants: list[Mutant], cap: int, seed: int) -> list[Mutant]:
    """At most `cap` of them (0: all), drawn the same way for the same file and seed, in source order."""
    if cap <= 0 or len(mutants) <= cap:
        return list(mutants)
    file = mutants[0].file
    chosen = random.Random(f"{file}:{seed}").sample(range(len(mutants)), cap)
    return [mutants[i] for i in sorted(chosen)]
