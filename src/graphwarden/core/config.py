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

import contextlib
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

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
        _check_issuer(issuer)
        integration = env.get("GRAPHWARDEN_LEDGER_INTEGRATION") or "inline"
        if integration not in ("inline", "deferred"):
            raise ConfigError(
                f"GRAPHWARDEN_LEDGER_INTEGRATION must be inline or deferred, got {integration!r}"
            )
        return cls(
            database_url=url,
            data_dir=data_dir,
            redis_url=redis_url,
            issuer=issuer,
            ledger_integration=integration,
            allow_internal_callbacks=env.get("GRAPHWARDEN_ALLOW_INTERNAL_CALLBACKS", "") == "1",
        )


def _check_issuer(issuer: str) -> None:
    """OAuth 2 requires TLS: the issuer is https, or http only on this machine (development)."""
    try:
        parts = urlsplit(issuer)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    loopback = host == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if (
        parts is None
        or not host
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback))
    ):
        raise ConfigError(
            f"GRAPHWARDEN_ISSUER must be an https:// URL (http:// only on localhost or a "
            f"loopback address: OAuth 2 requires TLS), got {issuer!r}"
        )


def ensure_data_dir(data_dir: Path) -> None:
    """Create ``data_dir`` if missing and prove it writable, or raise ``ConfigError`` naming
    the path, the reason and the fix (what the server checks before it starts)."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise unwritable_path(exc, data_dir) from exc


def unwritable_path(exc: OSError, path: Path | str | None = None) -> ConfigError:
    """A one-line ``ConfigError`` for a file or directory graphwarden could not create or
    write: the path, the system's reason and the setting that moves it.

    >>> str(unwritable_path(PermissionError(13, "Permission denied", "/srv/gw/key")))[:40]
    'cannot write /srv/gw/key: Permission den'
    """
    target = Path(str(exc.filename if exc.filename is not None else path or "?"))
    reason = exc.strerror or exc.__class__.__name__
    data_dir = get_settings().data_dir if _settings_readable() else None
    if data_dir is not None and _within(target, data_dir):
        fix = (
            f"set GRAPHWARDEN_DATA_DIR to a directory this user can write (it is created if "
            f"missing), or make {data_dir} writable"
        )
    else:
        fix = "choose a path this user can write, or fix the permissions of its directory"
    return ConfigError(f"cannot write {target}: {reason}; {fix}")


def _settings_readable() -> bool:
    try:
        get_settings()
    except ConfigError:
        return False
    return True


def _within(path: Path, directory: Path) -> bool:
    path, directory = path.absolute(), directory.absolute()
    return path == directory or directory in path.parents or path in directory.parents


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings.from_env()


__all__ = ["Settings", "ensure_data_dir", "get_settings", "unwritable_path"]
