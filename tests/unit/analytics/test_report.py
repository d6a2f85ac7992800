"""The report opens from disk: no link or source outside the file, plots embedded, text escaped."""

from __future__ import annotations

import re
from pathlib import Path

from graphwarden.analytics.report import write_report


def _summary() -> dict[str, object]:
    run = {
        "consenting_users": 3,
        "exposed_users": 90,
        "non_consenting_exposed": 87,
        "disclosures": 900,
        "by_field": {"birthday": {"people": 80, "disclosures": 80}},
        "by_country": {
            "US": {"exposed": 85, "non_consenting": 82},
            "<b>X</b>": {"exposed": 5, "non_consenting": 5},
        },
    }
    later = {
        **run,
        "exposed_users": 3,
        "non_consenting_exposed": 0,
        "by_country": {"US": {"exposed": 3, "non_consenting": 0}},
    }
    return {
        "population": 1000,
        "installers": 3,
        "seed": 1,
        "engine": "bulk",
        "runs": [{"version": "v1.0", **run}, {"version": "v2.0", **later}],
    }


def test_report_is_self_contained_with_plots(tmp_path: Path) -> None:
    curve = {"seq": [1, 2], "calls": [1, 2], "exposed": [1, 90], "installers": [1, 3]}
    path = write_report(_summary(), {"v1.0": curve, "v2.0": curve}, tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', html)) == 5
    assert not re.search(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', html, re.IGNORECASE)
    assert "<link" not in html
    assert "<script" not in html
    assert "&lt;b&gt;X&lt;/b&gt;" in html
    assert "<b>X</b>" not in html
    assert "87" in html
