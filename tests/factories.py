"""Test factories shared across the suite: rows written straight to the store."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from graphwarden.consent.models import App
from graphwarden.graph.models import Person


def add_app_and_person(
    engine: Engine, callback: str | None, *, api_version: str = "v2.0"
) -> tuple[int, int]:
    """A live app named Quiz (with ``callback`` as its deletion URL) and one person."""
    with Session(engine) as session, session.begin():
        app = App(
            name="Quiz",
            secret_hash="x",
            scoping_key="0" * 64,
            api_version=api_version,
            mode="live",
            status="active",
            requested_permissions="public_profile",
            approved_permissions="",
            redirect_uris="",
            created_by="t",
            deletion_callback_url=callback,
        )
        person = Person(name="Ann A", first_name="Ann", last_name="A", gender="female")
        session.add_all([app, person])
        session.flush()
        return app.id, person.id
