"""Stored forms of consent records: permission lists, app and authorization rows as values,
and the checks a value passes before it is stored.

Permission sets are stored as sorted, comma-separated names; names are checked for shape only
(``[a-z_]+``): which names a platform version knows is the policy's table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Table

from graphwarden.consent.interfaces import AppInfo, AuthorizationInfo
from graphwarden.consent.models import App
from graphwarden.core.clock import as_utc
from graphwarden.core.errors import InvalidInput
from graphwarden.core.types import ApiVersion, AppId, PersonId

_apps = cast(Table, App.__table__)
_PERMISSION = re.compile(r"[a-z_]{1,64}")
APP_MODES = ("development", "live")
APP_STATUSES = ("active", "suspended", "deleted")


# --- permission sets -------------------------------------------------------------------------


def check_permissions(names: Iterable[str]) -> frozenset[str]:
    """The names as a set, each checked for shape; raises ``InvalidInput`` on a bad one."""
    out = set()
    for name in names:
        if not isinstance(name, str) or _PERMISSION.fullmatch(name) is None:
            raise InvalidInput(f"invalid permission name {name!r}")
        out.add(name)
    return frozenset(out)


def split_permissions(value: str | None) -> frozenset[str]:
    """A stored comma list as a set."""
    return frozenset(p for p in (value or "").split(",") if p)


def join_permissions(perms: Iterable[str]) -> str:
    """A set as its stored form: sorted, comma-separated."""
    return ",".join(sorted(set(perms)))


def check_url(uri: str, what: str = "redirect URI") -> str:
    """``uri`` if it is an absolute http(s) URL without fragment, else ``InvalidInput``."""
    # RFC 6749 §3.1.2: absolute URI, no fragment; exact matching happens at the OAuth layer
    parts = urlsplit(uri)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.fragment
        or any(ch.isspace() for ch in uri)
        or len(uri) > 500
    ):
        raise InvalidInput(f"{what} must be an absolute http(s) URL without fragment: {uri!r}")
    return uri


# --- rows to values --------------------------------------------------------------------------

_APP_COLUMNS = (
    "id",
    "name",
    "api_version",
    "mode",
    "status",
    "requested_permissions",
    "approved_permissions",
    "redirect_uris",
    "privacy_policy_url",
    "deletion_callback_url",
)


def app_columns(prefix: str = "") -> list[Any]:
    return [_apps.c[name].label(prefix + name) for name in _APP_COLUMNS]


def app_info(m: Mapping[str, Any], prefix: str = "") -> AppInfo:
    return AppInfo(
        id=AppId(int(m[prefix + "id"])),
        name=m[prefix + "name"],
        api_version=cast(ApiVersion, m[prefix + "api_version"]),
        mode=m[prefix + "mode"],
        status=m[prefix + "status"],
        requested_permissions=split_permissions(m[prefix + "requested_permissions"]),
        approved_permissions=split_permissions(m[prefix + "approved_permissions"]),
        redirect_uris=tuple(u for u in (m[prefix + "redirect_uris"] or "").split("\n") if u),
        privacy_policy_url=m[prefix + "privacy_policy_url"],
        deletion_callback_url=m[prefix + "deletion_callback_url"],
    )


def authorization_info(m: Mapping[str, Any]) -> AuthorizationInfo:
    removed = m["removed_at"]
    return AuthorizationInfo(
        app_id=AppId(int(m["app_id"])),
        person_id=PersonId(int(m["person_id"])),
        granted=split_permissions(m["granted"]),
        declined=split_permissions(m["declined"]),
        created_at=as_utc(m["created_at"]),
        last_used_at=as_utc(m["last_used_at"]),
        removed_at=None if removed is None else as_utc(removed),
    )


__all__ = [
    "APP_MODES",
    "APP_STATUSES",
    "app_columns",
    "app_info",
    "authorization_info",
    "check_permissions",
    "check_url",
    "join_permissions",
    "split_permissions",
]
