"""The CLI reference (``docs/cli.md``), rendered from the commands themselves.

``python -m graphwarden.cli.reference > docs/cli.md`` regenerates it; a test fails when the file
and the code disagree, so no command or option goes undocumented.
"""

from __future__ import annotations

from typing import Any

import typer

from graphwarden.cli.main import app


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, command)]
    for name in sorted(getattr(command, "commands", {}) or {}):
        found.extend(_walk(command.commands[name], [*path, name]))
    return found


def _first_paragraph(text: str | None) -> str:
    return (text or "").strip().split("\n\n")[0].replace("\n", " ").strip()


def render() -> str:
    """The reference as Markdown: every command, its purpose, its arguments and options."""
    root = typer.main.get_command(app)
    lines = [
        "# Command-line reference",
        "",
        "Rendered from the code by `python -m graphwarden.cli.reference`; do not edit by hand.",
        "Errors print one line on stderr and exit with code 2.",
        "",
    ]
    for path, command in _walk(root, ["graphwarden"]):
        if path == ["graphwarden"]:
            continue
        lines.append(f"{'#' * min(len(path), 4)} `{' '.join(path)}`")
        lines.append("")
        summary = _first_paragraph(command.help)
        if summary:
            lines.extend([summary, ""])
        params = [p for p in command.params if p.name != "help" and not getattr(p, "hidden", False)]
        if params:
            lines.append("| parameter | description |")
            lines.append("|---|---|")
            for param in params:
                names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
                help_text = _first_paragraph(getattr(param, "help", None)).replace("|", "\\|")
                if not help_text and param.param_type_name == "argument":
                    help_text = "argument"
                lines.append(f"| {names} | {help_text} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def undocumented() -> list[str]:
    """Commands without a help text: each command must say what it does."""
    root = typer.main.get_command(app)
    return [
        " ".join(path)
        for path, command in _walk(root, ["graphwarden"])
        if path != ["graphwarden"] and not _first_paragraph(command.help)
    ]


if __name__ == "__main__":
    print(render(), end="")
