"""Configuration, read once from the environment.

``GRAPHWARDEN_DATABASE_URL``  SQLAlchemy URL; default ``sqlite:///<cwd>/.graphwarden/graphwarden.db``
``GRAPHWARDEN_REDIS_URL``     Redis URL for shared rate-limit and detection counters (optional)
``GRAPHWARDEN_DATA_DIR``      where keys and exports live; default ``<cwd>/.graphwarden``
``GRAPHWARDEN_ISSUER``        the OAuth issuer / public base URL; default ``http://127.0.0.1:8000``
``GRAPHWARDEN_SESSION_SECRET`` secret for signing session cookies; default: created on first run
``GRAPHWARDEN_LEDGER_INTEGRATION`` ``inline`` (appends build the Merkle tree; the default) or
                              ``deferred`` (appends only write; an integrator process builds
                              and signs; what ``graphwarden serve`` runs)
``GRAPHWARDEN_ALLOW_INTERNAL_CALLBACKS`` ``1`` posts deletion callbacks to internal addresses
                              too (development against a local receiver); off by default
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from graphwarden.core.errors import ConfigError

_SUPPORTED_SCHEMES = ("sqlite", "postgresql")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    data_dir: Path
    redis_url: str | None
    issuer: str
    #: "inline" or "deferred": see :class:`graphwarden.ledger.service.SqlDisclosureLedger`
    ledger_integration: str = "inline"
    #: post deletion callbacks to internal addresses too (development only)
    allow_internal_callbacks: bool = False
    #: "duckdb" or "spark": the engine the analytics' Ibis expressions run on
    analytics_engine: str = "duckdb"
    #: the Spark master the analytics use with ``analytics_engine="spark"``
    spark_master: str = "local[2]"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env.get("GRAPHWARDEN_DATA_DIR") or Path.cwd() / ".graphwarden")
        url = env.get("GRAPHWARDEN_DATABASE_URL") or f"sqlite:///{data_dir / 'graphwarden.db'}"
        scheme = url.split(":", 1)[0].split("+", 1)[0]
        if scheme not in _SUPPORTED_SCHEMES:
            raise ConfigError(
                f"GRAPHWARDEN_DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL, "
                f"got scheme {scheme!r}"
            )
        redis_url = env.get("GRAPHWARDEN_REDIS_URL") or None
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://")):
            raise ConfigError("GRAPHWARDEN_REDIS_URL must start with redis:// or rediss://")
        issuer = (env.get("GRAPHWARDEN_ISSUER") or "http://127.0.0.1:8000").rstrip("/")
        integration = env.get("GRAPHWARDEN_LEDGER_INTEGRATION") or "inline"
        if integration not in ("inline", "deferred"):
            raise ConfigError(
                f"GRAPHWARDEN_LEDGER_INTEGRATION must be inline or deferred, got {integration!r}"
            )
        analytics = env.get("GRAPHWARDEN_ANALYTICS_ENGINE") or "duckdb"
        if analytics not in ("duckdb", "spark"):
            raise ConfigError(
                f"GRAPHWARDEN_ANALYTICS_ENGINE must be duckdb or spark, got {analytics!r}"
            )
        return cls(
            database_url=url,
            data_dir=data_dir,
            redis_url=redis_url,
            issuer=issuer,
            ledger_integration=integration,
            allow_internal_callbacks=env.get("GRAPHWARDEN_ALLOW_INTERNAL_CALLBACKS", "") == "1",
            analytics_engine=analytics,
            spark_master=env.get("GRAPHWARDEN_SPARK_MASTER") or "local[2]",
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings.from_env()


__all__ = ["Settings", "get_settings"]
