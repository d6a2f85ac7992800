"""A third-party Graph API client, ``facebook-sdk`` 3.1.0, against a real ``graphwarden serve``
over loopback: ``get_object``, ``get_objects`` (``?ids=a,b``) and ``get_version()`` (which reads
the ``facebook-api-version`` response header)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from tests.integration.test_oauth_flow import server  # noqa: F401 - fixture

from graphwarden.consent.services import SqlConsentService
from graphwarden.core.db import create_store_engine
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.models import Friendship, Person

pytestmark = [pytest.mark.slow]


def test_facebook_sdk_get_objects_and_version(
    server: dict[str, object],  # noqa: F811
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import facebook

    engine = create_store_engine(sqlite_url)
    app, person = AppId(int(server["app_id"])), PersonId(int(server["person"]))  # type: ignore[call-overload]
    with Session(engine) as session, session.begin():
        friend = Person(
            name="Grace Hopper", first_name="Grace", last_name="Hopper", gender="female"
        )
        session.add(friend)
        session.flush()
        friend_id = friend.id
        session.add_all(
            [
                Friendship(person_id=person, friend_id=friend_id),
                Friendship(person_id=friend_id, friend_id=person),
            ]
        )
    consent = SqlConsentService(engine)
    consent.authorize(app, person, granted=["public_profile", "email", "user_friends"])
    consent.authorize(app, PersonId(friend_id), granted=["public_profile", "user_friends"])
    token = consent.issue_token(
        app, person, scope=["public_profile", "email", "user_friends"], issued_by="test"
    )
    friend_token = consent.issue_token(
        app, PersonId(friend_id), scope=["public_profile", "user_friends"], issued_by="test"
    )
    scoped = str(consent.scoped_id(app, PersonId(friend_id)))
    engine.dispose()
    # the SDK speaks to graph.facebook.com; point it at this server instead
    monkeypatch.setattr(facebook, "FACEBOOK_GRAPH_URL", f"{server['issuer']}/")
    graph = facebook.GraphAPI(access_token=token, version="3.0")
    assert graph.get_version() == "3.0"
    me = graph.get_object("me", fields="id,name,email")
    assert me["name"] == "Ada Lovelace"
    assert me["email"] == "ada@example.org"
    # another person who uses the app, by the app-scoped id this app knows them by
    both = graph.get_objects(["me", scoped], fields="name")
    assert set(both) == {"me", scoped}
    assert both["me"]["name"] == "Ada Lovelace"
    assert both[scoped]["name"] == "Grace Hopper"
    # an id the app was never given is 803 for the whole request, as the Graph API answers
    with pytest.raises(facebook.GraphAPIError) as refused:
        graph.get_objects(["me", "123456789"])
    assert refused.value.code == 803
    assert facebook.GraphAPI(access_token=friend_token, version="3.0").get_object("me")["name"]
