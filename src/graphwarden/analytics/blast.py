"""The exact blast radius of one app, from the ledger's records: who, which fields, where,
through whose consent, and when.

Every figure is an Ibis expression over the ledger's Parquet export and the people table
(:mod:`graphwarden.analytics.engines`), so it runs on DuckDB or on Spark unchanged. The
records counted are those of the app with ``seq < tree_size``: the tree head the incident is
computed at, so a figure can always be checked against the signed log.

* ``people``: distinct subjects with at least one record;
* ``consenting``: the people whose own authorization was used (distinct token owners);
* ``non_consenting``: the affected who are not among them (reached through a friend);
* ``by_installer``: per token owner, how many records and distinct people went through them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from graphwarden.analytics.engines import as_micros, materialize
from graphwarden.analytics.exposure import quiet_backend

#: installers listed by name in a blast radius (the rest are counted)
TOP_INSTALLERS = 100


@dataclass(frozen=True)
class BlastRadius:
    """One app's exposure at one tree size."""

    app_id: int
    tree_size: int
    records: int
    people: int
    consenting: int
    consenting_affected: int
    non_consenting: int
    first_at_us: int | None
    last_at_us: int | None
    #: field -> {"people", "records"}
    by_field: dict[str, dict[str, int]] = field(default_factory=dict)
    #: country -> {"people", "non_consenting"}
    by_country: dict[str, dict[str, int]] = field(default_factory=dict)
    #: the installers who exposed most people: {"owner_id", "people", "records"}, most first
    top_installers: list[dict[str, int]] = field(default_factory=list)
    #: how many installers exposed each number of people: [[people, installers], ...]
    installer_histogram: list[list[int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "tree_size": self.tree_size,
            "records": self.records,
            "people": self.people,
            "consenting": self.consenting,
            "consenting_affected": self.consenting_affected,
            "non_consenting": self.non_consenting,
            "first_at_us": self.first_at_us,
            "last_at_us": self.last_at_us,
            "by_field": self.by_field,
            "by_country": self.by_country,
            "top_installers": self.top_installers,
            "installer_histogram": self.installer_histogram,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BlastRadius:
        return cls(**data)


def app_records(ledger: Any, app_id: int, tree_size: int | None = None) -> Any:
    """The app's records (``seq < tree_size`` when given) as an Ibis table."""
    t = ledger.filter(ledger.app_id == int(app_id))
    if tree_size is not None:
        t = t.filter(t.seq < int(tree_size))
    return t.select("seq", "at", "owner_id", "subject_id", "field")


def _rows(expr: Any) -> list[dict[str, Any]]:
    return list(expr.to_pyarrow().to_pylist())


def blast_radius(
    con: Any, ledger: Any, people: Any, app_id: int, tree_size: int | None = None
) -> BlastRadius:
    """The blast radius of ``app_id`` over the ``ledger`` and ``people`` tables of ``con``.

    The app's records are read once into the engine's cache (a temporary table of the
    connection, gone with it), then every figure is a small query over them.
    """
    with quiet_backend():
        t = materialize(con, app_records(ledger, app_id, tree_size))
        return _blast(t, people, app_id, tree_size)


def _blast(t: Any, people: Any, app_id: int, tree_size: int | None) -> BlastRadius:
    totals = _rows(
        t.aggregate(
            records=t.count(),
            people=t.subject_id.nunique(),
            consenting=t.owner_id.nunique(),
            first=t.at.min(),
            last=t.at.max(),
        )
    )[0]
    subjects = t.select(person_id=t.subject_id).distinct()
    owners = t.select(person_id=t.owner_id).distinct()
    non_consenting = subjects.anti_join(owners, "person_id")
    n_non = int(non_consenting.count().execute())
    per_field = _rows(
        t.group_by("field").aggregate(people=t.subject_id.nunique(), records=t.count())
    )
    flagged = subjects.left_join(non_consenting.mutate(nc=ibis.literal(1)), "person_id").select(
        subjects.person_id, "nc"
    )
    joined = flagged.left_join(people, flagged.person_id == people.person_id).select(
        country=people.country.fill_null("??"), nc=flagged.nc.fill_null(0)
    )
    per_country = _rows(
        joined.group_by("country").aggregate(people=joined.count(), non_consenting=joined.nc.sum())
    )
    per_owner = t.group_by("owner_id").aggregate(people=t.subject_id.nunique(), records=t.count())
    top = _rows(per_owner.order_by([ibis.desc("people"), "owner_id"]).limit(TOP_INSTALLERS))
    hist = _rows(per_owner.group_by("people").aggregate(installers=per_owner.count()))
    return BlastRadius(
        app_id=int(app_id),
        tree_size=-1 if tree_size is None else int(tree_size),
        records=int(totals["records"]),
        people=int(totals["people"] or 0),
        consenting=int(totals["consenting"] or 0),
        consenting_affected=int(totals["people"] or 0) - n_non,
        non_consenting=n_non,
        first_at_us=as_micros(totals["first"]),
        last_at_us=as_micros(totals["last"]),
        by_field={
            str(r["field"]): {"people": int(r["people"]), "records": int(r["records"])}
            for r in sorted(per_field, key=lambda r: (-int(r["people"]), str(r["field"])))
        },
        by_country={
            str(r["country"]): {
                "people": int(r["people"]),
                "non_consenting": int(r["non_consenting"] or 0),
            }
            for r in sorted(per_country, key=lambda r: (-int(r["people"]), str(r["country"])))
        },
        top_installers=[
            {
                "owner_id": int(r["owner_id"]),
                "people": int(r["people"]),
                "records": int(r["records"]),
            }
            for r in top
        ],
        installer_histogram=sorted([int(r["people"]), int(r["installers"])] for r in hist),
    )


@dataclass(frozen=True)
class AffectedPerson:
    """One affected person: which of their fields left, when, and through whose token."""

    person_id: int
    country: str
    consenting: bool
    fields: tuple[str, ...]
    first_at_us: int
    last_at_us: int
    #: token owners through whom their data left (their own id when they used the app)
    via: tuple[int, ...]
    records: int

    def to_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "country": self.country,
            "consenting": self.consenting,
            "fields": list(self.fields),
            "first_at_us": self.first_at_us,
            "last_at_us": self.last_at_us,
            "via": list(self.via),
            "records": self.records,
        }


def affected_people(
    con: Any, ledger: Any, people: Any, app_id: int, tree_size: int | None = None
) -> list[AffectedPerson]:
    """Every affected person of ``app_id``, by id: the rows of the notices and of the
    regulator's export."""
    with quiet_backend():
        t = app_records(ledger, app_id, tree_size)
        by_field = t.group_by(["subject_id", "field"]).aggregate(
            first=t.at.min(), last=t.at.max(), records=t.count()
        )
        pairs = t.select("subject_id", "owner_id").distinct()
        owners = t.select(owner=t.owner_id).distinct()
        subjects = t.select("subject_id").distinct()
        countries = subjects.left_join(people, subjects.subject_id == people.person_id).select(
            subjects.subject_id, country=people.country.fill_null("??")
        )
        consenting = subjects.inner_join(owners, subjects.subject_id == owners.owner).select(
            "subject_id"
        )
        fields_t = by_field.to_pyarrow()
        pairs_t = pairs.to_pyarrow()
        country_t = countries.to_pyarrow()
        consenting_ids = set(consenting.to_pyarrow().column("subject_id").to_pylist())
    return _assemble(fields_t, pairs_t, country_t, consenting_ids)


def _assemble(
    fields_t: pa.Table, pairs_t: pa.Table, country_t: pa.Table, consenting: set[int]
) -> list[AffectedPerson]:
    grouped = fields_t.group_by("subject_id").aggregate(
        [("field", "distinct"), ("first", "min"), ("last", "max"), ("records", "sum")]
    )
    via = pairs_t.group_by("subject_id").aggregate([("owner_id", "distinct")])
    via_of = dict(
        zip(
            via.column("subject_id").to_pylist(),
            via.column("owner_id_distinct").to_pylist(),
            strict=True,
        )
    )
    country_of = dict(
        zip(
            country_t.column("subject_id").to_pylist(),
            country_t.column("country").to_pylist(),
            strict=True,
        )
    )
    grouped = grouped.sort_by("subject_id")
    firsts = pc.cast(grouped.column("first_min"), pa.int64()).to_pylist()
    lasts = pc.cast(grouped.column("last_max"), pa.int64()).to_pylist()
    out = []
    for i, (pid, fields, records) in enumerate(
        zip(
            grouped.column("subject_id").to_pylist(),
            grouped.column("field_distinct").to_pylist(),
            grouped.column("records_sum").to_pylist(),
            strict=True,
        )
    ):
        out.append(
            AffectedPerson(
                person_id=int(pid),
                country=str(country_of.get(pid) or "??"),
                consenting=pid in consenting,
                fields=tuple(sorted(fields)),
                first_at_us=int(firsts[i]),
                last_at_us=int(lasts[i]),
                via=tuple(sorted(int(o) for o in via_of.get(pid, []))),
                records=int(records),
            )
        )
    return out


__all__ = [
    "TOP_INSTALLERS",
    "AffectedPerson",
    "BlastRadius",
    "affected_people",
    "app_records",
    "blast_radius",
]
