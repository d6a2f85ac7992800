"""Which apps received a person's data, from the ledger records whose subject is that person.

This is the person's own view of the ledger: :func:`apps_that_received` reads only records
whose subject is the person asked about, and the caller (the settings and home pages) asks
only about the signed-in person. It says, per app, how many of the person's field values left,
which fields, when, and whether they left through the person's own consent or through a
friend who used the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from graphwarden.core.errors import StoreError


@dataclass(frozen=True, slots=True)
class Recipient:
    """One app that received some of a person's field values."""

    app_id: int
    #: records (field values) with this person as subject
    records: int
    #: of which left through a friend's token (the person never used the app for them)
    through_friends: int
    fields: tuple[str, ...]
    first_at_us: int
    last_at_us: int

    @property
    def through_a_friend(self) -> bool:
        """Whether any of it left through someone else's consent."""
        return self.through_friends > 0


def apps_that_received(engine: Engine, subject_id: int) -> list[Recipient]:
    """Every app that received a field value of ``subject_id``, most records first.

    >>> [r.app_id for r in apps_that_received(engine, 42)]  # doctest: +SKIP
    [1, 3]
    """
    sql = text(
        "SELECT b.app_id, COUNT(*), "
        "SUM(CASE WHEN b.owner_id = d.subject_id THEN 0 ELSE 1 END), "
        "MIN(b.at_us), MAX(b.at_us) "
        "FROM disclosures d JOIN disclosure_batches b ON b.id = d.batch_id "
        "WHERE d.subject_id = :s GROUP BY b.app_id"
    )
    fields_sql = text(
        "SELECT DISTINCT b.app_id, d.field "
        "FROM disclosures d JOIN disclosure_batches b ON b.id = d.batch_id "
        "WHERE d.subject_id = :s"
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(sql, {"s": int(subject_id)}).all()
            fields: dict[int, set[str]] = {}
            for app_id, field in conn.execute(fields_sql, {"s": int(subject_id)}):
                fields.setdefault(int(app_id), set()).add(str(field))
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the ledger: {exc.__class__.__name__}") from exc
    found = [
        Recipient(
            app_id=int(app_id),
            records=int(count),
            through_friends=int(friends or 0),
            fields=tuple(sorted(fields.get(int(app_id), ()))),
            first_at_us=int(first),
            last_at_us=int(last),
        )
        for app_id, count, friends, first, last in rows
    ]
    return sorted(found, key=lambda r: (-r.records, r.app_id))




def records_by_app(engine: Engine) -> dict[int, int]:
    """How many records the ledger holds for each app (every app in the store, whatever
    scenario it belongs to): the counts a report reconciles with ``ledger verify``."""
    sql = text(
        "SELECT b.app_id, SUM(b.count) FROM disclosure_batches b GROUP BY b.app_id ORDER BY 1"
    )
    try:
        with engine.connect() as conn:
            return {int(app): int(n) for app, n in conn.execute(sql)}
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the ledger: {exc.__class__.__name__}") from exc


__all__ = ["Recipient", "apps_that_received", "records_by_app"]
