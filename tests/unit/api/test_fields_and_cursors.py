"""The fields parser and the sealed cursors, with hypothesis properties: parsing never fails
with anything but a Graph API parameter error, and no altered cursor opens."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphwarden.api.access import effective_version, pick_token
from graphwarden.api.cursors import Cursor, CursorCodec, CursorError
from graphwarden.api.fields import FieldsError, parse_fields, render_fields, selection_cost
from graphwarden.core.errors import AuthError, InvalidInput


def test_nested_expansion_parses() -> None:
    sel = parse_fields("id, friends.limit(5){name,birthday}, likes{name}")
    assert [f.name for f in sel] == ["id", "friends", "likes"]
    assert sel[1].limit == 5
    assert [c.name for c in sel[1].children or ()] == ["name", "birthday"]
    assert render_fields(sel) == "id,friends.limit(5){name,birthday},likes{name}"
    assert selection_cost(sel) == 1 + 5 * 1 + 25 * 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x", "(#100) Tried accessing nonexisting field (x)"),
        ("likes{birthday}", "(#100) Tried accessing nonexisting field (birthday)"),
        ("name{id}", "does not support subfields"),
        ("name.limit(3)", "not an edge"),
        ("friends.limit(0)", "between 1 and 500"),
        ("friends{name", "expected '}'"),
        ("name,name", "more than once"),
        ("", None),
    ],
)
def test_errors_are_graph_api_parameter_errors(text: str, message: str | None) -> None:
    if message is None:
        assert [f.name for f in parse_fields(text)] == ["id", "name"]
        return
    with pytest.raises(FieldsError) as caught:
        parse_fields(text)
    assert message in str(caught.value)


@given(st.text(max_size=80))
def test_any_text_parses_or_is_a_parameter_error(text: str) -> None:
    try:
        sel = parse_fields(text)
    except FieldsError as exc:
        message = str(exc)
    else:
        assert parse_fields(render_fields(sel)) == sel
        return
    assert message.startswith("(#100)")


CODEC = CursorCodec(b"s" * 32)
CURSOR = Cursor("friends", app_id=3, subject_id=1, position=1234)


def test_cursor_round_trip_and_binding() -> None:
    text = CODEC.seal(CURSOR)
    assert "1234" not in text
    assert CODEC.open(text, edge="friends", app_id=3, subject_id=1) == CURSOR
    for edge, app, subject in (("likes", 3, 1), ("friends", 4, 1), ("friends", 3, 2)):
        with pytest.raises(CursorError):
            CODEC.open(text, edge=edge, app_id=app, subject_id=subject)
    with pytest.raises(CursorError):
        CursorCodec(b"t" * 32).open(text, edge="friends", app_id=3, subject_id=1)


@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_no_altered_cursor_opens(index: int, flip: int) -> None:
    text = CODEC.seal(CURSOR)
    raw = bytearray(text.encode())
    i = index % len(raw)
    raw[i] = (raw[i] ^ (flip or 1)) & 0x7F
    altered = raw.decode("ascii", errors="replace")
    if altered == text:
        return
    try:
        opened = CODEC.open(altered, edge="friends", app_id=3, subject_id=1)
    except CursorError:
        return
    # base64 padding bits can change without changing the bytes: then it is the same cursor
    assert opened == CURSOR


def test_key_file_is_shared_and_private(tmp_path: Path) -> None:
    path = tmp_path / "k" / "cursor.hex"
    a, b = CursorCodec.from_key_file(path), CursorCodec.from_key_file(path)
    assert b.open(a.seal(CURSOR), edge="friends", app_id=3, subject_id=1) == CURSOR
    assert path.stat().st_mode & 0o077 == 0


def test_effective_version_never_downgrades() -> None:
    assert effective_version("v1.0", "v2.0") == "v2.0"
    assert effective_version("v3.0", "v1.0") == "v3.0"
    assert effective_version("v2.0", "v2.0") == "v2.0"


def test_token_sources() -> None:
    assert pick_token("abc", None) == "abc"
    assert pick_token(None, "Bearer abc") == "abc"
    assert pick_token("abc", "Bearer abc") == "abc"
    with pytest.raises(InvalidInput):
        pick_token("abc", "Bearer xyz")
    for query, header in ((None, None), (None, "Basic abc"), ("", None), ("a" * 600, None)):
        with pytest.raises(AuthError):
            pick_token(query, header)
