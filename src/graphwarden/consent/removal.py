"""A person removes an app: one operation, whichever door it comes through.

The Graph API (``DELETE /{version}/me/permissions``), the settings page and any future door
call :func:`remove_app`: the authorization ends, every access and refresh token the person
holds for the app is revoked, and the app's data-deletion callback is scheduled (when the app
registered one; otherwise a ``no_callback`` record shows the person the app was told nothing).
Doing all three in one place keeps a door from forgetting one.
"""

from __future__ import annotations

from sqlalchemy import Engine

from graphwarden.consent.deletion import request_deletion
from graphwarden.consent.interfaces import ConsentService
from graphwarden.consent.oauth_store import OAuthStore
from graphwarden.core.clock import Clock, SystemClock
from graphwarden.core.db import session_factory
from graphwarden.core.types import AppId, PersonId


def remove_app(
    engine: Engine,
    consent: ConsentService,
    app: AppId,
    person: PersonId,
    *,
    clock: Clock | None = None,
) -> int:
    """End ``person``'s authorization of ``app``, revoke their tokens, schedule the callback.

    Returns the deletion-callback delivery id.
    """
    clock = clock or SystemClock()
    consent.remove_app(app, person)
    OAuthStore(session_factory(engine), clock).revoke_app_person(app, person)
    return request_deletion(engine, consent, app, person, clock=clock)


__all__ = ["remove_app"]
