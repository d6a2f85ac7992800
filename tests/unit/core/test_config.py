"""Settings read from the environment: defaults, choices, and a clear error for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphwarden.core.config import Settings
from graphwarden.core.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"GRAPHWARDEN_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'graphwarden.db'}"
    assert settings.ledger_integration == "inline"
    assert settings.allow_internal_callbacks is False
    assert settings.redis_url is None


def test_choices_are_read() -> None:
    settings = Settings.from_env(
        {
            "GRAPHWARDEN_LEDGER_INTEGRATION": "deferred",
            "GRAPHWARDEN_ALLOW_INTERNAL_CALLBACKS": "1",
            "GRAPHWARDEN_ISSUER": "https://graph.example/",
        }
    )
    assert settings.ledger_integration == "deferred"
    assert settings.allow_internal_callbacks is True
    assert settings.issuer == "https://graph.example"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GRAPHWARDEN_LEDGER_INTEGRATION", "later", "inline or deferred"),
        ("GRAPHWARDEN_DATABASE_URL", "mysql://x", "sqlite:// or postgresql"),
        ("GRAPHWARDEN_REDIS_URL", "http://x", "redis://"),
    ],
)
def test_bad_values_are_one_clear_error(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    "issuer", ["http://graph.example", "ftp://graph.example", "graph.example", "http://"]
)
def test_an_issuer_without_tls_off_this_machine_is_refused(issuer: str) -> None:
    with pytest.raises(ConfigError, match="GRAPHWARDEN_ISSUER"):
        Settings.from_env({"GRAPHWARDEN_ISSUER": issuer})


@pytest.mark.parametrize(
    "issuer", ["https://graph.example", "http://127.0.0.1:8000", "http://localhost:8000"]
)
def test_an_https_or_loopback_issuer_is_accepted(issuer: str) -> None:
    assert Settings.from_env({"GRAPHWARDEN_ISSUER": issuer}).issuer == issuer
