"""Graph API routes of the platform controls, and the deletion-callback worker.

``GET /{version}/me/deletion-status``  the data-deletion callbacks of the token owner *to the
token's app*: whether the app was told, whether it confirmed, its confirmation code. An app
never learns which other apps a person removed; the person sees them all on the
``/settings/deletions`` page.

The router's lifespan runs :func:`graphwarden.consent.deletion.deliver_due` every
:data:`DELIVERY_INTERVAL_S` seconds in a worker thread. Several server workers may each run it:
a delivery is claimed before it is posted, so none is posted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from graphwarden.api.access import pick_token
from graphwarden.api.openapi import graph_errors
from graphwarden.consent.deletion import deliver_due, deliveries, load_master_key
from graphwarden.core.errors import GraphwardenError
from graphwarden.core.types import ApiVersion

log = logging.getLogger("graphwarden.api.platform")

#: how often the server looks for due deletion callbacks
DELIVERY_INTERVAL_S = 15.0


async def _deliver_forever(app: FastAPI) -> None:
    state = app.state
    master = load_master_key(state.settings.data_dir)
    while True:
        try:
            done = await run_in_threadpool(
                functools.partial(
                    deliver_due,
                    master_key=master,
                    allow_internal=state.settings.allow_internal_callbacks,
                ),
                state.engine,
                state.clock.now(),
            )
            if done:
                log.info("deletion callbacks attempted: %d", len(done))
        except GraphwardenError:
            log.exception("deletion callback worker failed; retrying next round")
        await asyncio.sleep(DELIVERY_INTERVAL_S)


@contextlib.asynccontextmanager
async def deletion_worker(app: FastAPI) -> AsyncIterator[None]:
    """Run the deletion-callback worker while the server runs (needs ``app.state.engine``,
    ``settings`` and ``clock``, which ``create_app`` sets)."""
    if not all(hasattr(app.state, name) for name in ("engine", "settings", "clock")):
        yield
        return
    task = asyncio.create_task(_deliver_forever(app))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


router = APIRouter(lifespan=deletion_worker)


@router.get("/{version}/me/deletion-status", responses=graph_errors(400, 503))
def deletion_status(
    request: Request,
    version: ApiVersion,
    access_token: str | None = Query(None),
    authorization: str | None = Header(None),
) -> dict[str, Any]:
    """The token owner's deletion callbacks to the token's app, newest first."""
    token = request.app.state.consent.resolve_token(pick_token(access_token, authorization))
    statuses = deliveries(
        request.app.state.engine, person_id=int(token.person_id), app_id=int(token.app.id)
    )
    return {"data": [s.as_json() for s in statuses]}


__all__ = ["DELIVERY_INTERVAL_S", "deletion_worker", "router"]
