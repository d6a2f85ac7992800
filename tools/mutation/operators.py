"""The mutants of one Python source file: small, single-point changes to its AST.

Operators (each mutant changes exactly one place):

* ``cmp``    a comparison operator: ``<``/``<=``, ``>``/``>=`` moved across the boundary and
             negated, ``==``/``!=``, ``is``/``is not``, ``in``/``not in`` swapped;
* ``bool``   ``and``/``or`` swapped;
* ``not``    a ``not`` removed;
* ``const``  an integer constant tweaked (0 -> 1, 1 -> 0 and 2, n -> n - 1 and n + 1), a
             boolean flipped;
* ``arith``  ``+``/``-`` swapped;
* ``str``    a string compared against (``==``, ``!=``, ``in``, ``not in``, directly or as an
             item of a literal tuple, list or set) mangled to ``"XX...XX"``;
* ``guard``  an ``if ...:`` without ``else`` whose body ends in ``raise`` or ``return``
             deleted (the check is gone);
* ``return`` a returned expression replaced by ``None``.

Docstrings, f-strings (messages), annotations, decorators (a cache's size, a dataclass's
slots) and ``__all__`` are left alone.

A mutant is spliced into the source text (the changed node's span is replaced), so the rest
of the file, comments included, stays as it was. Its id is stable across unrelated edits:
``path::function::operator::original->replacement#n``, where ``n`` counts earlier mutants with
the same function, operator and text in the file (line numbers are shown, never keyed on).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

_CMP_SWAPS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_TEXT_LIMIT = 70


@dataclass(frozen=True)
class Mutant:
    """One mutant of ``path``: replace ``source[start:end]`` with ``replacement``."""

    path: str
    scope: str
    operator: str
    original: str
    replacement: str
    occurrence: int
    line: int
    start: int
    end: int

    @property
    def id(self) -> str:
        return (
            f"{self.path}::{self.scope}::{self.operator}::"
            f"{_short(self.original)}->{_short(self.replacement)}#{self.occurrence}"
        )

    def apply(self, source: str) -> str:
        return source[: self.start] + self.replacement + source[self.end :]


def _short(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= _TEXT_LIMIT else one_line[: _TEXT_LIMIT - 3] + "..."


class _Offsets:
    """Line/column (UTF-8 byte columns, as ``ast`` gives them) to string offsets."""

    def __init__(self, source: str) -> None:
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def at(self, line: int, col: int) -> int:
        text = self.lines[line - 1].encode()[:col].decode()
        return self.starts[line - 1] + len(text)

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.at(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.at(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )


def _is_all(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == "__all__"
    )


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _ends_in_exit(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Raise | ast.Return)


def _const_replacements(value: object) -> list[str]:
    if isinstance(value, bool):
        return [repr(not value)]
    if isinstance(value, int):
        if value == 0:
            return ["1"]
        if value == 1:
            return ["0", "2"]
        return [repr(value - 1), repr(value + 1)]
    return []


class _Collector:
    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.source = source
        self.offsets = _Offsets(source)
        self.found: list[tuple[str, str, str, str, int, int, int]] = []

    def add(self, scope: str, operator: str, node: ast.AST, replacement: str) -> None:
        start, end = self.offsets.span(node)
        original = self.source[start:end]
        self.found.append((scope, operator, original, replacement, node.lineno, start, end))  # type: ignore[attr-defined]

    def statement(self, stmt: ast.stmt, scope: str) -> None:
        if _is_all(stmt) or _is_type_checking(stmt):
            return
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            inner = f"{scope}.{stmt.name}" if scope != "<module>" else stmt.name
            if not isinstance(stmt, ast.ClassDef):
                for default in [*stmt.args.defaults, *stmt.args.kw_defaults]:
                    if default is not None:
                        self.expression(default, scope)
            self.block(stmt.body, inner)
            return
        if isinstance(stmt, ast.If) and not stmt.orelse and _ends_in_exit(stmt.body):
            self.add(scope, "guard", stmt, "pass")
        returns_value = isinstance(stmt, ast.Return) and stmt.value is not None
        if returns_value and not (
            isinstance(stmt.value, ast.Constant) and stmt.value.value is None  # type: ignore[union-attr]
        ):
            self.add(scope, "return", stmt, "return None")
        for name, value in ast.iter_fields(stmt):
            if name in ("annotation", "returns", "type_comment"):
                continue
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    self.block(value, scope)
                else:
                    for item in value:
                        if isinstance(item, ast.expr):
                            self.expression(item, scope)
                        elif isinstance(item, ast.excepthandler | ast.match_case):
                            self.block(item.body, scope)
                        elif isinstance(item, ast.withitem):
                            self.expression(item.context_expr, scope)
            elif isinstance(value, ast.expr):
                self.expression(value, scope)

    def block(self, body: list[ast.stmt], scope: str) -> None:
        for i, stmt in enumerate(body):
            if (
                i == 0
                and isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)
            ):
                continue  # a docstring
            self.statement(stmt, scope)

    def expression(self, node: ast.expr, scope: str) -> None:
        if isinstance(node, ast.JoinedStr):
            return  # messages: a changed f-string changes only the words
        if isinstance(node, ast.Lambda):
            self.expression(node.body, scope)
            return
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                items = (
                    operand.elts
                    if isinstance(operand, ast.Tuple | ast.List | ast.Set)
                    else [operand]
                )
                for item in items:
                    if isinstance(item, ast.Constant) and isinstance(item.value, str):
                        self.add(scope, "str", item, repr(f"XX{item.value}XX"))
            for i, op in enumerate(node.ops):
                for swap in _CMP_SWAPS.get(type(op), ()):
                    ops = list(node.ops)
                    ops[i] = swap()
                    mutated = ast.Compare(left=node.left, ops=ops, comparators=node.comparators)
                    self.add(scope, "cmp", node, f"({ast.unparse(mutated)})")
        elif isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            self.add(
                scope, "bool", node, f"({ast.unparse(ast.BoolOp(op=other, values=node.values))})"
            )
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self.add(scope, "not", node, f"({ast.unparse(node.operand)})")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            other = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            mutated = ast.BinOp(left=node.left, op=other, right=node.right)
            self.add(scope, "arith", node, f"({ast.unparse(mutated)})")
        elif isinstance(node, ast.Constant):
            for text in _const_replacements(node.value):
                self.add(scope, "const", node, f"({text})")
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expression(child, scope)
            elif isinstance(child, ast.comprehension):
                self.expression(child.iter, scope)
                for cond in child.ifs:
                    self.expression(cond, scope)
            elif isinstance(child, ast.keyword):
                self.expression(child.value, scope)


def mutants(path: str, source: str) -> list[Mutant]:
    """Every mutant of ``source`` (the file at ``path``, relative to the repository), in
    source order; each one compiles and changes the AST."""
    tree = ast.parse(source)
    collector = _Collector(path, source)
    collector.block(tree.body, "<module>")
    original_dump = ast.dump(tree)
    seen: dict[tuple[str, str, str, str], int] = {}
    out: list[Mutant] = []
    for scope, operator, original, replacement, line, start, end in sorted(
        collector.found, key=lambda f: (f[5], -f[6], f[1], f[3])
    ):
        key = (scope, operator, _short(original), _short(replacement))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        mutant = Mutant(path, scope, operator, original, replacement, occurrence, line, start, end)
        try:
            changed = ast.dump(ast.parse(mutant.apply(source))) != original_dump
        except SyntaxError:
            continue
        if changed:
            out.append(mutant)
    return out


def iter_ids(path: str, source: str) -> Iterator[str]:
    for mutant in mutants(path, source):
        yield mutant.id
