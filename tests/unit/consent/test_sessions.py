"""Session revocation: a session is live exactly when it was not signed out and was issued
after its account's last cutoff (a password change)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from graphwarden.consent.sessions import (
    SessionRevocation,
    revoke_account,
    revoke_session,
    session_is_live,
)

EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("sign_in"), st.sampled_from(["person:1", "person:2", "admin:1"])),
        st.tuples(st.just("sign_out"), st.integers(0, 9)),
        st.tuples(st.just("cutoff"), st.sampled_from(["person:1", "person:2", "admin:1"])),
    ),
    max_size=30,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=EVENTS)
def test_live_exactly_when_not_signed_out_and_issued_after_the_cutoff(
    sqlite_engine: Engine, events: list[tuple[str, object]]
) -> None:
    with Session(sqlite_engine) as session, session.begin():
        session.execute(delete(SessionRevocation))
    far_future = 2**62
    sessions: list[tuple[str, str, int]] = []  # (sid, who, issued)
    signed_out: set[str] = set()
    cutoffs: dict[str, int] = {}
    clock = 1_000
    for kind, arg in events:
        clock += 1
        if kind == "sign_in":
            sessions.append((f"s{len(sessions)}", str(arg), clock))
        elif kind == "sign_out" and sessions:
            sid = sessions[int(arg) % len(sessions)][0]  # type: ignore[call-overload]
            revoke_session(sqlite_engine, sid, far_future)
            signed_out.add(sid)
        elif kind == "cutoff":
            with Session(sqlite_engine) as session, session.begin():
                revoke_account(session, str(arg), at_us=clock)
            cutoffs[str(arg)] = clock
    for sid, who, issued in sessions:
        expected = sid not in signed_out and issued > cutoffs.get(who, -1)
        assert session_is_live(sqlite_engine, sid, who, issued) is expected


def test_expired_sign_outs_are_purged(sqlite_engine: Engine) -> None:
    revoke_session(sqlite_engine, "old", 1)  # expired long ago
    revoke_session(sqlite_engine, "new", 2**62)
    with Session(sqlite_engine) as session:
        keys = {row.key for row in session.query(SessionRevocation)}
    assert len(keys) == 1
    assert not session_is_live(sqlite_engine, "new", "person:1", 10)
