"""The layering of docs/architecture.md, enforced: an import may only point down.

core < graph, ledger < consent < policy < detection, analytics, simulation < api, web, cli
< server (the composition root, which puts api and web together) < cli. Entry points (api, web,
cli) never import each other directly; the CLI reaches the composed platform only through
``graphwarden.server``. Only entry points and the composition root import web frameworks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import graphwarden

PACKAGE_DIR = Path(graphwarden.__file__).resolve().parent

LAYER = {
    "core": 0,
    "graph": 1,
    "ledger": 1,
    "consent": 2,
    "policy": 3,
    "detection": 4,
    "analytics": 4,
    "simulation": 4,
    "api": 5,
    "web": 5,
    "server": 6,
    "cli": 7,
    "migrations": 8,
}
#: sideways imports allowed inside one layer (never cycles)
SIDEWAYS = {("simulation", "analytics"), ("simulation", "detection"), ("analytics", "detection")}
ENTRY_POINTS = {"api", "web", "cli"}
FRAMEWORKS = {"fastapi", "starlette", "typer", "uvicorn", "click"}


def _package_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE_DIR)
    return rel.parts[0].removesuffix(".py") if rel.parts else ""


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def _violations() -> list[str]:
    problems: list[str] = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        source = _package_of(path)
        if source in ("__init__", "__main__") or source not in LAYER:
            continue
        for lineno, module in _imports(path):
            top = module.split(".")[0]
            where = f"{path.relative_to(PACKAGE_DIR.parent)}:{lineno}"
            if top in FRAMEWORKS and source not in ENTRY_POINTS | {"server"}:
                problems.append(f"{where}: {source} imports framework {module}")
            if top != "graphwarden":
                continue
            parts = module.split(".")
            if len(parts) < 2 or parts[1] not in LAYER:
                continue
            target = parts[1]
            if target == source:
                continue
            if source in ENTRY_POINTS and target in ENTRY_POINTS:
                problems.append(f"{where}: entry point {source} imports entry point {target}")
            elif LAYER[target] > LAYER[source]:
                problems.append(f"{where}: {source} imports upward into {target}")
            elif (
                LAYER[target] == LAYER[source]
                and (source, target) not in SIDEWAYS
                and source not in ENTRY_POINTS
            ):
                problems.append(f"{where}: {source} imports sideways into {target}")
    return problems


def test_every_package_has_a_layer() -> None:
    packages = {
        p.name for p in PACKAGE_DIR.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    assert packages <= set(LAYER), f"packages without a layer: {sorted(packages - set(LAYER))}"


def test_imports_point_down() -> None:
    problems = _violations()
    assert not problems, "layering violations:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "target", "ok"),
    [("policy", "graph", True), ("graph", "policy", False), ("api", "web", False)],
)
def test_checker_catches_upward_and_cross_entry_arrows(
    tmp_path: Path, source: str, target: str, ok: bool
) -> None:
    # the checker must be able to fail: feed it a synthetic module
    module = tmp_path / "m.py"
    module.write_text(f"from graphwarden.{target} import x\n", encoding="utf-8")
    imports = _imports(module)
    assert imports == [(1, f"graphwarden.{target}")]
    upward = LAYER[target] > LAYER[source]
    cross = source in ENTRY_POINTS and target in ENTRY_POINTS
    assert (not upward and not cross) is ok
