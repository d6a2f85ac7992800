"""Pages of the developer portal and of the platform admins.

Developers (people signed in): ``/developers`` lists the apps they hold a role on and
registers new ones; ``/developers/apps/{id}`` shows an app to its role holders (anyone else
gets 404, not 403) with its roles, mode, secret rotation, App Review requests and deletion
callbacks. Admins (platform admins signed in): ``/admin/review`` is the review queue,
``/admin/log`` the admin action log. People: ``/settings/deletions`` lists the deletion
callbacks their app removals caused. Every form carries the session's CSRF token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from graphwarden.consent.admin_log import list_actions
from graphwarden.consent.deletion import deliveries, issue_signing_key, load_master_key
from graphwarden.consent.review import decide, get_review, list_reviews, submit_review
from graphwarden.consent.roles import (
    apps_with_role,
    remove_role,
    role_holders,
    role_of,
    rotate_app_secret,
    set_app_urls,
    set_mode,
    set_role,
)
from graphwarden.core.errors import GraphwardenError, InvalidInput, NotFound, PermissionDenied
from graphwarden.core.types import API_VERSIONS, AppId, PersonId
from graphwarden.policy import tables
from graphwarden.web.pages import page
from graphwarden.web.session import (
    CSRF_FIELD,
    current_admin,
    current_person,
    verify_csrf,
)

router = APIRouter()

_MAX_FIELDS = 50


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return page(request, name, status, **context)


def _error(request: Request, message: str, status: int) -> HTMLResponse:
    return _page(request, "portal_error.html", status, message=message)


def _signed_in(request: Request) -> PersonId | Response:
    person = current_person(request)
    if person is None:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    return person


async def _form(request: Request) -> dict[str, str]:
    """The posted form as plain strings, after the CSRF check."""
    form = await request.form(max_fields=_MAX_FIELDS)
    verify_csrf(request, str(form.get(CSRF_FIELD) or ""))
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


def _actor(request: Request, person: PersonId) -> str:
    return f"person:{int(person)}"


def _app_for(request: Request, app_id: int, person: PersonId, *, admin: bool) -> Any:
    """The app if ``person`` holds a role on it (an admin role when ``admin``); else 404."""
    role = role_of(request.app.state.engine, app_id, person)
    app = request.app.state.consent.get_app(AppId(app_id))
    if role is None or app is None or app.status == "deleted":
        raise NotFound(f"no app {app_id}")
    if admin and role != "admin":
        raise PermissionDenied("only the app's admins can do this")
    return app


# --- developers -----------------------------------------------------------------------------


@router.get("/developers", response_class=HTMLResponse)
def developer_home(request: Request) -> Response:
    """The apps the signed-in person holds a role on, and the registration form."""
    person = _signed_in(request)
    if isinstance(person, Response):
        return person
    engine, consent = request.app.state.engine, request.app.state.consent
    roles = apps_with_role(engine, person)
    apps = [(consent.get_app(app_id), role) for app_id, role in sorted(roles.items())]
    return _page(
        request,
        "portal_apps.html",
        apps=[(a, r) for a, r in apps if a is not None],
        versions=API_VERSIONS,
    )


@router.post("/developers/apps", response_class=HTMLResponse)
async def register_app(request: Request) -> Response:
    """Register an app: the person becomes its admin; secret and signing key shown once."""
    person = _signed_in(request)
    if isinstance(person, Response):
        return person
    try:
        form = await _form(request)
        version = form.get("api_version", "v3.0")
        if version not in API_VERSIONS:
            raise InvalidInput(f"unknown API version {version!r}")
        perms = [p.strip() for p in form.get("permissions", "").replace("\n", ",").split(",")]
        unknown = [p for p in perms if p and not tables.requestable(version, p)]
        if unknown:
            raise InvalidInput(f"{version} apps cannot request: {', '.join(unknown)}")
        new = request.app.state.consent.create_app(
            name=form.get("name", ""),
            api_version=version,
            permissions=[p for p in perms if p],
            redirect_uris=[u.strip() for u in form.get("redirect_uris", "").split() if u.strip()],
            mode="development",
            created_by=_actor(request, person),
            privacy_policy_url=form.get("privacy_policy_url") or None,
            deletion_callback_url=form.get("deletion_callback_url") or None,
        )
        engine = request.app.state.engine
        set_role(engine, new.id, person, "admin", by=_actor(request, person))
        key = issue_signing_key(
            engine,
            new.id,
            load_master_key(request.app.state.settings.data_dir),
            by=_actor(request, person),
        )
    except PermissionDenied as exc:
        return _error(request, str(exc), 403)
    except GraphwardenError as exc:
        return _error(request, str(exc), 400)
    return _page(request, "portal_secret.html", app_id=new.id, secret=new.secret, signing_key=key)


@router.get("/developers/apps/{app_id}", response_class=HTMLResponse)
def app_page(request: Request, app_id: int) -> Response:
    """One app, to its role holders."""
    person = _signed_in(request)
    if isinstance(person, Response):
        return person
    try:
        app = _app_for(request, app_id, person, admin=False)
    except NotFound as exc:
        return _error(request, str(exc), 404)
    engine = request.app.state.engine
    unreviewed = sorted(
        p
        for p in app.requested_permissions
        if tables.needs_review(app.api_version, p) and p not in app.approved_permissions
    )
    return _page(
        request,
        "portal_app.html",
        app=app,
        my_role=role_of(engine, app_id, person),
        holders=role_holders(engine, app_id),
        reviews=list_reviews(engine, status=None, app_id=app_id),
        unreviewed=unreviewed,
        deletions=deliveries(engine, app_id=app_id, limit=50),
    )


@router.post("/developers/apps/{app_id}/{action}", response_class=HTMLResponse)
async def app_action(request: Request, app_id: int, action: str) -> Response:
    """roles | unrole | urls | secret | signing-key | mode | review: an app admin's changes."""
    person = _signed_in(request)
    if isinstance(person, Response):
        return person
    engine, by = request.app.state.engine, _actor(request, person)
    try:
        form = await _form(request)
        _app_for(request, app_id, person, admin=action != "review")
        if action == "roles":
            set_role(
                engine, app_id, int(form.get("person_id", "0") or 0), form.get("role", ""), by=by
            )
        elif action == "urls":
            set_app_urls(
                engine,
                app_id,
                redirect_uris=form.get("redirect_uris", "").split(),
                privacy_policy_url=form.get("privacy_policy_url", "").strip() or None,
                deletion_callback_url=form.get("deletion_callback_url", "").strip() or None,
                by=by,
            )
        elif action == "unrole":
            remove_role(engine, app_id, int(form.get("person_id", "0") or 0), by=by)
        elif action == "secret":
            secret = rotate_app_secret(engine, app_id, by=by)
            return _page(
                request, "portal_secret.html", app_id=app_id, secret=secret, signing_key=None
            )
        elif action == "signing-key":
            key = issue_signing_key(
                engine, app_id, load_master_key(request.app.state.settings.data_dir), by=by
            )
            return _page(request, "portal_secret.html", app_id=app_id, secret=None, signing_key=key)
        elif action == "mode":
            set_mode(engine, app_id, form.get("mode", ""), by=by)
        elif action == "review":
            perms = form.get("permissions", "").replace("\n", ",").split(",")
            submit_review(
                engine,
                app_id,
                perms,
                form.get("stated_use", ""),
                submitted_by=by,
                needs_review=tables.needs_review,
            )
        else:
            raise NotFound(f"no action {action!r}")
    except ValueError:
        return _error(request, "person_id must be a number", 400)
    except NotFound as exc:
        return _error(request, str(exc), 404)
    except PermissionDenied as exc:
        return _error(request, str(exc), 403)
    except GraphwardenError as exc:
        return _error(request, str(exc), 400)
    return RedirectResponse(f"/developers/apps/{app_id}", status_code=303)


