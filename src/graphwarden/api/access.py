"""From an access token to the caller the Graph API serves: the token, the version it is
served under, and the :class:`~graphwarden.policy.context.AccessContext` the policy reads.

Version rule: a request is served under the LATER of the version in its path and the version
the app registered for. An app registered for v2.0 calling ``/v1.0/...`` gets v2.0 rules and
app-scoped ids; a path can move an app forward (v1.0 app calling ``/v3.0/``), never back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from graphwarden.consent.interfaces import OwnerState, TokenInfo
from graphwarden.consent.lapse import data_access_active
from graphwarden.core.errors import AuthError, InvalidInput
from graphwarden.core.types import API_VERSIONS, ApiVersion
from graphwarden.policy.context import AccessContext
from graphwarden.policy.tables import lapse_days

#: the longest token text looked at; anything longer is garbage
MAX_TOKEN_CHARS = 512


@dataclass(frozen=True, slots=True)
class Caller:
    """A resolved request: who asks, under which rules, with which id."""

    token: TokenInfo
    access: AccessContext
    #: the version in the request path (used in ``next``/``previous`` links)
    path_version: ApiVersion
    #: the request id, also the ``fbtrace_id`` of errors and the ledger batch's request id
    request_id: str
    #: the token text when it came in the query string, repeated in paging links so a client
    #: can follow them as they are; None when it came in the ``Authorization`` header, which
    #: is never copied into a URL (URLs end up in logs, histories and Referer headers)
    access_token: str | None

    @property
    def version(self) -> ApiVersion:
        """The version whose rules serve this request."""
        return self.access.api_version


def effective_version(path_version: ApiVersion, app_version: str) -> ApiVersion:
    """The later of the path's version and the app's registered version.

    >>> effective_version("v1.0", "v2.0"), effective_version("v3.0", "v1.0")
    ('v2.0', 'v3.0')
    """
    if app_version not in API_VERSIONS:
        return path_version
    return max(path_version, app_version, key=API_VERSIONS.index)


def pick_token(query_token: str | None, header: str | None) -> str:
    """The access token of a request, from ``access_token`` or ``Authorization: Bearer``.

    Both given and different is a parameter error (code 100); neither, or a header that is
    not a bearer credential, is a token error (code 190).
    """
    from_header: str | None = None
    if header is not None and header.strip():
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthError("The Authorization header must be 'Bearer <access token>'")
        from_header = value.strip()
    from_query = query_token.strip() if query_token is not None and query_token.strip() else None
    if from_query is not None and from_header is not None and from_query != from_header:
        raise InvalidInput(
            "(#100) Two different access tokens were given (query parameter and header)"
        )
    token = from_query or from_header
    if token is None:
        raise AuthError("An active access token must be used to query information")
    if len(token) > MAX_TOKEN_CHARS or not token.isascii() or not token.isprintable():
        raise AuthError("Invalid OAuth access token.")
    return token


def build_access(
    token: TokenInfo, state: OwnerState, version: ApiVersion, now: datetime
) -> AccessContext:
    """What the policy is told about the app, the token and the owner's consent.

    The lapse window is the served version's (v3.0: 90 days without use).
    """
    days = lapse_days(version)
    window = None if days is None else timedelta(days=days)
    active = state.last_used_at is not None and data_access_active(state.last_used_at, window, now)
    return AccessContext(
        api_version=version,
        app_status=token.app.status,
        token_active=True,
        owner_granted=state.granted,
        approved_permissions=state.approved_permissions,
        owner_has_role=state.owner_has_role,
        data_access_active=active,
        owner_authorized=state.authorized and state.platform_enabled,
        app_in_development=token.app.mode != "live",
    )


__all__ = ["MAX_TOKEN_CHARS", "Caller", "build_access", "effective_version", "pick_token"]
