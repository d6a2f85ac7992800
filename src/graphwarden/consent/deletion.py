"""Data-deletion callbacks: when a person removes an app, the platform tells the app to delete
what it holds about them, and keeps trying until the app confirms or the attempts run out.

The callback is a ``POST`` to the app's deletion-callback URL with the form field
``signed_request`` (see :mod:`graphwarden.consent.signed_request`). A 2xx answer is delivery;
anything else, or no answer, is retried with exponential back-off (30 s, 1 min, 2 min, ...,
capped at 6 h) up to :data:`MAX_ATTEMPTS`. The app may answer
``{"url": ..., "confirmation_code": ...}``; both are kept and shown to the person.

Signing key. The app secret is stored only as an argon2 hash, so it cannot key an HMAC. Each
app instead has a *deletion signing key*: 32 random bytes, shown to the developer with the app
secret (and again only by rotating it), kept encrypted (Fernet) under the platform's master key
in ``GRAPHWARDEN_DATA_DIR/deletion-master.key``. A database leak alone reveals neither the app
secret nor the signing keys. See docs/platform.md.

Workers. :func:`deliver_due` claims each due delivery with a conditional update before posting,
so several server workers running it at once never post the same attempt twice.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, cast

import httpx
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from graphwarden.consent import egress
from graphwarden.consent.admin_log import record_action
from graphwarden.consent.interfaces import ConsentService
from graphwarden.consent.models import App
from graphwarden.consent.platform_models import AppSigningKey, DeletionDelivery
from graphwarden.consent.signed_request import b64url_decode, b64url_encode, deletion_request
from graphwarden.core.clock import Clock, SystemClock, as_utc
from graphwarden.core.errors import ConfigError, NotFound
from graphwarden.core.types import AppId, PersonId

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
#: how long a claimed delivery is held by the worker posting it before another may retry it
CLAIM_LEASE = timedelta(minutes=2)
POST_TIMEOUT_S = 10.0
MASTER_KEY_FILE = "deletion-master.key"

Outcome = Literal["pending", "delivered", "failed", "no_callback"]


# --- signing keys -------------------------------------------------------------------------


def load_master_key(data_dir: Path) -> bytes:
    """The platform's master key for signing keys, created (mode 0600) on first use."""
    path = data_dir / MASTER_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError as exc:
        raise ConfigError(f"{path} is not a valid master key") from exc
    return key


def issue_signing_key(
    engine: Engine, app_id: int, master_key: bytes, *, by: str, clock: Clock | None = None
) -> str:
    """Create or replace ``app_id``'s deletion signing key and return it (base64url), once.

    Logged as ``app:signing-key:rotate`` naming ``by``.
    """
    clock = clock or SystemClock()
    raw = secrets.token_bytes(32)
    token = Fernet(master_key).encrypt(raw).decode("ascii")
    with Session(engine) as session, session.begin():
        app = session.get(App, app_id)
        if app is None or app.status == "deleted":
            raise NotFound(f"no app {app_id}")
        row = session.get(AppSigningKey, app_id)
        if row is None:
            session.add(AppSigningKey(app_id=app_id, key_encrypted=token, created_at=clock.now()))
        else:
            row.key_encrypted, row.created_at = token, clock.now()
        record_action(
            session,
            admin=by,
            action="app:signing-key:rotate",
            target_type="app",
            target_id=app_id,
            target_label=app.name,
            clock=clock,
        )
    return b64url_encode(raw)


def signing_key_bytes(text: str) -> bytes:
    """The HMAC key behind the base64url text shown to the developer."""
    return b64url_decode(text)


def _signing_key(session: Session, app_id: int, master_key: bytes) -> bytes | None:
    row = session.get(AppSigningKey, app_id)
    if row is None:
        return None
    try:
        return Fernet(master_key).decrypt(row.key_encrypted.encode("ascii"))
    except InvalidToken as exc:
        raise ConfigError("the deletion master key does not open this app's signing key") from exc