# --- people ---------------------------------------------------------------------------------


@router.get("/settings/deletions", response_class=HTMLResponse)
def my_deletions(request: Request) -> Response:
    """The deletion callbacks owed to the apps the signed-in person removed."""
    person = _signed_in(request)
    if isinstance(person, Response):
        return person
    return _page(
        request,
        "portal_deletions.html",
        deletions=deliveries(request.app.state.engine, person_id=person),
    )


# --- platform admins ------------------------------------------------------------------------


def _admin_name(request: Request) -> str | None:
    admin = current_admin(request)
    return None if admin is None else f"admin:{admin.username}"


@router.get("/admin/review", response_class=HTMLResponse)
def review_queue(request: Request) -> Response:
    """The App Review queue, oldest first."""
    if _admin_name(request) is None:
        return RedirectResponse("/login?next=/admin/review", status_code=303)
    engine = request.app.state.engine
    forecast, forecast_error = None, None
    wanted = request.query_params.get("forecast")
    if wanted is not None:
        from graphwarden.analytics.forecast import review_forecast

        try:
            review_id = int(wanted)
            installers = int(request.query_params.get("installers") or 1000)
            forecast = (review_id, review_forecast(engine, review_id, installers))
        except ValueError:
            forecast_error = "installers must be a number"
        except GraphwardenError as exc:
            forecast_error = str(exc)
    return _page(
        request,
        "admin_review.html",
        reviews=list_reviews(engine),
        forecast=forecast,
        forecast_error=forecast_error,
    )


