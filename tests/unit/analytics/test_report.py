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


def _ledger(version: str, quiz_records: int) -> dict[str, object]:
    apps = [
        {"id": 1, "name": "thisisyourdigitallife", "records": quiz_records},
        {"id": 2, "name": "birthday-calendar", "records": 1200},
    ]
    size = quiz_records + 1200
    return {
        "path": "ledger.parquet",
        "records": quiz_records,
        "merkle_root": f"{version[1]}" * 64,
        "store": f"{version}/graphwarden.db",
        "tree_head": {
            "tree_size": size,
            "root_hash": f"{version[1]}" * 64,
            "timestamp_us": 1,
            "signature": "ab" * 64,
            "key_id": "cd" * 32,
        },
        "records_in_store": size,
        "apps": apps,
        "quiz_app": {"id": 1, "name": "thisisyourdigitallife"},
        "public_key_file": f"{version}/ledger-public-key.pem",
    }


def test_report_names_every_app_and_shows_each_signed_head(tmp_path: Path) -> None:
    summary = _summary() | {"population": 20000, "installers": 1}
    summary["runs"][0]["disclosures"] = 157138  # type: ignore[index]
    summary["ledgers"] = {"v1.0": _ledger("v1.0", 157138), "v2.0": _ledger("v2.0", 485)}
    curve = {"seq": [1, 2], "calls": [1, 2], "exposed": [1, 90], "installers": [1, 3]}
    html = write_report(summary, {"v1.0": curve, "v2.0": curve}, tmp_path / "r.html").read_text()
    assert "thisisyourdigitallife" in html
    assert "birthday-calendar" in html
    assert "1" * 64 in html  # v1.0's root
    assert "ab" * 64 in html  # its signature
    assert "158,338" in html  # the store's records, reconciled: quiz + the other app
    assert "157,138" in html
    assert "20,000 people" in html
    assert "1 installer " in html
    assert "1 installers" not in html
    assert "graphwarden ledger verify --public-key v1.0/ledger-public-key.pem" in html


def test_thousands_and_plurals() -> None:
    from graphwarden.analytics.report import plural, thousands

    assert thousands(1234567) == "1,234,567"
    assert plural(1, "installer") == "1 installer"
    assert plural(2, "installer") == "2 installers"
    assert plural(20000, "person", "people") == "20,000 people"
