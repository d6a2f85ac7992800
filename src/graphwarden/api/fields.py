"""The ``?fields=`` selection language of the Graph API, parsed by recursive descent.

Grammar (whitespace around tokens is ignored)::

    selection  := item ( "," item )*
    item       := NAME modifier* ( "{" selection "}" )?
    modifier   := "." NAME "(" NUMBER ")"          -- only ``limit`` is known

``friends.limit(5){name,birthday}`` selects the ``friends`` edge, five to a page, and of each
friend their name and birthday. Names are checked against the node type they are asked of
(a person, or a page in a ``likes`` listing); an unknown name is the Graph API's error 100,
"(#100) Tried accessing nonexisting field (x)". The parser bounds the input's length, the
number of items and the nesting depth, so an adversarial expression costs little.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.fields import FIELD_NAMES

#: the longest ``fields`` expression accepted (characters)
MAX_EXPRESSION_LENGTH = 2000
#: the most items in one expression, all levels together
MAX_ITEMS = 200
#: the deepest edge nesting (``friends{likes{name}}`` is depth 2)
MAX_DEPTH = 3
#: page size bounds, for ``limit`` and ``.limit(n)``
MIN_LIMIT = 1
MAX_LIMIT = 500
DEFAULT_LIMIT = 25

PERSON = "User"
PAGE = "Page"

#: fields of a page, as listed by the ``likes`` edge
PAGE_FIELDS: tuple[str, ...] = ("id", "name", "category")
#: what is served when no ``fields`` parameter is given (as the Graph API does)
DEFAULT_PERSON_FIELDS = "id,name"
DEFAULT_PAGE_FIELDS = "id,name"

#: the node type an edge lists
EDGE_NODE_TYPES: dict[str, str] = {"friends": PERSON, "likes": PAGE}


class FieldsError(InvalidInput):
    """A malformed or unknown ``fields`` selection; the message is the Graph API's."""


@dataclass(frozen=True, slots=True)
class FieldSelection:
    """One selected field; edges carry their page size and the selection of their members."""

    name: str
    limit: int | None = None
    children: tuple[FieldSelection, ...] | None = None

    @property
    def is_edge(self) -> bool:
        return self.name in EDGE_NODE_TYPES


def _known(node_type: str) -> tuple[str, ...]:
    return FIELD_NAMES if node_type == PERSON else PAGE_FIELDS


