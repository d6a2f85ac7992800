"""Pages: sign-in, sign-out, the OAuth consent screen, and removing an app.

``/oauth/authorize`` is a page (a person reads and decides), so it lives here with the other
pages and their sessions; the machine-to-machine OAuth endpoints live in
``api/oauth_routes.py``. Both use the one authorization server on ``app.state.oauth``
(:func:`graphwarden.consent.oauth.build_oauth`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AccessDeniedError, InvalidScopeError
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from graphwarden.consent.oauth import (
    ConsentedPerson,
    OAuthComponents,
    oauth_components,
)
from graphwarden.consent.oauth_http import OAuthHttpRequest, OAuthResponse
from graphwarden.consent.oauth_store import new_family
from graphwarden.consent.removal import remove_app as remove_app_everywhere
from graphwarden.core.errors import AuthError, GraphwardenError, PermissionDenied, RateLimited
from graphwarden.core.types import AppId, PersonId
from graphwarden.ledger.recipients import apps_that_received
from graphwarden.web.consent_screen import (
    NotAllowedToAuthorizeError,
    Offer,
    UnrequestablePermissionError,
    build_offer,
)
from graphwarden.web.pages import page
from graphwarden.web.redirects import same_site_path
from graphwarden.web.session import (
    CSRF_FIELD,
    SessionRoute,
    current_person,
    sign_in_admin,
    sign_in_person,
    sign_out,
    stash,
    unstash,
    verify_csrf,
)

router = APIRouter(route_class=SessionRoute)

_NEXT = "next"
_MAX_FORM_FIELDS = 200


def oauth_of(request: Request) -> OAuthComponents:
    """The OAuth components the composition root put on ``app.state.oauth``."""
    return oauth_components(request.app.state)


async def plain_request(request: Request, issuer: str) -> OAuthHttpRequest:
    """Translate a Starlette request into the server's plain request.

    The URL is rebuilt on the issuer (the public base URL), so a TLS-terminating proxy in
    front does not make requests look like plain http.
    """
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        data = await request.form(max_fields=_MAX_FORM_FIELDS, max_files=0)
        form = [(k, v) for k, v in data.multi_items() if isinstance(v, str)]
    query = request.url.query
    url = issuer + request.url.path + (f"?{query}" if query else "")
    return OAuthHttpRequest(
        method=request.method,
        url=url,
        headers=request.headers,
        query=list(request.query_params.multi_items()),
        form=form,
    )


def as_response(result: OAuthResponse) -> Response:
    headers = dict(result.headers)
    return Response(content=result.body, status_code=result.status, headers=headers)


def error_page(request: Request, title: str, message: str, status: int) -> HTMLResponse:
    return page(request, "error.html", status, title=title, message=message)


def _safe_next(value: Any) -> str:
    """Where to go after sign-in: ``value`` when it is a path on this site, else ``/``."""
    return same_site_path(value) or "/"


# --- sign-in ---------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    """The sign-in form; ``?next=`` (a path on this site, nothing else) is where it returns."""
    _keep_next(request)
    demo = oauth_of(request).accounts.demo_login
    return page(request, "login.html", admin=False, error=None, demo=demo)


def _keep_next(request: Request) -> None:
    """Remember ``?next=`` for after sign-in, when it is a path on this site."""
    target = same_site_path(request.query_params.get(_NEXT))
    if target is not None:
        stash(request, _NEXT, target)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    components = oauth_of(request)
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    identifier = _str(form.get("identifier")) or ""
    demo = components.accounts.demo_login
    throttled = _throttled(request, components, identifier, admin=False)
    if throttled is not None:
        return throttled
    try:
        person = await run_in_threadpool(
            components.accounts.authenticate_person,
            identifier,
            _str(form.get("password")) or "",
        )
    except AuthError as exc:
        components.throttle.failed(identifier, _address(request))
        return page(request, "login.html", 401, admin=False, error=str(exc), demo=demo)
    components.throttle.succeeded(identifier)
    target = _safe_next(unstash(request, _NEXT))
    sign_in_person(request, person)
    return RedirectResponse(target, status_code=303)


@router.get("/login/admin", response_class=HTMLResponse)
async def admin_login_form(request: Request) -> HTMLResponse:
    """The platform admins' sign-in form (``?next=`` as for ``/login``)."""
    _keep_next(request)
    return page(request, "login.html", admin=True, error=None, demo=False)


