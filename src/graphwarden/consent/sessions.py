"""Server-side revocation of signed-cookie sessions.

A session lives in a signed cookie (``web/session.py``), so any number of workers can read it
without a lookup; on its own, though, signing out only deletes the browser's copy, and a copied
cookie would stay valid until it expires. This table closes that gap with two kinds of rows:

* ``sid:<digest>`` — one signed-out session (the SHA-256 of its random id), kept until the
  cookie would have expired anyway, then purged;
* ``person:<id>`` / ``admin:<id>`` — every session of that account issued at or before the
  row's time is dead (written when a password changes, or on "sign out everywhere").

Times are wall-clock microseconds since the epoch, like the cookie's own timestamps. Checking a
session is one primary-key lookup of at most two rows.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import BigInteger, Engine, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from graphwarden.core.db import Base

#: what a signed-in session cookie holds (written by the pages' sign-in, read here and there)
PERSON_KEY = "person_id"
ADMIN_KEY = "admin_id"
SID_KEY = "sid"
ISSUED_KEY = "iat_us"


class SessionRevocation(Base):
    """A signed-out session (``sid:…``, until its expiry) or an account's cutoff time."""

    __tablename__ = "session_revocations"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: ``sid:`` rows: when the cookie expires (then the row is purged); account rows: the cutoff
    until_us: Mapped[int] = mapped_column(BigInteger)


def now_us() -> int:
    return time.time_ns() // 1000


def sid_key(sid: str) -> str:
    return "sid:" + hashlib.sha256(sid.encode()).hexdigest()[:64]


def revoke_session(engine: Engine, sid: str, expires_us: int) -> None:
    """Mark one session dead (sign-out); purge rows of sessions that expired anyway."""
    with Session(engine) as session, session.begin():
        session.execute(
            delete(SessionRevocation).where(
                SessionRevocation.key.like("sid:%"), SessionRevocation.until_us < now_us()
            )
        )
        if session.get(SessionRevocation, sid_key(sid)) is None:
            session.add(SessionRevocation(key=sid_key(sid), until_us=expires_us))


def revoke_account(session: Session, who: str, at_us: int | None = None) -> None:
    """Kill every session of ``who`` (``person:<id>`` or ``admin:<id>``) issued up to now, in
    the caller's transaction (a password change and its revocation commit together)."""
    cutoff = now_us() if at_us is None else at_us
    row = session.get(SessionRevocation, who)
    if row is None:
        session.add(SessionRevocation(key=who, until_us=cutoff))
    else:
        row.until_us = max(row.until_us, cutoff)


def session_is_live(engine: Engine, sid: str, who: str, issued_us: int) -> bool:
    """Whether a session (its id, its account, when it was issued) was neither signed out
    nor issued before its account's cutoff."""
    with Session(engine) as session:
        found = session.execute(
            select(SessionRevocation.key, SessionRevocation.until_us).where(
                SessionRevocation.key.in_((sid_key(sid), who))
            )
        ).all()
    rows = {str(key): int(until) for key, until in found}
    if sid_key(sid) in rows:
        return False
    cutoff = rows.get(who)
    return cutoff is None or issued_us > cutoff


def session_account(
    engine: Engine, session: Mapping[str, Any], kind: Literal["person", "admin"]
) -> int | None:
    """The person or admin signed in on an (already signature-checked) session dict, or
    None: nobody of that kind, a malformed session, or one signed out or cut off on the server.

    The pages read sessions through ``web.session.current_person``/``current_admin``; other
    entry points that accept the same cookie (the ledger's record route) read it here.
    """
    value = session.get(PERSON_KEY if kind == "person" else ADMIN_KEY)
    sid, issued = session.get(SID_KEY), session.get(ISSUED_KEY)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not isinstance(sid, str)
        or not isinstance(issued, int)
    ):
        return None
    return value if session_is_live(engine, sid, f"{kind}:{value}", issued) else None


__all__ = [
    "ADMIN_KEY",
    "ISSUED_KEY",
    "PERSON_KEY",
    "SID_KEY",
    "SessionRevocation",
    "now_us",
    "revoke_account",
    "revoke_session",
    "session_account",
    "session_is_live",
    "sid_key",
]
