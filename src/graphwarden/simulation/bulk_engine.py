"""The bulk replay engine: the quiz's whole harvest decided by the policy's bulk face.

For populations too large to send through HTTP, the engine computes what the quiz-2014 app
would have received, request by request, with :class:`graphwarden.policy.bulk.BulkPolicy`
(compiled from the same tables as the per-request face), and writes the records as a ledger
in the same Parquet schema as the ledger's export (:data:`LEDGER_SCHEMA`), with the RFC 9162
Merkle root over their canonical encodings. The same analytics then read either ledger.

It mirrors the Graph API's read path exactly (a test compares the two on one population):

* per installer, in install order: ``/me`` with :data:`QUIZ_OWN_FIELDS` and nested likes,
  then every page of ``/me/friends`` with :data:`QUIZ_FRIEND_FIELDS` and nested likes;
* a field with no value is neither served nor recorded; a listed friend's ``id`` is
  recorded under the rule that listed them; ``likes`` is recorded once per subject and
  response when at least one page is listed;
* a friend "uses the app" when they installed it earlier (their authorization exists by the
  time the installer's requests are served).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from graphwarden.analytics.exposure import LEDGER_SCHEMA
from graphwarden.graph.fields import FIELD_BY_NAME, Relation
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.records import LeafEncoder, batch_part
from graphwarden.policy.bulk import MEMBER_FIELD, BulkPolicy, permission_mask
from graphwarden.simulation.scenarios import (
    QUIZ_FRIEND_FIELDS,
    QUIZ_FRIENDS_LIMIT,
    QUIZ_OWN_FIELDS,
    IntArray,
    ReplayPopulation,
    expected_grant,
    quiz_request,
    shares_field,
)

#: the ledger export's columns (``graphwarden.ledger.records.Disclosure``)
#: microseconds between two installers' sessions, in the api engine's clock and here alike
INSTALL_INTERVAL_US = 1_000_000
#: friendship pairs decided per step (bounds memory: ~40 bytes per pair and field)
_PAIR_CHUNK = 1_000_000

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class BulkLedger:
    """What :func:`run_bulk` wrote: the Parquet file, its record count and Merkle root."""

    path: Path
    records: int
    merkle_root: bytes | None


def request_id(version: str, position: int, page: int) -> str:
    """The synthetic request id of installer ``position``'s ``page``-th response
    (0: ``/me``; 1..: pages of ``/me/friends``)."""
    return f"quiz-{version}-{position}-{page}"


def _field_codes(names: tuple[str, ...]) -> list[int]:
    return [FIELD_BY_NAME[n].index for n in names]


class _Columns:
    """Growing record columns of one chunk, as numpy arrays."""

    def __init__(self) -> None:
        self.parts: list[tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]] = []

    def add(
        self,
        pos: IntArray,
        page: IntArray,
        subject: IntArray,
        order: IntArray,
        field: IntArray,
        rule: IntArray,
    ) -> None:
        self.parts.append((pos, page, subject, order, field, rule))

    def sorted(self) -> tuple[IntArray, ...]:
        if not self.parts:
            empty = np.zeros(0, dtype=np.int64)
            return (empty,) * 6
        cols = [np.concatenate([p[i] for p in self.parts]) for i in range(6)]
        pos, page, subject, order, _field, _rule = cols
        # response by response; inside one, subject by subject, fields in selection order
        idx = np.lexsort((order, subject, page, pos))
        return tuple(c[idx] for c in cols)


def _expand(pop: ReplayPopulation, owners: IntArray) -> tuple[IntArray, IntArray]:
    """(position within ``owners``, friend index) for every friendship of ``owners``."""
    starts = pop.indptr[owners]
    counts = pop.indptr[owners + 1] - starts
    total = int(counts.sum())
    which = np.repeat(np.arange(owners.size, dtype=np.int64), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    friends = pop.indices[np.repeat(starts, counts) + offsets].astype(np.int64)
    return which, friends


def _chunks(pop: ReplayPopulation, installers: IntArray) -> Iterator[tuple[int, int]]:
    """Ranges of installer positions whose friendships total at most ~``_PAIR_CHUNK``."""
    deg = pop.degree[installers]
    lo = 0
    acc = 0
    for i in range(installers.size):
        acc += int(deg[i])
        if acc >= _PAIR_CHUNK:
            yield lo, i + 1
            lo, acc = i + 1, 0
    if lo < installers.size:
        yield lo, int(installers.size)


def bulk_records(
    pop: ReplayPopulation, installers: IntArray, version: str
) -> Iterator[tuple[IntArray, ...]]:
    """The quiz's records under ``version``, chunk by chunk, in ledger order.

    Yields ``(position, page, subject index, field index, rule code)`` arrays; rule codes
    index ``BulkPolicy.for_version(version).rule_ids``; ``page`` 0 is ``/me``.
    """
    policy = BulkPolicy.for_version(version)
    granted = expected_grant(version, quiz_request(version))
    mask = permission_mask(granted)
    friends_grant = "user_friends" in granted
    n = pop.n
    k_total = int(installers.size)
    install_pos = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    install_pos[installers] = np.arange(k_total, dtype=np.int64)
    likes_present = pop.like_count > 0
    own_codes = [*_field_codes(QUIZ_OWN_FIELDS), FIELD_BY_NAME["likes"].index]
    friend_codes = [c for c in _field_codes(QUIZ_FRIEND_FIELDS) if c != 0]
    friend_codes.append(FIELD_BY_NAME["likes"].index)
    likes_code = FIELD_BY_NAME["likes"].index
    friends_code = FIELD_BY_NAME["friends"].index

    def decide(
        subjects: IntArray, code: int, relation: Relation, uses: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint8]]:
        m = subjects.size
        audience_col = friends_code if code == MEMBER_FIELD else code
        return policy.decide(
            relation=np.full(m, int(relation), dtype=np.uint8),
            field=np.full(m, code, dtype=np.uint8),
            audience=pop.audience[subjects, audience_col],
            shares=(
                np.ones(m, dtype=np.bool_)
                if code == MEMBER_FIELD
                else shares_field(pop.shares[subjects], code)
            ),
            subject_platform=pop.platform_enabled[subjects],
            uses_app=uses,
            subject_friends_grant=uses & friends_grant,
            owner_grant_mask=mask,
        )

    def present(subjects: IntArray, code: int) -> npt.NDArray[np.bool_]:
        if code == likes_code:
            return likes_present[subjects]
        return pop.has_value[subjects, code]

    for lo, hi in _chunks(pop, installers):
        owners = installers[lo:hi]
        positions = np.arange(lo, hi, dtype=np.int64)
        cols = _Columns()
        uses_self = np.ones(owners.size, dtype=np.bool_)
        # /me: the id decides whether the person is shown at all
        id_ok, id_rule = decide(owners, 0, Relation.SELF, uses_self)
        shown = owners[id_ok]
        shown_pos = positions[id_ok]
        zeros = np.zeros(shown.size, dtype=np.int64)
        for order, code in enumerate(own_codes):
            if code == 0:
                ok, rule = id_ok[id_ok], id_rule[id_ok]
            else:
                ok, rule = decide(shown, code, Relation.SELF, uses_self[: shown.size])
                ok &= present(shown, code)
            cols.add(
                shown_pos[ok], zeros[ok], shown[ok], np.full(int(ok.sum()), order),
                np.full(int(ok.sum()), code), rule[ok].astype(np.int64),
            )  # fmt: skip
        # /me/friends: the owner's own friends edge, then every friend it lists
        edge_ok, _ = decide(owners, friends_code, Relation.SELF, uses_self)
        edge_ok &= id_ok
        listing_owners = owners[edge_ok]
        listing_pos = positions[edge_ok]
        which, friends = _expand(pop, listing_owners)
        owner_pos = listing_pos[which]
        uses = install_pos[friends] < owner_pos
        listed, member_rule = decide(friends, MEMBER_FIELD, Relation.FRIEND, uses)
        owner_pos, friends, uses = owner_pos[listed], friends[listed], uses[listed]
        member_rule = member_rule[listed]
        # page number of each listed friend: QUIZ_FRIENDS_LIMIT per page, per owner
        if owner_pos.size:
            first = np.r_[True, owner_pos[1:] != owner_pos[:-1]]
            starts = np.flatnonzero(first)
            rank = np.arange(owner_pos.size) - np.repeat(
                starts, np.diff(np.r_[starts, owner_pos.size])
            )
            page = 1 + rank // QUIZ_FRIENDS_LIMIT
        else:
            page = np.zeros(0, dtype=np.int64)
        cols.add(owner_pos, page, friends, np.zeros(friends.size, dtype=np.int64),
                 np.zeros(friends.size, dtype=np.int64), member_rule.astype(np.int64))  # fmt: skip
        for order, code in enumerate(friend_codes, start=1):
            ok, rule = decide(friends, code, Relation.FRIEND, uses)
            ok &= present(friends, code)
            cnt = int(ok.sum())
            cols.add(owner_pos[ok], page[ok], friends[ok], np.full(cnt, order),
                     np.full(cnt, code), rule[ok].astype(np.int64))  # fmt: skip
        pos, page_s, subject, _order, field, rule = cols.sorted()
        yield pos, page_s, subject, field, rule


def run_bulk(
    pop: ReplayPopulation,
    installers: IntArray,
    version: str,
    out: Path,
    *,
    app_id: int = 1,
    start_us: int = 0,
    merkle: bool = True,
    progress: Progress | None = None,
) -> BulkLedger:
    """Write the quiz's ledger under ``version`` to ``out`` (Parquet, :data:`LEDGER_SCHEMA`).

    ``start_us``: the time of the first installer's session (each next one is
    :data:`INSTALL_INTERVAL_US` later, as in the api engine). ``progress`` is called with
    the number of installers done after each chunk.
    """
    from graphwarden.graph.fields import FIELDS

    policy = BulkPolicy.for_version(version)
    field_names = pa.array([f.name for f in FIELDS], pa.string())
    rule_names = pa.array(policy.rule_ids, pa.string())
    frontier = MerkleFrontier() if merkle else None
    encoder = LeafEncoder()
    seq = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(out, LEDGER_SCHEMA, compression="zstd") as writer:
        for pos, page, subject, field, rule in bulk_records(pop, installers, version):
            m = int(pos.size)
            if m == 0:
                continue
            seqs = np.arange(seq, seq + m, dtype=np.int64)
            at = start_us + pos * INSTALL_INTERVAL_US
            owner_ids = installers[pos] + 1
            req_codes, req_index = np.unique(pos * 100_000 + page, return_inverse=True)
            req_names = [
                request_id(version, int(c // 100_000), int(c % 100_000)) for c in req_codes
            ]
            req = pa.DictionaryArray.from_arrays(
                pa.array(req_index.astype(np.int32)), pa.array(req_names, pa.string())
            ).cast(pa.string())
            table = pa.table(
                {
                    "seq": seqs,
                    "at": pa.array(at, pa.int64()).cast(LEDGER_SCHEMA.field("at").type),
                    "request_id": req,
                    "app_id": np.full(m, app_id, dtype=np.int64),
                    "api_version": pa.array([version] * 1, pa.string()).take(
                        pa.array(np.zeros(m, dtype=np.int32))
                    ),
                    "owner_id": owner_ids,
                    "subject_id": subject + 1,
                    "field": field_names.take(pa.array(field.astype(np.int32))),
                    "rule_id": rule_names.take(pa.array(rule.astype(np.int32))),
                },
                schema=LEDGER_SCHEMA,
            )
            writer.write_table(table)
            if frontier is not None:
                frontier.extend(
                    list(_leaf_hashes(
                        encoder, seqs, at, req_index, req_names, app_id, version, owner_ids,
                        subject + 1, field, rule, [f.name for f in FIELDS], policy.rule_ids,
                    ))
                )  # fmt: skip
            seq += m
            if progress is not None:
                progress(int(pos[-1]) + 1)
    return BulkLedger(path=out, records=seq, merkle_root=frontier.root() if frontier else None)


def _leaf_hashes(
    encoder: LeafEncoder,
    seqs: IntArray,
    at: IntArray,
    req_index: IntArray,
    req_names: list[str],
    app_id: int,
    version: str,
    owner_ids: IntArray,
    subject_ids: IntArray,
    field: IntArray,
    rule: IntArray,
    field_names: list[str],
    rule_ids: list[str],
) -> Iterator[bytes]:
    """RFC 9162 leaf hashes of records in the canonical encoding (format 1)."""
    batches: dict[int, bytes] = {}
    items: dict[tuple[int, int], bytes] = {}
    for s, a, r, o, sub, f, ru in zip(
        seqs.tolist(), at.tolist(), req_index.tolist(), owner_ids.tolist(),
        subject_ids.tolist(), field.tolist(), rule.tolist(), strict=True,
    ):  # fmt: skip
        bp = batches.get(r)
        if bp is None:
            bp = batch_part(a, req_names[r], app_id, version, o)
            batches[r] = bp
        ip = items.get((f, ru))
        if ip is None:
            ip = encoder.item(field_names[f], rule_ids[ru])
            items[(f, ru)] = ip
        yield sha256(LeafEncoder.prefix(s) + bp + sub.to_bytes(8, "big", signed=True) + ip).digest()


__all__ = [
    "INSTALL_INTERVAL_US",
    "BulkLedger",
    "bulk_records",
    "request_id",
    "run_bulk",
]