def nonexisting(name: str, node_type: str = PERSON) -> FieldsError:
    """The Graph API's error for a field the node type does not have."""
    return FieldsError(
        f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})"
    )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.items = 0

    # --- lexing helpers --------------------------------------------------------------------
    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def _peek(self) -> str:
        self._skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            found = self._peek() or "end of input"
            raise self._syntax(f"expected '{char}' but found '{found}'")
        self.pos += 1

    def _syntax(self, what: str) -> FieldsError:
        return FieldsError(f"(#100) Syntax error in fields at character {self.pos}: {what}")

    def _name(self) -> str:
        self._skip_space()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isascii()
            and (self.text[self.pos].isalnum() or self.text[self.pos] == "_")
        ):
            self.pos += 1
        if start == self.pos:
            found = self.text[self.pos] if self.pos < len(self.text) else "end of input"
            raise self._syntax(f"expected a field name but found '{found}'")
        return self.text[start : self.pos]

    def _number(self) -> int:
        self._skip_space()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in "0123456789":
            self.pos += 1
        digits = self.text[start : self.pos]
        if not digits or len(digits) > 9:
            raise self._syntax("expected a small whole number")
        return int(digits)

    # --- grammar ---------------------------------------------------------------------------
    def selection(self, node_type: str, depth: int) -> tuple[FieldSelection, ...]:
        items = [self.item(node_type, depth)]
        while self._peek() == ",":
            self.pos += 1
            items.append(self.item(node_type, depth))
        names = [i.name for i in items]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise FieldsError(f"(#100) Field ({dup}) is selected more than once")
        return tuple(items)

    def item(self, node_type: str, depth: int) -> FieldSelection:
        self.items += 1
        if self.items > MAX_ITEMS:
            raise FieldsError(f"(#100) Too many fields requested (at most {MAX_ITEMS})")
        name = self._name()
        if name not in _known(node_type):
            raise nonexisting(name, node_type)
        limit: int | None = None
        while self._peek() == ".":
            self.pos += 1
            modifier = self._name()
            if modifier != "limit":
                raise FieldsError(f"(#100) Unknown field modifier ({modifier}) on ({name})")
            if limit is not None:
                raise FieldsError(f"(#100) The limit of ({name}) is given more than once")
            self._expect("(")
            limit = self._number()
            self._expect(")")
            if not MIN_LIMIT <= limit <= MAX_LIMIT:
                raise FieldsError(
                    f"(#100) The limit of ({name}) must be between {MIN_LIMIT} and {MAX_LIMIT}"
                )
        is_edge = node_type == PERSON and name in EDGE_NODE_TYPES
        if limit is not None and not is_edge:
            raise FieldsError(f"(#100) Field ({name}) is not an edge and takes no limit")
        children: tuple[FieldSelection, ...] | None = None
        if self._peek() == "{":
            if not is_edge:
                raise FieldsError(f"(#100) Field ({name}) does not support subfields")
            if depth + 1 > MAX_DEPTH:
                raise FieldsError(f"(#100) Fields are nested too deeply (at most {MAX_DEPTH})")
            self.pos += 1
            children = self.selection(EDGE_NODE_TYPES[name], depth + 1)
            self._expect("}")
        elif is_edge:
            children = parse_fields(None, EDGE_NODE_TYPES[name])
        return FieldSelection(name=name, limit=limit, children=children)


def parse_fields(expression: str | None, node_type: str = PERSON) -> tuple[FieldSelection, ...]:
    """Parse a ``fields`` expression asked of ``node_type`` (``"User"`` or ``"Page"``).

    ``None`` or a blank expression selects the default fields (``id,name``).

    >>> [f.name for f in parse_fields("id,friends.limit(5){name}")]
    ['id', 'friends']
    """
    if expression is None or not expression.strip():
        expression = DEFAULT_PERSON_FIELDS if node_type == PERSON else DEFAULT_PAGE_FIELDS
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise FieldsError(
            f"(#100) The fields parameter is too long (at most {MAX_EXPRESSION_LENGTH} characters)"
        )
    parser = _Parser(expression)
    result = parser.selection(node_type, 0)
    if parser._peek():
        raise parser._syntax(f"unexpected '{parser._peek()}'")
    return result


def render_fields(selection: tuple[FieldSelection, ...]) -> str:
    """The canonical text of a selection (used in ``next``/``previous`` links).

    >>> render_fields(parse_fields(" name , friends.limit(2){ id }"))
    'name,friends.limit(2){id}'
    """
    parts: list[str] = []
    for item in selection:
        text = item.name
        if item.limit is not None:
            text += f".limit({item.limit})"
        if item.children is not None and item.is_edge:
            text += "{" + render_fields(item.children) + "}"
        parts.append(text)
    return ",".join(parts)


def selection_cost(selection: tuple[FieldSelection, ...]) -> int:
    """How many objects one node with ``selection`` may expand to (itself included).

    >>> selection_cost(parse_fields("id,friends.limit(10){likes.limit(5)}"))
    61
    """
    total = 1
    for item in selection:
        if item.is_edge and item.children is not None:
            total += (item.limit or DEFAULT_LIMIT) * selection_cost(item.children)
    return total


__all__ = [
    "DEFAULT_LIMIT",
    "EDGE_NODE_TYPES",
    "MAX_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "MAX_ITEMS",
    "MAX_LIMIT",
    "MIN_LIMIT",
    "PAGE",
    "PAGE_FIELDS",
    "PERSON",
    "FieldSelection",
    "FieldsError",
    "nonexisting",
    "parse_fields",
    "render_fields",
    "selection_cost",
]