# --- scheduling ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """What a person (or the app's developer) sees about one deletion callback."""

    id: int
    app_id: AppId
    app_name: str
    person_id: PersonId
    user_id: str
    outcome: Outcome
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    completed_at: datetime | None
    confirmation_code: str | None
    status_url: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "app": {"id": str(self.app_id), "name": self.app_name},
            "outcome": self.outcome,
            "attempts": self.attempts,
            "last_status": self.last_status,
            "requested_time": self.created_at.isoformat(),
            "next_attempt_time": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "completed_time": self.completed_at.isoformat() if self.completed_at else None,
            "confirmation_code": self.confirmation_code,
            "status_url": self.status_url,
        }


def schedule_deletion(
    engine: Engine, app_id: int, person_id: int, user_id: str, *, clock: Clock | None = None
) -> int:
    """Owe ``app_id`` a deletion callback for ``person_id`` (known to it as ``user_id``).

    Due at once; an app without a callback URL gets a ``no_callback`` record so the person
    still sees that the app was told nothing. Returns the delivery id.
    """
    clock = clock or SystemClock()
    now = clock.now()
    with Session(engine) as session, session.begin():
        app = session.get(App, app_id)
        if app is None:
            raise NotFound(f"no app {app_id}")
        url = app.deletion_callback_url or None
        row = DeletionDelivery(
            app_id=app_id,
            person_id=person_id,
            user_id=user_id,
            callback_url=url,
            created_at=now,
            attempts=0,
            next_attempt_at=now if url else None,
            outcome="pending" if url else "no_callback",
            completed_at=None if url else now,
        )
        session.add(row)
        session.flush()
        return row.id


