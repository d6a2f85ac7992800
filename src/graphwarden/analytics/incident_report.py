"""An incident's plots and its self-contained HTML report (plots embedded as base64 PNG, no
links out), rendered from the stored figures with an autoescaping Jinja2 template. The admin
incident page shows the same plots."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to memory only

import matplotlib.pyplot as plt
from jinja2 import Environment, FileSystemLoader, select_autoescape

from graphwarden.analytics.report import Plot, _png

_TEMPLATES = Path(__file__).parent / "templates"


def plot_actual_potential(view: Any) -> Plot:
    b, pot = view.blast, view.potential
    fig, ax = plt.subplots(figsize=(7, 3.2))
    labels = ["people affected", "non-consenting"]
    actual = [b.people, b.non_consenting]
    potential = [pot.get("people", 0), pot.get("non_consenting", 0)]
    ax.bar([0 - 0.2, 1 - 0.2], actual, 0.4, label="taken (ledger)", color="#c0392b")
    ax.bar([0 + 0.2, 1 + 0.2], potential, 0.4, label="within reach (policy)", color="#999999")
    ax.set_xticks([0, 1], labels)
    ax.set_ylabel("people")
    ax.set_title("Taken vs within reach through the same installers")
    ax.legend()
    return Plot("Actual and potential exposure",
                "What the ledger recorded beside what the policy in force would have let the "
                "app take through the same installers: the difference is what stopping saved.",
                _png(fig))  # fmt: skip


def plot_fields(view: Any) -> Plot:
    items = list(view.blast.by_field.items())
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.28 * len(items) + 1)))
    ax.barh([f for f, _ in items][::-1], [v["people"] for _, v in items][::-1], color="#c0392b")
    ax.set_xlabel("people whose field left")
    ax.set_title("By field")
    return Plot("By field", "Distinct people whose field was disclosed, by field.", _png(fig))


def plot_countries(view: Any, top: int = 12) -> Plot:
    items = list(view.blast.by_country.items())[:top]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    xs = range(len(items))
    ax.bar(xs, [v["people"] - v["non_consenting"] for _, v in items], color="#2980b9",
           label="authorized the app")  # fmt: skip
    ax.bar(xs, [v["non_consenting"] for _, v in items],
           bottom=[v["people"] - v["non_consenting"] for _, v in items], color="#c0392b",
           label="non-consenting")  # fmt: skip
    ax.set_xticks(list(xs), [c for c, _ in items])
    ax.set_ylabel("people affected")
    ax.set_title("By country")
    ax.legend()
    return Plot("By country", "Affected people by country, consenting and not.", _png(fig))


def plot_installers(view: Any) -> Plot:
    hist = view.blast.installer_histogram
    fig, ax = plt.subplots(figsize=(7, 3.2))
    if hist:
        ax.bar([h[0] for h in hist], [h[1] for h in hist], color="#8e44ad")
    ax.set_xlabel("people exposed through one installer")
    ax.set_ylabel("installers")
    ax.set_title("Through which installers")
    return Plot("Through which installers",
                "How many installers exposed how many people each.", _png(fig))  # fmt: skip


def incident_plots(view: Any) -> list[Plot]:
    """The incident's plots, in page order."""
    return [plot_actual_potential(view), plot_fields(view), plot_countries(view),
            plot_installers(view)]  # fmt: skip


def render_incident_report(view: Any) -> str:
    """The report's HTML."""
    env = Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=select_autoescape(["html"], default=True),
    )
    return env.get_template("incident_report.html").render(
        incident=view,
        blast=view.blast,
        potential=view.potential,
        plots=incident_plots(view),
        first=_when(view.blast.first_at_us),
        last=_when(view.blast.last_at_us),
    )


def _when(micros: int | None) -> str:
    if micros is None:
        return "-"
    return datetime.fromtimestamp(micros / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def write_incident_report(view: Any, out: Path) -> Path:
    """Render the report to ``out`` (written whole, then renamed) and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render_incident_report(view), encoding="utf-8")
    tmp.replace(out)
    return out


__all__ = ["incident_plots", "render_incident_report", "write_incident_report"]
