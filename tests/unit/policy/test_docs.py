"""docs/policy.md is the rendering of the tables, nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphwarden.policy.docs import render
from graphwarden.policy.tables import POLICIES

DOC = Path(__file__).resolve().parents[3] / "docs" / "policy.md"


def test_docs_match_the_tables() -> None:
    assert DOC.read_text() == render(), (
        "docs/policy.md is stale: run `python -m graphwarden.policy.docs > docs/policy.md`"
    )


def test_every_rule_is_documented() -> None:
    text = render()
    for t in POLICIES.values():
        for rule in t.rules.values():
            assert f"| `{rule.id}` | {rule.effect.value} | {rule.reason} |" in text


def test_module_prints_the_rendering() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "graphwarden.policy.docs"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == render()
