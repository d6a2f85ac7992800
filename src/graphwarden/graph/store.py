"""The SQL graph store: people, friendships, pages, likes, audiences and settings on SQLite or
PostgreSQL through SQLAlchemy Core.

Reads are on the Graph API's hot path, so each read is one statement shaped for an index:
``friend_ids`` is a range scan of the ``friendships`` primary key, a page of profiles (with
their privacy vectors when the policy needs them) is one ``IN`` query sent as prepared text
(:mod:`graphwarden.graph.sql_reads`) and built positionally into the frozen dataclasses, and
the friend-of-friend test is one ``EXISTS`` probing the primary key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Row, Table, and_, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from graphwarden.core.errors import IntegrityViolation, InvalidInput, NotFound, StoreError
from graphwarden.core.types import PageId, PersonId
from graphwarden.graph.fields import (
    AUDIENCE_FIELDS,
    FIELD_BY_NAME,
    AppsOthersUse,
    Audience,
    Relation,
)
from graphwarden.graph.interfaces import PageInfo, PrivacySettings, PrivacyVector, Profile
from graphwarden.graph.models import (
    Friendship,
    Like,
    Page,
    Person,
    apps_others_use,
    field_audiences,
)
from graphwarden.graph.sql_reads import PROFILE_COLUMNS, DriverReads

_people = cast(Table, Person.__table__)
_friendships = cast(Table, Friendship.__table__)
_pages = cast(Table, Page.__table__)
_likes = cast(Table, Like.__table__)

_PROFILE_COLUMNS = PROFILE_COLUMNS
_CATEGORY_COLUMNS = tuple(c.label for c in AppsOthersUse)
_AUDIENCE_OF: tuple[Audience, ...] = tuple(sorted(Audience, key=int))

T = TypeVar("T")


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise InvalidInput(f"limit must not be negative, got {limit}")


def profile_from_row(row: Row[Any] | Mapping[str, Any]) -> Profile:
    """A :class:`Profile` from a row of ``people`` columns (by name)."""
    m = row._mapping if isinstance(row, Row) else row
    values = {name: m[name] for name in _PROFILE_COLUMNS}
    values["id"] = PersonId(int(values["id"]))
    values["platform_enabled"] = bool(values["platform_enabled"])
    return Profile(**values)


class SqlGraphStore:
    """:class:`~graphwarden.graph.interfaces.GraphStore` on a SQLAlchemy engine.

    >>> store = SqlGraphStore(create_store_engine(url))  # doctest: +SKIP
    >>> store.friend_ids(PersonId(1), after=PersonId(10), limit=25)  # doctest: +SKIP
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._driver = DriverReads(engine)

    # --- plumbing ------------------------------------------------------------------------

    def _read(self, work: Callable[[Any], T]) -> T:
        try:
            with self.engine.connect() as conn:
                return work(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"store read failed: {exc.__class__.__name__}") from exc

    def _write(self, work: Callable[[Any], T], what: str) -> T:
        try:
            with self.engine.begin() as conn:
                return work(conn)
        except IntegrityError as exc:
            raise IntegrityViolation(what) from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"store write failed: {exc.__class__.__name__}") from exc

    # --- reads ---------------------------------------------------------------------------

    def get_profile(self, person: PersonId) -> Profile | None:
        """The profile of ``person``, or None when there is no such person."""
        return self.get_profiles([person]).get(person)

    def get_profiles(self, people: Sequence[PersonId]) -> dict[PersonId, Profile]:
        """Profiles of ``people`` that exist, in one query."""
        return self._driver.profiles(people)

    def profiles_with_privacy(
        self, people: Sequence[PersonId]
    ) -> dict[PersonId, tuple[Profile, PrivacyVector]]:
        """Profiles and privacy vectors of ``people`` that exist, in one query."""
        return self._driver.profiles_with_privacy(people)

    def privacy_vectors(self, people: Sequence[PersonId]) -> dict[PersonId, PrivacyVector]:
        """Privacy vectors of ``people`` that exist, in one query."""
        return self._driver.privacy_vectors(people)

    def get_privacy(self, people: Sequence[PersonId]) -> dict[PersonId, PrivacySettings]:
        """Audiences and "apps others use" switches of ``people`` that exist, in one query."""
        ids = sorted({int(p) for p in people})
        if not ids:
            return {}
        aud_cols = [field_audiences.c[name] for name in AUDIENCE_FIELDS]
        share_cols = [apps_others_use.c[name].label(f"s_{name}") for name in _CATEGORY_COLUMNS]
        stmt = (
            select(field_audiences.c.person_id, *aud_cols, *share_cols)
            .join(apps_others_use, apps_others_use.c.person_id == field_audiences.c.person_id)
            .where(field_audiences.c.person_id.in_(ids))
        )
        rows = self._read(lambda conn: conn.execute(stmt).all())
        out: dict[PersonId, PrivacySettings] = {}
        n_aud = len(AUDIENCE_FIELDS)
        categories = tuple(AppsOthersUse)
        for row in rows:
            # tuple indexing, not Audience(value): the enum call dominates a 100-row page
            audiences = {name: _AUDIENCE_OF[row[1 + i]] for i, name in enumerate(AUDIENCE_FIELDS)}
            sharing = {cat: bool(row[1 + n_aud + i]) for i, cat in enumerate(categories)}
            out[PersonId(int(row[0]))] = PrivacySettings(audiences, sharing)
        return out

    def friend_ids(
        self, person: PersonId, *, after: PersonId | None = None, limit: int | None = None
    ) -> list[PersonId]:
        """Friends of ``person`` in ascending id order, strictly after ``after``."""
        _check_limit(limit)
        f = _friendships
        stmt = select(f.c.friend_id).where(f.c.person_id == int(person)).order_by(f.c.friend_id)
        if after is not None:
            stmt = stmt.where(f.c.friend_id > int(after))
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = self._read(lambda conn: conn.execute(stmt).scalars().all())
        return [PersonId(int(r)) for r in rows]

    def friend_count(self, person: PersonId) -> int:
        """How many friends ``person`` has."""
        f = _friendships
        stmt = select(func.count()).select_from(f).where(f.c.person_id == int(person))
        return int(self._read(lambda conn: conn.execute(stmt).scalar_one()))

    def are_friends(self, a: PersonId, b: PersonId) -> bool:
        """Whether ``a`` and ``b`` are friends (one primary-key probe)."""
        f = _friendships
        stmt = select(exists().where(and_(f.c.person_id == int(a), f.c.friend_id == int(b))))
        return bool(self._read(lambda conn: conn.execute(stmt).scalar_one()))

    def mutual_friend_exists(self, a: PersonId, b: PersonId) -> bool:
        """Whether some friend of ``a`` is a friend of ``b`` (``a`` ≠ ``b``).

        One EXISTS: scan ``a``'s friends, probe ``(friend, b)`` on the primary key.
        """
        if int(a) == int(b):
            return False
        f1 = _friendships.alias("f1")
        f2 = _friendships.alias("f2")
        stmt = select(
            exists()
            .where(f1.c.person_id == int(a))
            .where(f2.c.person_id == f1.c.friend_id)
            .where(f2.c.friend_id == int(b))
        )
        return bool(self._read(lambda conn: conn.execute(stmt).scalar_one()))

    def relations(self, owner: PersonId, subjects: Sequence[PersonId]) -> dict[PersonId, Relation]:
        """How each of ``subjects`` stands to ``owner``, in at most two queries.

        Unknown people are strangers. A friend is ``FRIEND`` even when also a friend of a
        friend.
        """
        out: dict[PersonId, Relation] = {}
        rest: set[int] = set()
        for s in subjects:
            if int(s) == int(owner):
                out[PersonId(int(s))] = Relation.SELF
            else:
                rest.add(int(s))
        if not rest:
            return out
        f = _friendships
        f1 = _friendships.alias("f1")
        f2 = _friendships.alias("f2")

        def work(conn: Any) -> tuple[set[int], set[int]]:
            friends = set(
                conn.execute(
                    select(f.c.friend_id).where(
                        f.c.person_id == int(owner), f.c.friend_id.in_(sorted(rest))
                    )
                ).scalars()
            )
            others = rest - friends
            fof: set[int] = set()
            if others:
                # from each remaining subject's friends, probe (owner, that friend) by key
                fof = set(
                    conn.execute(
                        select(f2.c.person_id)
                        .distinct()
                        .join(
                            f1,
                            and_(f1.c.person_id == int(owner), f1.c.friend_id == f2.c.friend_id),
                        )
                        .where(f2.c.person_id.in_(sorted(others)))
                    ).scalars()
                )
            return friends, fof

        friends, fof = self._read(work)
        for sid in rest:
            if sid in friends:
                rel = Relation.FRIEND
            elif sid in fof:
                rel = Relation.FRIEND_OF_FRIEND
            else:
                rel = Relation.STRANGER
            out[PersonId(sid)] = rel
        return out

    def liked_pages(
        self, person: PersonId, *, after: PageId | None = None, limit: int | None = None
    ) -> list[PageInfo]:
        """Pages ``person`` likes, in ascending page id order, strictly after ``after``."""
        _check_limit(limit)
        stmt = (
            select(_pages.c.id, _pages.c.name, _pages.c.category)
            .join(_likes, _likes.c.page_id == _pages.c.id)
            .where(_likes.c.person_id == int(person))
            .order_by(_likes.c.page_id)
        )
        if after is not None:
            stmt = stmt.where(_likes.c.page_id > int(after))
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = self._read(lambda conn: conn.execute(stmt).all())
        return [PageInfo(PageId(int(r[0])), r[1], r[2]) for r in rows]

    def likes_of(self, people: Sequence[PersonId]) -> dict[PersonId, list[PageInfo]]:
        """Liked pages of each of ``people`` (page id order), in one query; every asked person
        has an entry, empty when they like nothing or do not exist."""
        ids = sorted({int(p) for p in people})
        out: dict[PersonId, list[PageInfo]] = {PersonId(i): [] for i in ids}
        if not ids:
            return out
        stmt = (
            select(_likes.c.person_id, _pages.c.id, _pages.c.name, _pages.c.category)
            .join(_pages, _pages.c.id == _likes.c.page_id)
            .where(_likes.c.person_id.in_(ids))
            .order_by(_likes.c.person_id, _likes.c.page_id)
        )
        rows = self._read(lambda conn: conn.execute(stmt).all())
        for r in rows:
            out[PersonId(int(r[0]))].append(PageInfo(PageId(int(r[1])), r[2], r[3]))
        return out

    def list_people(
        self, *, after: PersonId | None = None, limit: int = 100
    ) -> list[tuple[PersonId, str, int]]:
        """(id, name, friend_count) in id order."""
        _check_limit(limit)
        f = _friendships
        count = (
            select(func.count())
            .select_from(f)
            .where(f.c.person_id == _people.c.id)
            .scalar_subquery()
        )
        stmt = select(_people.c.id, _people.c.name, count).order_by(_people.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(_people.c.id > int(after))
        rows = self._read(lambda conn: conn.execute(stmt).all())
        return [(PersonId(int(r[0])), r[1], int(r[2])) for r in rows]

    def person_count(self) -> int:
        """How many people there are."""
        stmt = select(func.count()).select_from(_people)
        return int(self._read(lambda conn: conn.execute(stmt).scalar_one()))

    # --- writes --------------------------------------------------------------------------

    def add_person(self, profile: Profile, privacy: PrivacySettings | None = None) -> None:
        """Add a person with their audiences and "apps others use" switches (defaults when
        ``privacy`` is None). Raises ``IntegrityViolation`` if the id is taken."""
        self.add_people([(profile, privacy)])

    def add_people(self, people: Iterable[tuple[Profile, PrivacySettings | None]]) -> int:
        """Add many people in one transaction (bulk load); returns how many."""
        person_rows: list[dict[str, Any]] = []
        aud_rows: list[dict[str, Any]] = []
        share_rows: list[dict[str, Any]] = []
        for profile, privacy in people:
            settings = privacy or PrivacySettings()
            pid = int(profile.id)
            person_rows.append({name: getattr(profile, name) for name in _PROFILE_COLUMNS})
            aud_rows.append(
                {"person_id": pid}
                | {
                    name: int(settings.audiences.get(name, FIELD_BY_NAME[name].default_audience))
                    for name in AUDIENCE_FIELDS
                }
            )
            share_rows.append(
                {"person_id": pid}
                | {c.label: bool(settings.apps_others_use.get(c, True)) for c in AppsOthersUse}
            )
        if not person_rows:
            return 0

        def work(conn: Any) -> int:
            conn.execute(insert(_people), person_rows)
            conn.execute(insert(field_audiences), aud_rows)
            conn.execute(insert(apps_others_use), share_rows)
            return len(person_rows)

        return self._write(work, "a person with that id already exists")

    def add_friendship(self, a: PersonId, b: PersonId) -> None:
        """Make ``a`` and ``b`` friends (two directed rows, written together).

        Raises ``IntegrityViolation`` for a self-friendship, a duplicate or an unknown person.
        """
        self.add_friendships([(a, b)])

    def add_friendships(self, pairs: Iterable[tuple[PersonId, PersonId]]) -> int:
        """Add many friendships in one transaction (all or none); returns how many."""
        rows: list[dict[str, int]] = []
        seen: set[tuple[int, int]] = set()
        for a, b in pairs:
            ia, ib = int(a), int(b)
            if ia == ib:
                raise IntegrityViolation(f"a person cannot befriend themselves ({ia})")
            key = (min(ia, ib), max(ia, ib))
            if key in seen:
                raise IntegrityViolation(f"friendship {key[0]}–{key[1]} given twice")
            seen.add(key)
            rows.append({"person_id": ia, "friend_id": ib})
            rows.append({"person_id": ib, "friend_id": ia})
        if not rows:
            return 0

        def work(conn: Any) -> int:
            conn.execute(insert(_friendships), rows)
            return len(rows) // 2

        return self._write(work, "friendship already exists or names an unknown person")

    def add_page(self, page: PageInfo) -> None:
        """Add a page; raises ``IntegrityViolation`` if its id is taken."""
        row = {"id": int(page.id), "name": page.name, "category": page.category}
        self._write(lambda conn: conn.execute(insert(_pages), [row]), "page id already exists")

    def add_like(self, person: PersonId, page: PageId) -> None:
        """``person`` likes ``page``; raises ``IntegrityViolation`` for a duplicate or an
        unknown person or page."""
        self.add_likes([(person, page)])

    def add_likes(self, likes: Iterable[tuple[PersonId, PageId]]) -> int:
        """Add many likes in one transaction; returns how many."""
        rows = [{"person_id": int(p), "page_id": int(g)} for p, g in likes]
        if not rows:
            return 0

        def work(conn: Any) -> int:
            conn.execute(insert(_likes), rows)
            return len(rows)

        return self._write(work, "like already exists or names an unknown person or page")

    def _update_one(self, stmt: Any, person: PersonId) -> None:
        def work(conn: Any) -> int:
            return int(conn.execute(stmt).rowcount)

        if self._write(work, "update rejected") == 0:
            raise NotFound(f"no person {int(person)}")

    def set_audience(self, person: PersonId, field_name: str, audience: Audience) -> None:
        """Set who may see ``field_name`` of ``person``."""
        if field_name not in AUDIENCE_FIELDS:
            raise InvalidInput(f"field {field_name!r} has no settable audience")
        stmt = (
            update(field_audiences)
            .where(field_audiences.c.person_id == int(person))
            .values({field_name: int(Audience(audience))})
        )
        self._update_one(stmt, person)

    def set_apps_others_use(self, person: PersonId, category: AppsOthersUse, on: bool) -> None:
        """Whether friends of ``person`` may bring ``category`` into apps."""
        label = AppsOthersUse(category).label
        stmt = (
            update(apps_others_use)
            .where(apps_others_use.c.person_id == int(person))
            .values({label: bool(on)})
        )
        self._update_one(stmt, person)

    def set_platform_enabled(self, person: PersonId, on: bool) -> None:
        """Turn the platform (every app) on or off for ``person``."""
        stmt = update(_people).where(_people.c.id == int(person)).values(platform_enabled=on)
        self._update_one(stmt, person)


__all__ = ["SqlGraphStore", "profile_from_row"]