@router.post("/login/admin", response_class=HTMLResponse)
async def admin_login(request: Request) -> Response:
    components = oauth_of(request)
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    identifier = _str(form.get("identifier")) or ""
    throttled = _throttled(request, components, "admin:" + identifier, admin=True)
    if throttled is not None:
        return throttled
    try:
        admin = await run_in_threadpool(
            components.accounts.authenticate_admin,
            identifier,
            _str(form.get("password")) or "",
        )
    except AuthError as exc:
        components.throttle.failed("admin:" + identifier, _address(request))
        return page(request, "login.html", 401, admin=True, error=str(exc), demo=False)
    components.throttle.succeeded("admin:" + identifier)
    target = _safe_next(unstash(request, _NEXT))
    sign_in_admin(request, admin.id, admin.username)
    return RedirectResponse(target, status_code=303)


def _address(request: Request) -> str | None:
    """The client's address as the socket saw it (proxy headers are not trusted)."""
    return request.client.host if request.client is not None else None


def _throttled(
    request: Request, components: OAuthComponents, identifier: str, *, admin: bool
) -> Response | None:
    """The sign-in page with HTTP 429 when too many attempts failed; None to go on."""
    try:
        components.throttle.check(identifier, _address(request))
    except RateLimited as exc:
        demo = components.accounts.demo_login and not admin
        answer = page(request, "login.html", 429, admin=admin, error=str(exc), demo=demo)
        answer.headers["Retry-After"] = str(exc.retry_after_s)  # RFC 6585 §4
        return answer
    return None


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    sign_out(request)
    return RedirectResponse("/login", status_code=303)


# --- the consent screen ------------------------------------------------------------------------


@router.get("/oauth/authorize", response_class=HTMLResponse)
async def authorize_screen(request: Request) -> Response:
    """RFC 6749 §4.1.1: validate the request, sign the person in, show what the app asks."""
    components = oauth_of(request)
    plain = await plain_request(request, components.issuer)
    grant, failure = _validate(request, components, plain)
    if failure is not None:
        return failure
    person = current_person(request)
    if person is None:
        stash(request, _NEXT, str(request.url.path) + "?" + request.url.query)
        return RedirectResponse("/login", status_code=303)
    offer, failure = await _offer(request, components, grant, person, plain)
    if failure is not None:
        return failure
    assert offer is not None
    if offer.already_granted:
        # nothing new to ask: the app gets a code for what the person granted before
        server = components.server
        user = ConsentedPerson(person, list_to_scope(sorted(offer.offered)), new_family())
        result = await run_in_threadpool(
            server.create_authorization_response, grant.request, user, grant
        )
        return as_response(server.with_issuer(result))
    return page(
        request,
        "consent.html",
        offer=offer,
        app=offer.app,
        action="/oauth/authorize?" + urlencode(list(request.query_params.multi_items())),
    )


@router.post("/oauth/authorize")
async def authorize_decision(request: Request) -> Response:
    """RFC 6749 §4.1.2: record the decision and send the person back with a code or an error."""
    components = oauth_of(request)
    server = components.server
    plain = await plain_request(request, components.issuer)
    form = dict(plain.form)
    try:
        verify_csrf(request, form.get(CSRF_FIELD))
    except PermissionDenied as exc:
        return error_page(request, "Form expired", str(exc), 403)
    person = current_person(request)
    if person is None:
        return error_page(request, "Signed out", "Sign in and start again from the app.", 401)
    grant, failure = _validate(request, components, plain)
    if failure is not None:
        return failure
    offer, failure = await _offer(request, components, grant, person, plain)
    if failure is not None:
        return failure
    assert offer is not None
    if form.get("decision") != "allow":
        result = server.create_authorization_response(
            request=grant.request, grant_user=None, grant=grant
        )
        return as_response(server.with_issuer(result))
    checked = {value for key, value in plain.form if key == "grant"}
    granted, declined = offer.decide(checked)
    try:
        await run_in_threadpool(
            components.consent.authorize,
            offer.app.id,
            person,
            granted=sorted(granted),
            declined=sorted(declined),
        )
    except GraphwardenError as exc:
        return error_page(request, "Could not save your choice", str(exc), 400)
    user = ConsentedPerson(person, list_to_scope(sorted(granted)), new_family())
    result = await run_in_threadpool(
        server.create_authorization_response, grant.request, user, grant
    )
    return as_response(server.with_issuer(result))


