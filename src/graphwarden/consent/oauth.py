"""graphwarden's OAuth 2.0 authorization server, built on Authlib's server contract.

:class:`GraphwardenAuthorizationServer` implements ``authlib.oauth2.AuthorizationServer``
(``query_client``, ``save_token``, ``create_oauth2_request``, ``create_json_request``,
``handle_response``, ``send_signal``) over *plain values*: the HTTP layers hand it an
:class:`OAuthHttpRequest` and get back an :class:`OAuthResponse`, so this module imports no
web framework and is testable without a server (the Starlette translation is a few lines in
``api/oauth_routes.py`` and ``web/routes.py``).

What it allows (RFC 9700, the OAuth 2.0 Security BCP):

* the authorization code grant only (no implicit, no password grant), with PKCE ``S256``
  required of every client (:mod:`graphwarden.consent.rfc7636`);
* redirect URIs matched by exact string comparison; ``state`` returned unchanged; ``iss`` in
  every authorization response (RFC 9207);
* confidential clients only, authenticating with ``client_secret_basic`` or
  ``client_secret_post`` (secrets checked against their argon2 hash by the consent service);
* opaque access tokens issued through the consent service (hash-only, expiring), refresh
  tokens rotated on every use; a replayed code or refresh token revokes its whole family;
* revocation (RFC 7009, :mod:`~graphwarden.consent.rfc7009`), introspection for the token's own
  app (RFC 7662, :mod:`~graphwarden.consent.rfc7662`), metadata (RFC 8414,
  :mod:`~graphwarden.consent.rfc8414`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidRequestError,
    OAuth2Error,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from graphwarden.consent.accounts import AccountService
from graphwarden.consent.interfaces import AppInfo, ConsentService
from graphwarden.consent.oauth_http import (
    OAuthHttpRequest,
    OAuthResponse,
    PlainJsonRequest,
    PlainOAuth2Request,
)
from graphwarden.consent.oauth_store import OAuthStore, StoredCode, StoredRefresh, new_secret_token
from graphwarden.consent.ratelimit import storage_for
from graphwarden.consent.rfc7636 import S256, RequiredS256Challenge
from graphwarden.consent.signin import SignInThrottle
from graphwarden.core.clock import Clock, SystemClock
from graphwarden.core.db import session_factory
from graphwarden.core.errors import ConfigError
from graphwarden.core.types import AppId, PersonId

#: lifetime of an access token issued by the OAuth server (seconds); refresh tokens last longer
ACCESS_TOKEN_TTL = 2 * 3600
PUBLIC_PROFILE = "public_profile"
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class SecretVerifier(Protocol):
    def verify_app_secret(self, app: AppId, secret: str) -> bool: ...


# --- plain request and response ------------------------------------------------------------


# --- the client: an app, seen through Authlib's ClientMixin --------------------------------


class AppClient(ClientMixin):  # type: ignore[misc]
    """An app as an OAuth client: confidential, code + refresh grants, exact redirect URIs."""

    def __init__(self, app: AppInfo, secrets: SecretVerifier) -> None:
        self.app = app
        self._secrets = secrets

    def get_client_id(self) -> str:
        return str(self.app.id)

    def get_default_redirect_uri(self) -> str | None:
        # only when there is no choice to make (RFC 6749 §3.1.2.3)
        return self.app.redirect_uris[0] if len(self.app.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The scope asked for (commas or spaces), or the app's declared permissions."""
        asked = parse_scope(scope) or sorted(self.app.requested_permissions)
        return list_to_scope(sorted({PUBLIC_PROFILE, *asked}))  # type: ignore[no-any-return]

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # exact string comparison, never prefix or pattern (RFC 9700 §4.1.3)
        return redirect_uri in self.app.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self._secrets.verify_app_secret(self.app.id, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in CLIENT_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(frozen=True, slots=True)
class ConsentedPerson:
    """The resource owner as a grant sees them: who, what they granted, which family."""

    person_id: PersonId
    scope: str
    family: str

    def get_user_id(self) -> int:
        return int(self.person_id)


def parse_scope(scope: str | None) -> list[str]:
    """Permission names from a ``scope`` value; commas (as the Graph API) or spaces (RFC 6749).

    >>> parse_scope("email,user_likes public_profile")
    ['email', 'user_likes', 'public_profile']
    """
    if not scope:
        return []
    names = [part.strip() for part in scope.replace(",", " ").split()]
    return list(dict.fromkeys(name for name in names if name))


# --- grants ----------------------------------------------------------------------------------


class CodeRecord:
    """A redeemed authorization code, seen through Authlib's ``AuthorizationCodeMixin``."""

    def __init__(self, stored: StoredCode) -> None:
        self.stored = stored
        self.code_challenge = stored.code_challenge
        self.code_challenge_method = stored.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.stored.redirect_uri

    def get_scope(self) -> str:
        return self.stored.scope


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    """RFC 6749 §4.1, one use per code, bound to app, redirect URI and PKCE challenge."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)  # noqa: RUF012
    server: GraphwardenAuthorizationServer

    @staticmethod
    def validate_authorization_redirect_uri(request: Any, client: AppClient) -> str:
        """Exact match against the registered URIs (RFC 9700 §4.1.3).

        Authlib's version puts the presented URI in the error description; a URI carrying
        control characters would make that description itself invalid, so the text is fixed.
        """
        presented = request.payload.redirect_uri
        if presented:
            if not client.check_redirect_uri(presented):
                raise InvalidRequestError("redirect_uri is not registered for this app")
            return str(presented)
        default = client.get_default_redirect_uri()
        if not default:
            raise InvalidRequestError("Missing 'redirect_uri' in request.")
        return default

    def save_authorization_code(self, code: str, request: Any) -> None:
        user: ConsentedPerson = request.user
        data = request.payload.data
        self.server.store.save_code(
            code,
            app=request.client.app.id,
            person=user.person_id,
            redirect_uri=data.get("redirect_uri") or "",
            scope=user.scope,
            code_challenge=data["code_challenge"],
            code_challenge_method=data.get("code_challenge_method", S256),
            family=user.family,
        )

    def query_authorization_code(self, code: str, client: AppClient) -> CodeRecord | None:
        stored = self.server.store.redeem_code(code, client.app.id)
        return CodeRecord(stored) if stored is not None else None

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        """Nothing to do: :meth:`OAuthStore.redeem_code` already spent the code."""

    def authenticate_user(self, authorization_code: CodeRecord) -> ConsentedPerson | None:
        stored = authorization_code.stored
        return self.server.still_authorized(
            stored.app_id, stored.person_id, stored.scope, stored.family
        )


class RefreshRecord:
    """A spent refresh token, seen through Authlib's ``TokenMixin``."""

    def __init__(self, stored: StoredRefresh) -> None:
        self.stored = stored

    def check_client(self, client: AppClient) -> bool:
        return int(client.app.id) == int(self.stored.app_id)

    def get_scope(self) -> str:
        return self.stored.scope

    def get_expires_in(self) -> int:
        return int((self.stored.expires_at - self.stored.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return False  # rotate_refresh only answers live tokens

    def is_revoked(self) -> bool:
        return False


class RotatingRefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    """RFC 6749 §6 with rotation: each refresh spends the old token and issues a new pair."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)  # noqa: RUF012
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: GraphwardenAuthorizationServer

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshRecord | None:
        client: AppClient = self.request.client
        stored = self.server.store.rotate_refresh(refresh_token, client.app.id)
        return RefreshRecord(stored) if stored is not None else None

    def authenticate_user(self, refresh_token: RefreshRecord) -> ConsentedPerson | None:
        stored = refresh_token.stored
        user = self.server.still_authorized(
            stored.app_id, stored.person_id, stored.scope, stored.family
        )
        if user is None:
            # RFC 6749 §5.2: the grant no longer stands (app removed, or development mode
            # and no role): invalid_grant, not Authlib's invalid_request
            raise InvalidGrantError("the person no longer authorizes this app for you")
        return user

    def issue_token(self, user: ConsentedPerson, refresh_token: RefreshRecord) -> Any:
        """The new pair carries what the person grants *now* (``user.scope``, narrowed by
        :meth:`GraphwardenAuthorizationServer.still_authorized`), further narrowed to the
        ``scope`` asked for. A permission declined since the spent token was issued is left
        out even when asked for by name: RFC 6749 §6 lets a refresh narrow, never widen
        (what lies beyond the spent token's scope Authlib already refused, invalid_scope)."""
        current = scope_to_list(user.scope)
        asked = self.request.payload.scope
        if asked:
            wanted = set(scope_to_list(asked))
            current = [p for p in current if p in wanted or p == PUBLIC_PROFILE]
        return self.generate_token(
            user=user, scope=list_to_scope(current), include_refresh_token=True
        )

    def revoke_old_credential(self, refresh_token: RefreshRecord) -> None:
        """Nothing to do: :meth:`OAuthStore.rotate_refresh` already spent it."""


# --- the server ------------------------------------------------------------------------------


class GraphwardenAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's authorization server over graphwarden's consent service and store."""

    def __init__(
        self,
        consent: ConsentService,
        factory: sessionmaker[Session],
        *,
        issuer: str,
        clock: Clock | None = None,
        access_token_ttl: int = ACCESS_TOKEN_TTL,
    ) -> None:
        super().__init__(scopes_supported=None)
        self.consent = consent
        self.factory = factory
        self.issuer = issuer.rstrip("/")
        self.clock = clock or SystemClock()
        self.access_token_ttl = access_token_ttl
        self.store = OAuthStore(factory, self.clock)
        self.register_token_generator("default", self._generate_token)
        self.register_grant(AuthorizationCodeGrant, [RequiredS256Challenge()])
        self.register_grant(RotatingRefreshTokenGrant)
        from graphwarden.consent.rfc7009 import TokenRevocation
        from graphwarden.consent.rfc7662 import TokenIntrospection

        self.register_endpoint(TokenRevocation)
        self.register_endpoint(TokenIntrospection)

    # --- Authlib's contract -----------------------------------------------------------------

    def query_client(self, client_id: str | None) -> AppClient | None:
        """The app with id ``client_id`` if it is active; anything else is no client."""
        if not client_id or not client_id.isdigit() or len(client_id) > 18:
            return None
        app = self.consent.get_app(AppId(int(client_id)))
        if app is None or app.status != "active":
            return None
        return AppClient(app, self.consent)  # type: ignore[arg-type]

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """The access token is already stored (hash only) by the consent service; keep the
        refresh token's hash here, in the same family."""
        refresh = token.get("refresh_token")
        if refresh:
            user: ConsentedPerson = request.user
            self.store.save_refresh(
                refresh,
                app=request.client.app.id,
                person=user.person_id,
                scope=token.get("scope", user.scope),
                family=user.family,
            )

    def create_oauth2_request(self, request: Any) -> PlainOAuth2Request:
        if isinstance(request, PlainOAuth2Request):
            return request
        return PlainOAuth2Request(request)

    def create_json_request(self, request: Any) -> PlainJsonRequest:
        return PlainJsonRequest(request)

    def handle_response(self, status: int, body: Any, headers: Any) -> OAuthResponse:
        text = json.dumps(body) if isinstance(body, dict) else (body or "")
        return OAuthResponse(status=status, body=text, headers=list(headers or []))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners: security events are recorded where the state changes."""

    # --- graphwarden's additions ------------------------------------------------------------

    def _generate_token(
        self,
        grant_type: str,
        client: AppClient,
        user: ConsentedPerson,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        scope_list = scope_to_list(scope or user.scope) or [PUBLIC_PROFILE]
        access = self.consent.issue_token(
            client.app.id,
            user.person_id,
            scope=scope_list,
            issued_by="oauth",
            ttl_seconds=self.access_token_ttl,
            family=user.family,
        )
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": access,
            "expires_in": self.access_token_ttl,
            "scope": list_to_scope(scope_list),
        }
        if include_refresh_token:
            token["refresh_token"] = new_secret_token()
        return token

    def still_authorized(
        self, app: AppId, person: PersonId, scope: str, family: str
    ) -> ConsentedPerson | None:
        """The owner, with ``scope`` narrowed to what they grant *now*; None if they removed
        the app (a removed app gets nothing, not even through an old code or refresh token)."""
        authorization = self.consent.get_authorization(app, person)
        if authorization is None or authorization.removed_at is not None:
            return None
        info = self.consent.get_app(app)
        if info is None or (
            info.mode != "live" and person not in self.consent.role_holders_among(app, [person])
        ):
            # development mode (policy rule app-in-development): no token for anyone without
            # a role on the app, not even through an old code or refresh token
            return None
        now = authorization.granted - authorization.declined
        granted = [p for p in scope_to_list(scope) if p in now]
        if PUBLIC_PROFILE not in granted:
            granted.insert(0, PUBLIC_PROFILE)
        return ConsentedPerson(person, list_to_scope(granted), family)

    def error_redirect(self, error: Any, redirect_uri: str, state: str | None) -> OAuthResponse:
        """An authorization error sent back to a *registered* redirect URI with ``state`` and
        ``iss`` (RFC 6749 §4.1.2.1, RFC 9207 §2)."""
        params: list[tuple[str, str]] = [("error", error.error)]
        if error.description:
            params.append(("error_description", error.description))
        if state:
            params.append(("state", state))
        params.append(("iss", self.issuer))
        return OAuthResponse(302, "", [("Location", add_params_to_uri(redirect_uri, params))])

    def with_issuer(self, response: OAuthResponse) -> OAuthResponse:
        """Add ``iss`` to an authorization response's redirect (RFC 9207)."""
        location = response.location
        if location and "iss=" not in (urlsplit(location).query or ""):
            response.location = add_params_to_uri(location, [("iss", self.issuer)])
        return response

    def token_response(self, request: OAuthHttpRequest) -> OAuthResponse:
        """The token endpoint; RFC 6749 errors as JSON, never an exception."""
        try:
            response: OAuthResponse = self.create_token_response(request)
        except OAuth2Error as error:  # refused before a grant is chosen (insecure transport)
            response = self.handle_error_response(None, error)
        return _no_store(response)

    def endpoint_response(self, name: str, request: OAuthHttpRequest) -> OAuthResponse:
        """The revocation or introspection endpoint; RFC 6749 errors, never an exception."""
        try:
            response: OAuthResponse = self.create_endpoint_response(name, request)
        except OAuth2Error as error:  # refused before the endpoint runs (insecure transport)
            response = self.handle_error_response(None, error)
        return _no_store(response)


def _no_store(response: OAuthResponse) -> OAuthResponse:
    names = {n.lower() for n, _ in response.headers}
    if "cache-control" not in names:
        response.headers.append(("Cache-Control", "no-store"))
    if "content-type" not in names:
        response.headers.append(("Content-Type", "application/json"))
    return response


@dataclass(frozen=True)
class OAuthComponents:
    """What the OAuth endpoints and sign-in pages share, built once per process.

    The composition root puts one on ``app.state.oauth``.
    """

    server: GraphwardenAuthorizationServer
    accounts: AccountService
    consent: ConsentService
    engine: Engine
    issuer: str
    #: failed sign-ins per account and per client address (memory unless built with Redis)
    throttle: SignInThrottle = field(default_factory=SignInThrottle)


def build_oauth(
    consent: ConsentService,
    engine: Engine,
    *,
    issuer: str,
    clock: Clock | None = None,
    demo_login: bool = False,
    redis_url: str | None = None,
) -> OAuthComponents:
    """Build the authorization server and account service over one engine.

    ``demo_login`` comes from ``GRAPHWARDEN_DEMO_LOGIN=1`` (off by default): synthetic people
    sign in with ``demo-<id>`` (see :mod:`graphwarden.consent.accounts`).
    """
    factory = session_factory(engine)
    clock = clock or SystemClock()
    return OAuthComponents(
        server=GraphwardenAuthorizationServer(consent, factory, issuer=issuer, clock=clock),
        accounts=AccountService(factory, clock=clock, demo_login=demo_login),
        consent=consent,
        engine=engine,
        issuer=issuer.rstrip("/"),
        throttle=SignInThrottle(storage_for(redis_url)),
    )


def oauth_components(state: Any) -> OAuthComponents:
    """The components on an application's ``state``, built on first use from the
    composition root's ``state.consent``, ``state.engine``, ``state.settings`` and
    ``state.clock`` when ``state.oauth`` was not set explicitly.

    Demo sign-in follows ``GRAPHWARDEN_DEMO_LOGIN=1`` (off by default).
    """
    components = getattr(state, "oauth", None)
    if isinstance(components, OAuthComponents):
        return components
    import os

    consent = getattr(state, "consent", None)
    engine = getattr(state, "engine", None)
    settings = getattr(state, "settings", None)
    if consent is None or engine is None or settings is None:
        raise ConfigError("the application state lacks consent, engine or settings for OAuth")
    components = build_oauth(
        consent,
        engine,
        issuer=settings.issuer,
        clock=getattr(state, "clock", None),
        demo_login=os.environ.get("GRAPHWARDEN_DEMO_LOGIN", "") == "1",
        redis_url=settings.redis_url,
    )
    state.oauth = components
    return components


__all__ = [
    "ACCESS_TOKEN_TTL",
    "AppClient",
    "ConsentedPerson",
    "GraphwardenAuthorizationServer",
    "OAuthComponents",
    "build_oauth",
    "oauth_components",
    "parse_scope",
]
