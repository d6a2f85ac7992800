"""``graphwarden apps``, ``tokens`` and ``users`` through the CLI runner and the real entry
point, on a fresh migrated SQLite store: JSON shapes, tables, and bad input exiting 2 with one
line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from graphwarden.cli.main import app as cli
from graphwarden.cli.main import main
from graphwarden.consent.models import AccessToken, Authorization
from graphwarden.consent.services import SqlConsentService
from graphwarden.core.db import create_store_engine
from graphwarden.core.types import PersonId
from graphwarden.graph.interfaces import Profile
from graphwarden.graph.store import SqlGraphStore

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def people(cli_env: str) -> str:
    engine = create_store_engine(cli_env)
    store = SqlGraphStore(engine)
    for i, name in ((1, "Alice Example"), (2, "Bob Example"), (3, "Carol Example")):
        store.add_person(Profile(PersonId(i), name, name.split()[0], "Example", "female"))
    store.add_friendship(PersonId(1), PersonId(2))
    store.add_friendship(PersonId(1), PersonId(3))
    engine.dispose()
    return cli_env


def create_app(*extra: str) -> dict[str, object]:
    code, out, err = invoke(
        "apps", "create", "--name", "Quiz", "--api-version", "v1.0",
        "--permissions", "user_birthday,friends_birthday", "--json", *extra,
    )  # fmt: skip
    assert code == 0, err
    return dict(json.loads(out))


# --- apps -----------------------------------------------------------------------------------


def test_apps_create_json_shape_and_secret_works(people: str) -> None:
    created = create_app("--redirect-uri", "https://quiz.example/cb")
    assert set(created) == {"id", "secret"}
    assert isinstance(created["id"], int)
    engine = create_store_engine(people)
    try:
        consent = SqlConsentService(engine)
        assert consent.verify_app_secret(created["id"], str(created["secret"]))  # type: ignore[arg-type]
        info = consent.get_app(created["id"])  # type: ignore[arg-type]
    finally:
        engine.dispose()
    assert info is not None
    assert info.redirect_uris == ("https://quiz.example/cb",)
    assert info.requested_permissions == {"public_profile", "user_birthday", "friends_birthday"}


def test_apps_create_prints_table_and_secret(people: str) -> None:
    code, out, _ = invoke("apps", "create", "--name", "Quiz", "--api-version", "v2.0")
    assert code == 0
    assert "Quiz" in out
    assert "secret: " in out
    assert "app id: 1" in out


def test_apps_list_and_show(people: str) -> None:
    first = create_app()
    create_app("--mode", "development")
    code, out, _ = invoke("apps", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [a["id"] for a in listed] == [1, 2]
    assert listed[1]["mode"] == "development"
    assert "secret" not in out
    code, out, _ = invoke("apps", "show", str(first["id"]), "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["api_version"] == "v1.0"
    assert shown["requested_permissions"] == ["friends_birthday", "public_profile", "user_birthday"]
    assert set(shown) >= {"id", "name", "status", "approved_permissions", "redirect_uris"}
    code, out, _ = invoke("apps", "list")
    assert code == 0
    assert "Quiz" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--api-version", "v9.0"], "unknown API version"),
        (["--permissions", "user_bday"], "unknown permission 'user_bday'"),
        (["--api-version", "v2.0", "--permissions", "friends_birthday"], "unknown permission"),
        (["--api-version", "v3.0", "--permissions", "user_religion_politics"], "no longer"),
        (["--mode", "sandbox"], "unknown mode"),
        (["--redirect-uri", "javascript:alert(1)"], "redirect URI"),
    ],
)
def test_apps_create_bad_input_exits_2(people: str, args: list[str], message: str) -> None:
    code, out, err = invoke("apps", "create", "--name", "Quiz", *args)
    assert code == 2
    assert message in err
    assert out == ""


def test_apps_show_unknown_exits_2(people: str) -> None:
    code, _, err = invoke("apps", "show", "42")
    assert code == 2
    assert "no app 42" in err
    code, _, _ = invoke("apps", "show", "not-a-number")
    assert code == 2


# --- tokens ---------------------------------------------------------------------------------


def test_tokens_issue_records_consent_and_operator(people: str) -> None:
    created = create_app()
    code, out, err = invoke(
        "tokens", "issue", "--app", str(created["id"]), "--user", "1",
        "--permissions", "user_birthday,friends_birthday", "--json",
    )  # fmt: skip
    assert code == 0, err
    issued = json.loads(out)
    assert set(issued) >= {"access_token"}
    token = issued["access_token"]
    engine = create_store_engine(people)
    try:
        info = SqlConsentService(engine).resolve_token(token)
        with engine.connect() as conn:
            by = conn.execute(select(AccessToken.issued_by)).scalar_one()
            granted = conn.execute(select(Authorization.granted)).scalar_one()
    finally:
        engine.dispose()
    assert info.person_id == 1
    assert info.scope == {"public_profile", "user_birthday", "friends_birthday"}
    assert by.startswith("cli:")
    assert granted == "friends_birthday,public_profile,user_birthday"


def test_tokens_issue_table_output(people: str) -> None:
    created = create_app()
    code, out, _ = invoke("tokens", "issue", "--app", str(created["id"]), "--user", "2")
    assert code == 0
    assert "access_token: " in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--app", "99", "--user", "1"], "no app 99"),
        (["--app", "1", "--user", "99"], "no user 99"),
        (["--app", "1", "--user", "1", "--permissions", "user_bday"], "unknown permission"),
    ],
)
def test_tokens_issue_bad_input_exits_2(people: str, args: list[str], message: str) -> None:
    create_app()
    code, out, err = invoke("tokens", "issue", *args, "--json")
    assert code == 2
    assert message in err
    assert out == ""


# --- users ----------------------------------------------------------------------------------


def test_users_list(people: str) -> None:
    code, out, _ = invoke("users", "list", "--json")
    assert code == 0
    assert json.loads(out) == [
        {"id": 1, "name": "Alice Example", "friend_count": 2},
        {"id": 2, "name": "Bob Example", "friend_count": 1},
        {"id": 3, "name": "Carol Example", "friend_count": 1},
    ]
    code, out, _ = invoke("users", "list", "--limit", "1", "--json")
    assert [u["id"] for u in json.loads(out)] == [1]
    code, out, _ = invoke("users", "list")
    assert code == 0
    assert "Alice Example" in out
    code, _, _ = invoke("users", "list", "--limit", "0")
    assert code == 2


# --- the real entry point -------------------------------------------------------------------


def test_unmigrated_store_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from graphwarden.core.config import get_settings

    monkeypatch.setenv("GRAPHWARDEN_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["users", "list"])
    finally:
        get_settings.cache_clear()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0
    assert "graphwarden db upgrade" in err


def test_entry_point_bad_input_is_one_line_exit_2(
    people: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["apps", "create", "--name", "Quiz", "--permissions", "user_bday"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == "graphwarden: error: unknown permission 'user_bday' in v2.0\n"


def test_tokens_issue_refuses_a_non_role_person_for_a_development_app(people: str) -> None:
    from graphwarden.consent.roles import set_role

    created = create_app("--mode", "development")
    code, out, err = invoke("tokens", "issue", "--app", str(created["id"]), "--user", "2")
    assert code == 2
    assert "holds no role" in err
    assert "access_token" not in out
    engine = create_store_engine(people)
    set_role(engine, int(created["id"]), 2, "tester", by="test")  # type: ignore[call-overload]
    engine.dispose()
    code, out, err = invoke("tokens", "issue", "--app", str(created["id"]), "--user", "2")
    assert code == 0, err