@router.post("/admin/review/{review_id}", response_class=HTMLResponse)
async def review_decision(request: Request, review_id: int) -> Response:
    """Approve or reject, with a reason; the admin's name goes into the admin log."""
    admin = _admin_name(request)
    if admin is None:
        return _error(request, "sign in as a platform admin", 403)
    try:
        form = await _form(request)
        decision = form.get("decision")
        if decision not in ("approve", "reject"):
            raise InvalidInput("decision must be approve or reject")
        get_review(request.app.state.engine, review_id)
        decide(
            request.app.state.engine,
            review_id,
            approve=decision == "approve",
            admin=admin,
            reason=form.get("reason", ""),
        )
    except NotFound as exc:
        return _error(request, str(exc), 404)
    except PermissionDenied as exc:
        return _error(request, str(exc), 403)
    except GraphwardenError as exc:
        return _error(request, str(exc), 400)
    return RedirectResponse("/admin/review", status_code=303)


@router.get("/admin/log", response_class=HTMLResponse)
def admin_log(request: Request) -> Response:
    """The newest admin actions."""
    if _admin_name(request) is None:
        return RedirectResponse("/login?next=/admin/log", status_code=303)
    return _page(request, "admin_log.html", actions=list_actions(request.app.state.engine))


# --- incidents (platform admins only: ledger records are private) ---------------------------


@router.get("/admin/incidents", response_class=HTMLResponse)
def incidents_page(request: Request) -> Response:
    """Incidents, newest first."""
    from graphwarden.analytics.incidents import list_incidents

    if _admin_name(request) is None:
        return RedirectResponse("/login?next=/admin/incidents", status_code=303)
    return _page(
        request, "admin_incidents.html", incidents=list_incidents(request.app.state.engine)
    )


@router.get("/admin/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, incident_id: int) -> Response:
    """One incident: its blast radius, potential exposure and plots; to anyone but a platform
    admin it does not exist."""
    from graphwarden.analytics.incident_report import incident_plots
    from graphwarden.analytics.incidents import get_incident

    if _admin_name(request) is None:
        return _error(request, f"no incident {incident_id}", 404)
    try:
        view = get_incident(request.app.state.engine, incident_id)
    except NotFound as exc:
        return _error(request, str(exc), 404)
    return _page(
        request, "admin_incident.html", incident=view, blast=view.blast,
        potential=view.potential, plots=incident_plots(view),
    )  # fmt: skip


@router.post("/admin/incidents/{incident_id}/close", response_class=HTMLResponse)
async def incident_close(request: Request, incident_id: int) -> Response:
    """Close an incident (written to the admin log under the admin's name)."""
    from graphwarden.analytics.incidents import close_incident
    from graphwarden.core.clock import SystemClock

    admin = _admin_name(request)
    if admin is None:
        return _error(request, f"no incident {incident_id}", 404)
    try:
        form = await _form(request)
        close_incident(
            request.app.state.engine, incident_id, admin=admin, clock=SystemClock(),
            reason=form.get("reason", ""),
        )  # fmt: skip
    except NotFound as exc:
        return _error(request, str(exc), 404)
    except GraphwardenError as exc:
        return _error(request, str(exc), 400)
    return RedirectResponse(f"/admin/incidents/{incident_id}", status_code=303)


__all__ = ["router"]