def request_deletion(
    engine: Engine,
    consent: ConsentService,
    app_id: AppId,
    person_id: PersonId,
    *,
    clock: Clock | None = None,
) -> int:
    """Schedule the callback after ``person_id`` removed ``app_id`` (call after ``remove_app``).

    The payload's ``user_id`` is the id the app knows: app-scoped for v2.0+, the platform id
    for v1.0.
    """
    app = consent.get_app(app_id)
    if app is None:
        raise NotFound(f"no app {app_id}")
    user_id = str(person_id) if app.api_version == "v1.0" else consent.scoped_id(app_id, person_id)
    return schedule_deletion(engine, app_id, person_id, str(user_id), clock=clock)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s doubling, capped at 6 h."""
    delay: timedelta = BASE_DELAY * (2 ** max(0, attempts - 1))
    return min(MAX_DELAY, delay)


# --- delivery -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Due:
    id: int
    app_id: int
    user_id: str
    callback_url: str
    attempts: int


def _claim(session: Session, due: _Due, now: datetime) -> bool:
    """Take ``due`` for this worker: bump attempts and hold it for the lease, if still due."""
    result = session.execute(
        update(DeletionDelivery)
        .where(
            DeletionDelivery.id == due.id,
            DeletionDelivery.attempts == due.attempts,
            DeletionDelivery.outcome == "pending",
        )
        .values(attempts=due.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def _answer(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    code, url = body.get("confirmation_code"), body.get("url")
    return (str(code)[:200] if code is not None else None, str(url)[:500] if url else None)


def _post(
    http: httpx.Client, due: _Due, key: bytes | None, now: datetime, allow_internal: bool
) -> dict[str, object]:
    """One attempt; the columns to record about it (outcome decided by the caller)."""
    if key is None:
        return {
            "last_status": None,
            "last_error": "the app has no deletion signing key: rotate it in the developer portal",
        }
    refused = None if allow_internal else egress.refusal(due.callback_url)
    if refused is not None:
        return {"last_status": None, "last_error": refused[:500]}
    try:
        response = http.post(
            due.callback_url, data={"signed_request": deletion_request(due.user_id, now, key)}
        )
    except httpx.HTTPError as exc:
        return {"last_status": None, "last_error": f"{exc.__class__.__name__}: {exc}"[:500]}
    status = response.status_code
    if 200 <= status < 300:
        code, status_url = _answer(response)
        return {
            "last_status": status,
            "last_error": None,
            "confirmation_code": code,
            "status_url": status_url,
        }
    return {"last_status": status, "last_error": f"HTTP {status}"}


def deliver_due(
    engine: Engine,
    now: datetime,
    *,
    master_key: bytes,
    limit: int = 50,
    client: httpx.Client | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    allow_internal: bool = False,
) -> list[DeliveryStatus]:
    """Post every deletion callback due at ``now`` (up to ``limit``); return what happened.

    A callback whose host resolves to an internal address is not posted to
    (:func:`graphwarden.consent.egress.refusal`) unless ``allow_internal`` (development
    against a local receiver); the attempt fails saying so, and is retried like any other.

    A 2xx answer marks the delivery ``delivered``; otherwise it is retried after
    :func:`backoff` until ``max_attempts``, then marked ``failed``. An app with no signing key
    is not posted to (its callback could not verify the request); the attempt fails saying so.
    """
    with Session(engine) as session:
        due = [
            _Due(r.id, r.app_id, r.user_id, cast(str, r.callback_url), r.attempts)
            for r in session.scalars(
                select(DeletionDelivery)
                .where(
                    DeletionDelivery.outcome == "pending", DeletionDelivery.next_attempt_at <= now
                )
                .order_by(DeletionDelivery.next_attempt_at, DeletionDelivery.id)
                .limit(limit)
            )
        ]
    owned = client is None
    http = client or httpx.Client(timeout=POST_TIMEOUT_S, follow_redirects=False)
    done: list[int] = []
    try:
        for item in due:
            with Session(engine) as session, session.begin():
                if not _claim(session, item, now):
                    continue  # another worker took it
                key = _signing_key(session, item.app_id, master_key)
            values = _post(http, item, key, now, allow_internal)
            attempt = item.attempts + 1
            status = values["last_status"]
            if isinstance(status, int) and 200 <= status < 300:
                values |= {"outcome": "delivered", "completed_at": now, "next_attempt_at": None}
            elif attempt >= max_attempts:
                values |= {"outcome": "failed", "completed_at": now, "next_attempt_at": None}
            else:
                values["next_attempt_at"] = now + backoff(attempt)
            with Session(engine) as session, session.begin():
                session.execute(
                    update(DeletionDelivery)
                    .where(DeletionDelivery.id == item.id)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
            done.append(item.id)
    finally:
        if owned:
            http.close()
    return deliveries(engine, ids=done)


def deliveries(
    engine: Engine,
    *,
    person_id: int | None = None,
    app_id: int | None = None,
    ids: list[int] | None = None,
    limit: int = 100,
) -> list[DeliveryStatus]:
    """Deletion callbacks, newest first, for a person, an app, or by id."""
    stmt = (
        select(DeletionDelivery, App.name)
        .join(App, App.id == DeletionDelivery.app_id)
        .order_by(DeletionDelivery.id.desc())
        .limit(limit)
    )
    if person_id is not None:
        stmt = stmt.where(DeletionDelivery.person_id == person_id)
    if app_id is not None:
        stmt = stmt.where(DeletionDelivery.app_id == app_id)
    if ids is not None:
        stmt = stmt.where(DeletionDelivery.id.in_(ids))
    with Session(engine) as session:
        return [
            DeliveryStatus(
                id=row.id,
                app_id=AppId(row.app_id),
                app_name=name,
                person_id=PersonId(row.person_id),
                user_id=row.user_id,
                outcome=cast(Outcome, row.outcome),
                attempts=row.attempts,
                last_status=row.last_status,
                last_error=row.last_error,
                created_at=as_utc(row.created_at),
                next_attempt_at=as_utc(row.next_attempt_at) if row.next_attempt_at else None,
                completed_at=as_utc(row.completed_at) if row.completed_at else None,
                confirmation_code=row.confirmation_code,
                status_url=row.status_url,
            )
            for row, name in session.execute(stmt).all()
        ]


def status_json(statuses: list[DeliveryStatus]) -> str:
    """The deletion-status list as the Graph API returns it."""
    return json.dumps({"data": [s.as_json() for s in statuses]})


__all__ = [
    "BASE_DELAY",
    "MAX_ATTEMPTS",
    "DeliveryStatus",
    "backoff",
    "deliver_due",
    "deliveries",
    "issue_signing_key",
    "load_master_key",
    "request_deletion",
    "schedule_deletion",
    "signing_key_bytes",
    "status_json",
]
