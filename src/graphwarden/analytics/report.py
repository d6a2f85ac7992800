"""The replay report: one self-contained HTML file (plots embedded as base64 PNG, no links
out), rendered from ``summary.json`` and ``curves.json`` with an autoescaping Jinja2
template, so it opens from disk without a network.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to memory only

import matplotlib.pyplot as plt
from jinja2 import Environment, FileSystemLoader, select_autoescape

_TEMPLATES = Path(__file__).parent / "templates"
_COLORS = {"v1.0": "#c0392b", "v2.0": "#2980b9", "v3.0": "#27ae60"}


@dataclass(frozen=True, slots=True)
class Plot:
    title: str
    caption: str
    png: str


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _color(version: str) -> str:
    return _COLORS.get(version, "#555555")


def plot_by_version(summary: dict[str, Any]) -> Plot:
    runs = summary["runs"]
    versions = [r["version"] for r in runs]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    # v1.0 exposes orders of magnitude more people than v2.0/v3.0: a log axis shows all three
    ax.set_yscale("log")
    x = range(len(runs))
    ax.bar([i - 0.2 for i in x], [r["consenting_users"] for r in runs], 0.4, label="consented",
           color="#999999")  # fmt: skip
    ax.bar([i + 0.2 for i in x], [r["exposed_users"] for r in runs], 0.4, label="exposed",
           color=[_color(v) for v in versions])  # fmt: skip
    ax.set_xticks(list(x), versions)
    ax.set_ylabel("people (log scale)")
    ax.set_title("People who consented vs people exposed, by version")
    ax.legend()
    return Plot("Exposure by version",
                "Installers who consented and people whose data left (log scale).",
                _png(fig))  # fmt: skip


def _small_multiples(curves: dict[str, Any]) -> tuple[Any, list[Any]]:
    """One panel per version, each with its own y axis: v2.0 and v3.0 stay readable next to
    v1.0 (on one shared axis they are flat lines at the bottom, one hiding the other)."""
    count = max(len(curves), 1)
    fig, axes = plt.subplots(1, count, figsize=(3.2 * count, 3.2), squeeze=False)
    return fig, list(axes[0])


def plot_installers(curves: dict[str, Any]) -> Plot:
    fig, axes = _small_multiples(curves)
    for ax, (version, c) in zip(axes, curves.items(), strict=False):
        ax.plot(c["installers"], c["exposed"], color=_color(version))
        ax.set_title(version)
        ax.set_xlabel("installers so far")
    axes[0].set_ylabel("distinct people exposed")
    fig.suptitle("Exposure against the number of installers (each panel its own scale)")
    return Plot(
        "Exposure against installers",
        "From each run's ledger in order: people exposed once the first k installers used it. "
        "One panel per version, each with its own scale.",
        _png(fig),
    )


def plot_growth(curves: dict[str, Any]) -> Plot:
    fig, axes = _small_multiples(curves)
    for ax, (version, c) in zip(axes, curves.items(), strict=False):
        ax.plot(c["calls"], c["exposed"], color=_color(version))
        ax.set_title(version)
        ax.set_xlabel("API responses")
    axes[0].set_ylabel("cumulative distinct people")
    fig.suptitle("How the harvest grew (each panel its own scale)")
    return Plot("Harvest over time",
                "Cumulative distinct people against Graph API responses, in ledger order.",
                _png(fig))  # fmt: skip


def plot_countries(summary: dict[str, Any], top: int = 12) -> Plot:
    first = summary["runs"][0]
    codes = list(first["by_country"])[:top]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / max(len(summary["runs"]), 1)
    for j, run in enumerate(summary["runs"]):
        values = [run["by_country"].get(c, {}).get("exposed", 0) for c in codes]
        ax.bar([i + j * width for i in range(len(codes))], values, width, label=run["version"],
               color=_color(run["version"]))  # fmt: skip
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(codes))], codes)
    ax.set_yscale("log")
    ax.set_ylabel("people exposed (log scale)")
    ax.set_title("Exposure by country")
    ax.legend()
    return Plot("Exposure by country", "Distinct people exposed, by their country.", _png(fig))


def plot_fields(summary: dict[str, Any]) -> Plot:
    names = sorted({f for r in summary["runs"] for f in r["by_field"]})
    fig, ax = plt.subplots(figsize=(7, 4))
    height = 0.8 / max(len(summary["runs"]), 1)
    for j, run in enumerate(summary["runs"]):
        values = [run["by_field"].get(f, {}).get("people", 0) for f in names]
        ax.barh([i + j * height for i in range(len(names))], values, height,
                label=run["version"], color=_color(run["version"]))  # fmt: skip
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))], names)
    ax.set_xscale("log")
    ax.set_xlabel("people whose field left (log scale)")
    ax.set_title("Exposure by field")
    ax.legend()
    return Plot("Exposure by field", "Distinct people whose field left, by field.", _png(fig))


def thousands(value: Any) -> str:
    """``20000`` -> ``20,000``.

    >>> thousands(1234567)
    '1,234,567'
    """
    return f"{int(value):,}"


def plural(count: Any, word: str, many: str | None = None) -> str:
    """``plural(1, "installer")`` -> ``1 installer``; ``plural(2, ...)`` -> ``2 installers``."""
    number = int(count)
    return f"{number:,} {word if number == 1 else (many or word + 's')}"


def render_report(summary: dict[str, Any], curves: dict[str, Any]) -> str:
    """The report's HTML."""
    env = Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=select_autoescape(["html"], default=True),
    )
    env.filters["n"] = thousands
    env.globals["plural"] = plural
    plots = [
        plot_by_version(summary),
        plot_installers(curves),
        plot_countries(summary),
        plot_fields(summary),
        plot_growth(curves),
    ]
    fields = sorted({f for r in summary["runs"] for f in r["by_field"]})
    countries = list(summary["runs"][0]["by_country"]) if summary["runs"] else []
    template = env.get_template("replay_report.html")
    return template.render(summary=summary, plots=plots, fields=fields, countries=countries)


def write_report(summary: dict[str, Any], curves: dict[str, Any], out: Path) -> Path:
    """Render the report to ``out`` and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(summary, curves), encoding="utf-8")
    return out


__all__ = ["Plot", "plural", "render_report", "thousands", "write_report"]