def _validate(
    request: Request, components: OAuthComponents, plain: OAuthHttpRequest
) -> tuple[Any, Response | None]:
    """Authlib's validation of the authorization request; errors answered as RFC 6749 says."""
    server = components.server
    try:
        grant = server.get_consent_grant(request=plain, end_user=None)
    except ValueError:
        # Authlib refuses to build an error whose description would echo control characters
        return None, error_page(
            request, "This app's sign-in link is not valid", "invalid_request", 400
        )
    except OAuth2Error as error:
        if error.redirect_uri:
            # the redirect URI was checked against the app's: safe to send the error there
            state = dict(plain.query).get("state")
            return None, as_response(server.error_redirect(error, error.redirect_uri, state))
        # never redirect to a URI that is not registered: show the error here instead
        return None, error_page(
            request,
            "This app's sign-in link is not valid",
            f"{error.error}: {error.description or ''}".strip(),
            400,
        )
    return grant, None


async def _offer(
    request: Request,
    components: OAuthComponents,
    grant: Any,
    person: PersonId,
    plain: OAuthHttpRequest,
) -> tuple[Offer | None, Response | None]:
    server = components.server
    app = grant.request.client.app
    state = dict(plain.query).get("state")
    rerequest = dict(plain.query).get("auth_type") == "rerequest"
    try:
        previous = await run_in_threadpool(components.consent.get_authorization, app.id, person)
        offer = await run_in_threadpool(
            build_offer,
            components.engine,
            app,
            person,
            scope_to_list(grant.request.scope) or [],
            previous,
            rerequest=rerequest,
        )
    except UnrequestablePermissionError as exc:
        error = InvalidScopeError(description=str(exc))
        return None, as_response(server.error_redirect(error, grant.redirect_uri, state))
    except NotAllowedToAuthorizeError as exc:
        error = AccessDeniedError(description=str(exc))
        return None, as_response(server.error_redirect(error, grant.redirect_uri, state))
    return offer, None


# --- the person's apps ---------------------------------------------------------------------


@router.get("/settings/apps", response_class=HTMLResponse)
async def my_apps(request: Request) -> Response:
    """The apps a person authorized (each with a remove button, which asks first), and every
    app that received their data, including through a friend (from the ledger records whose
    subject is this person, and only those)."""
    person = current_person(request)
    if person is None:
        stash(request, _NEXT, "/settings/apps")
        return RedirectResponse("/login", status_code=303)
    components = oauth_of(request)
    consent = components.consent
    rows = []
    for auth in await run_in_threadpool(consent.authorizations_by, person):
        if auth.removed_at is None:
            app = await run_in_threadpool(consent.get_app, auth.app_id)
            rows.append((auth, app))
    received = []
    for recipient in await run_in_threadpool(apps_that_received, components.engine, int(person)):
        app = await run_in_threadpool(consent.get_app, AppId(recipient.app_id))
        received.append((recipient, app.name if app is not None else f"app {recipient.app_id}"))
    return page(request, "settings_apps.html", rows=rows, received=received)


@router.post("/settings/apps/{app_id}/remove")
async def remove_app(request: Request, app_id: int) -> Response:
    """The person removes an app: authorization ended, every token of theirs revoked."""
    components = oauth_of(request)
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    person = current_person(request)
    if person is None:
        return error_page(request, "Signed out", "Sign in to manage your apps.", 401)
    if await run_in_threadpool(components.consent.get_authorization, AppId(app_id), person):
        await run_in_threadpool(
            remove_app_everywhere,
            components.engine,
            components.consent,
            AppId(app_id),
            person,
            clock=components.server.clock,
        )
    return RedirectResponse("/settings/apps", status_code=303)


async def _checked_form(request: Request) -> FormData | Response:
    """The posted form when its CSRF token is valid, else the "Form expired" page."""
    form = await request.form(max_fields=_MAX_FORM_FIELDS, max_files=0)
    try:
        verify_csrf(request, _str(form.get(CSRF_FIELD)))
    except PermissionDenied as exc:
        return error_page(request, "Form expired", str(exc), 403)
    return form


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["as_response", "oauth_of", "plain_request", "router"]
