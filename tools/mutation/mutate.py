"""Mutation testing of graphwarden's security core: do the tests notice a changed line?

    python tools/mutation/mutate.py              # the CI run: a seeded sample per module
    python tools/mutation/mutate.py --full       # every mutant (local use; slow)
    python tools/mutation/mutate.py --only src/graphwarden/ledger/merkle.py --list
    python tools/mutation/mutate.py --apply 'ID' --out /tmp/mutant   # a mutant, by hand

Each mutant (see ``operators.py``) is written into a copy of ``src/graphwarden`` in a
temporary folder that shadows the package (first on ``PYTHONPATH``), and only the test
modules that ``targets.toml`` maps to its source module run against it, with ``-x`` and a
timeout. A failing run (or one past the timeout) kills the mutant; a passing one lets it
survive. Mutants listed in ``equivalent.toml`` (each with the reason no test can tell them
from the original) are left out. The run prints a table per module and one JSON object, and
exits 1 when any module kills fewer than ``threshold`` of its non-equivalent sampled mutants.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from operators import Mutant, mutants

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PACKAGE = "graphwarden"


@dataclass
class Result:
    mutant: Mutant
    outcome: str  # killed | survived | timeout | error
    seconds: float
    detail: str = ""


@dataclass
class ModuleReport:
    path: str
    total: int = 0
    equivalent: int = 0
    results: list[Result] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.results)

    @property
    def score(self) -> float:
        tested = len(self.results)
        killed = self.count("killed") + self.count("timeout")
        return 1.0 if tested == 0 else killed / tested


def load_targets(path: Path) -> dict[str, object]:
    with path.open("rb") as f:
        return tomllib.load(f)


def load_equivalent(path: Path) -> dict[str, str]:
    with path.open("rb") as f:
        data = tomllib.load(f)
    out: dict[str, str] = {}
    for entry in data.get("equivalent", []):
        if not entry.get("reason", "").strip():
            raise SystemExit(f"equivalent mutant {entry.get('id')!r} has no reason")
        out[entry["id"]] = entry["reason"]
    return out


def module_mutants(path: str) -> list[Mutant]:
    return mutants(path, (ROOT / path).read_text())


def sample(
    found: Sequence[Mutant], equivalent: dict[str, str], size: int | None, seed: int, path: str
) -> list[Mutant]:
    """The first ``size`` non-equivalent mutants of a seeded shuffle of all of them: listing
    one as equivalent puts the next one in its place and leaves the rest of the draw alone."""
    live = [m for m in found if m.id not in equivalent]
    if size is None or size >= len(live):
        return live
    order = random.Random(f"{seed}:{path}").sample(list(found), len(found))
    chosen = [m for m in order if m.id not in equivalent][:size]
    return sorted(chosen, key=lambda m: m.start)


def shadow_copy(into: Path, mutant: Mutant | None) -> Path:
    """A copy of ``src/graphwarden`` under ``into`` with ``mutant`` applied."""
    target = into / PACKAGE
    shutil.copytree(
        ROOT / "src" / PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    if mutant is not None:
        rel = Path(mutant.path).relative_to(Path("src") / PACKAGE)
        source = (ROOT / mutant.path).read_text()
        (target / rel).write_text(mutant.apply(source))
    return into


def test_env(shadow: Path) -> dict[str, str]:
    env = dict(os.environ)
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(shadow), *rest])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["GRAPHWARDEN_MUTATION"] = "1"  # tests/conftest.py: hypothesis derandomized, no database
    return env


def pytest_command(tests: Sequence[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::pytest.PytestUnraisableExceptionWarning",
        *tests,
    ]


def run_one(mutant: Mutant | None, tests: Sequence[str], timeout: float) -> tuple[str, float, str]:
    """Run ``tests`` against ``mutant`` (``None``: the unchanged code)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gw-mutant-") as tmp:
        shadow = shadow_copy(Path(tmp), mutant)
        try:
            proc = subprocess.run(  # noqa: S603 (our own interpreter and test paths)
                pytest_command(tests),
                cwd=ROOT,
                env=test_env(shadow),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return "timeout", time.perf_counter() - started, ""
    elapsed = time.perf_counter() - started
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
    if proc.returncode == 0:
        return "survived", elapsed, ""
    if proc.returncode in (1, 2):  # failed, or errored while collecting (import-time failure)
        return "killed", elapsed, " | ".join(tail)
    return "error", elapsed, f"pytest exit {proc.returncode}: " + " | ".join(tail)


def check_shadowing() -> None:
    """The copy must shadow the package, or every mutant would 'survive' untested."""
    with tempfile.TemporaryDirectory(prefix="gw-mutant-") as tmp:
        shadow = shadow_copy(Path(tmp), None)
        out = subprocess.run(  # noqa: S603
            [sys.executable, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
            cwd=ROOT,
            env=test_env(shadow),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not out.startswith(str(shadow)):
            raise SystemExit(f"the mutant copy does not shadow {PACKAGE}: it loads {out}")


def baseline(groups: Sequence[tuple[str, ...]], timeout: float, jobs: int) -> None:
    """Every test group must pass on the unchanged code (else every mutant looks killed)."""
    with ThreadPoolExecutor(jobs) as pool:
        outcomes = list(pool.map(lambda g: run_one(None, g, timeout * 3), groups))
    for group, (outcome, _s, _d) in zip(groups, outcomes, strict=True):
        if outcome != "survived":
            raise SystemExit(f"the tests fail on the unchanged code ({outcome}): {' '.join(group)}")


def render_table(reports: Sequence[ModuleReport], threshold: float) -> str:
    head = f"{'module':44} {'mutants':>7} {'equiv':>5} {'tested':>6} {'killed':>6} "
    head += f"{'t/o':>4} {'surv':>4} {'score':>6}  gate"
    lines = [head, "-" * len(head)]
    for r in reports:
        tested = len(r.results)
        ok = "ok" if r.score >= threshold else "FAIL"
        lines.append(
            f"{r.path.removeprefix('src/'):44} {r.total:7} {r.equivalent:5} {tested:6} "
            f"{r.count('killed'):6} {r.count('timeout'):4} {r.count('survived'):4} "
            f"{100 * r.score:5.1f}%  {ok}"
        )
    return "\n".join(lines)


def to_json(reports: Sequence[ModuleReport], threshold: float, seconds: float, full: bool) -> dict:
    return {
        "threshold": threshold,
        "mode": "full" if full else "sample",
        "seconds": round(seconds, 1),
        "ok": all(r.score >= threshold for r in reports),
        "modules": {
            r.path: {
                "mutants": r.total,
                "equivalent": r.equivalent,
                "tested": len(r.results),
                "killed": r.count("killed"),
                "timeout": r.count("timeout"),
                "survived": r.count("survived"),
                "score": round(r.score, 4),
                "survivors": [
                    {"id": x.mutant.id, "line": x.mutant.line, "replacement": x.mutant.replacement}
                    for x in r.results
                    if x.outcome == "survived"
                ],
            }
            for r in reports
        },
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="every mutant, not the seeded sample")
    p.add_argument("--only", action="append", default=[], help="this source module only")
    p.add_argument("--jobs", type=int, default=2, help="parallel test processes (default 2)")
    p.add_argument("--list", action="store_true", help="print the mutant ids and stop")
    p.add_argument("--apply", metavar="ID", help="write the package with this mutant to --out")
    p.add_argument("--out", type=Path, help="folder for --apply")
    p.add_argument("--report", type=Path, help="also write the JSON report to this file")
    p.add_argument("--targets", type=Path, default=HERE / "targets.toml")
    p.add_argument("--equivalent", type=Path, default=HERE / "equivalent.toml")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    targets = load_targets(args.targets)
    settings: dict = targets["settings"]  # type: ignore[assignment]
    modules: dict[str, list[str]] = targets["modules"]  # type: ignore[assignment]
    sizes: dict[str, int] = targets.get("sample", {})  # type: ignore[assignment]
    equivalent = load_equivalent(args.equivalent)
    if args.only:
        unknown = set(args.only) - set(modules)
        if unknown:
            print(f"not a target module: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        modules = {m: t for m, t in modules.items() if m in args.only}

    found = {path: module_mutants(path) for path in modules}
    known = {m.id for ms in found.values() for m in ms}
    stale = sorted(set(equivalent) - known)
    if args.apply:
        chosen = [m for ms in found.values() for m in ms if m.id == args.apply]
        if not chosen or args.out is None:
            print("--apply needs a known mutant id and --out", file=sys.stderr)
            return 2
        args.out.mkdir(parents=True, exist_ok=True)
        shadow_copy(args.out, chosen[0])
        print(f"PYTHONPATH={args.out} pytest ...   # line {chosen[0].line}")
        return 0
    if args.list:
        for ms in found.values():
            for m in ms:
                mark = "  [equivalent]" if m.id in equivalent else ""
                print(f"{m.line:5}  {m.id}{mark}")
        return 0

    check_shadowing()
    timeout = float(settings["timeout_s"])
    baseline(sorted({tuple(t) for t in modules.values()}), timeout, args.jobs)
    reports: dict[str, ModuleReport] = {}
    work: list[tuple[str, Mutant]] = []
    for path, ms in found.items():
        size = None if args.full else int(sizes.get(path, settings["default_sample"]))
        n_equivalent = sum(m.id in equivalent for m in ms)
        reports[path] = ModuleReport(path, total=len(ms), equivalent=n_equivalent)
        work += [(path, m) for m in sample(ms, equivalent, size, int(settings["seed"]), path)]

    started = time.perf_counter()

    def task(item: tuple[str, Mutant]) -> tuple[str, Result]:
        path, mutant = item
        outcome, seconds, detail = run_one(mutant, modules[path], timeout)
        return path, Result(mutant, outcome, seconds, detail)

    with ThreadPoolExecutor(args.jobs) as pool:
        for path, result in pool.map(task, work):
            reports[path].results.append(result)
            if result.outcome in ("survived", "error"):
                print(
                    f"{result.outcome.upper():8} line {result.mutant.line}: {result.mutant.id}\n"
                    f"         -> {result.mutant.replacement} {result.detail}",
                    flush=True,
                )
    elapsed = time.perf_counter() - started
    threshold = float(settings["threshold"])
    ordered = list(reports.values())
    print(render_table(ordered, threshold))
    report = to_json(ordered, threshold, elapsed, args.full)
    report["stale_equivalent_ids"] = stale
    print(json.dumps(report, sort_keys=True))
    if args.report:
        args.report.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    errors = [r for rep in ordered for r in rep.results if r.outcome == "error"]
    if errors:
        print(f"{len(errors)} mutant runs could not be judged (see above)", file=sys.stderr)
        return 1
    if stale and not args.only:
        print(f"equivalent.toml names mutants that no longer exist: {stale}", file=sys.stderr)
        return 1
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
