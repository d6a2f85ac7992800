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
    x = range(len(runs))
    ax.bar([i - 0.2 for i in x], [r["consenting_users"] for r in runs], 0.4, label="consented",
           color="#999999")  # fmt: skip
    ax.bar([i + 0.2 for i in x], [r["exposed_users"] for r in runs], 0.4, label="exposed",
           color=[_color(v) for v in versions])  # fmt: skip
    ax.set_xticks(list(x), versions)
    ax.set_ylabel("people")
    ax.set_title("People who consented vs people exposed, by version")
    ax.legend()
    return Plot("Exposure by version", "Installers who consented and people whose data left.",
                _png(fig))  # fmt: skip


def plot_installers(curves: dict[str, Any]) -> Plot:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for version, c in curves.items():
        ax.plot(c["installers"], c["exposed"], label=version, color=_color(version))
    ax.set_xlabel("installers so far")
    ax.set_ylabel("distinct people exposed")
    ax.set_title("Exposure against the number of installers")
    ax.legend()
    return Plot(
        "Exposure against installers",
        "From each run's ledger in order: people exposed once the first k installers used it.",
        _png(fig),
    )


def plot_growth(curves: dict[str, Any]) -> Plot:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for version, c in curves.items():
        ax.plot(c["calls"], c["exposed"], label=version, color=_color(version))
    ax.set_xlabel("Graph API responses (ledger order)")
    ax.set_ylabel("cumulative distinct people exposed")
    ax.set_title("How the harvest grew")
    ax.legend()
    return Plot("Harvest over time", "Cumulative distinct people against API responses.",
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
    ax.set_ylabel("people exposed")
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
    ax.set_xlabel("people whose field left")
    ax.set_title("Exposure by field")
    ax.legend()
    return Plot("Exposure by field", "Distinct people whose field left, by field.", _png(fig))


def render_report(summary: dict[str, Any], curves: dict[str, Any]) -> str:
    """The report's HTML."""
    env = Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=select_autoescape(["html"], default=True),
    )
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


__all__ = ["Plot", "render_report", "write_report"]
