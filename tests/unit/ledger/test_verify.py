"""Verification finds and names every single tampering of the stored log.

A ledger of ~1,000 records is built once; each tampering runs inside a transaction on one
connection, is verified there, and rolled back, so a thousand tamperings stay fast. The log
ends with a few records newer than its newest signed head, as a live ledger does between two
heads: only the state row's size and right edge vouch for those.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from tests.unit.ledger.builders import SIGNER, make_batch, make_ledger

from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.records import encode_record
from graphwarden.ledger.signing import LedgerSigner, SignedTreeHead
from graphwarden.ledger.verify import verify_connection, verify_ledger

HEAD_EVERY = 100


#: records appended after the last signed head, in batches that sign no head
TAIL_BATCHES = (5, 37, 1)


@dataclass(frozen=True)
class Log:
    size: int
    heads: list[int]
    batches: list[tuple[int, int, int]]  # (id, first_seq, count)

    @property
    def signed(self) -> int:
        """The size of the newest signed head: records from here on are signed by none."""
        return self.heads[-1]


def _build(engine: Engine, seed: int = 7) -> Log:
    rng = random.Random(seed)
    clock = ManualClock()
    ledger = make_ledger(engine, clock, head_every=HEAD_EVERY)
    total = 0
    i = 0
    while total < 1000:
        n = rng.choice((1, 5, 37, 60, 140))
        ledger.append(
            make_batch(
                n,
                request_id=f"req-{i}",
                app_id=rng.randint(1, 3),
                owner_id=rng.randint(1, 50),
                at=clock.now(),
                first_subject=rng.randint(1, 10_000),
            )
        )
        total += n
        i += 1
        clock.advance(seconds=rng.choice((0.1, 0.5, 1.5)))
    ledger.publish_head()
    for n in TAIL_BATCHES:  # within a second and under HEAD_EVERY records: no head falls due
        ledger.append(make_batch(n, request_id=f"tail-{n}", at=clock.now()))
        total += n
    with engine.connect() as conn:
        heads = [
            r[0] for r in conn.exec_driver_sql("SELECT tree_size FROM signed_tree_heads ORDER BY 1")
        ]
        batches = [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT id, first_seq, count FROM disclosure_batches ORDER BY first_seq"
            )
        ]
    return Log(total, heads, batches)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Log]]:
    from graphwarden.core.db import upgrade

    path: Path = tmp_path_factory.mktemp("tamper") / "ledger.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_store_engine(url)
    log = _build(engine)
    yield engine, log
    engine.dispose()


def _record(conn: Connection, seq: int) -> list[object]:
    row = conn.exec_driver_sql(
        "SELECT d.seq, b.at_us, b.request_id, b.app_id, b.api_version, b.owner_id, "
        "d.subject_id, d.field, d.rule_id FROM disclosures d JOIN disclosure_batches b "
        f"ON b.id = d.batch_id WHERE d.seq = {seq}"
    ).one()
    return list(row)


def _leaf(values: list[object]) -> bytes:
    return sha256(b"\x00" + encode_record(*values)).digest()  # type: ignore[arg-type]


def _batch_leaves(conn: Connection, seq: int) -> tuple[int, int, bytes]:
    """The id, first seq and stored leaf hashes of the batch whose range holds ``seq``."""
    row = conn.exec_driver_sql(
        "SELECT id, first_seq, leaf_hashes FROM disclosure_batches "
        f"WHERE first_seq <= {seq} ORDER BY first_seq DESC LIMIT 1"
    ).one()
    return int(row[0]), int(row[1]), bytes(row[2])


def _get_leaf(conn: Connection, seq: int) -> bytes:
    _, first, blob = _batch_leaves(conn, seq)
    return blob[32 * (seq - first) : 32 * (seq - first + 1)]


def _set_leaf(conn: Connection, seq: int, leaf: bytes) -> None:
    """Overwrite the stored leaf hash of ``seq`` in its batch, as a forger with write access
    to the store would."""
    batch_id, first, blob = _batch_leaves(conn, seq)
    at = 32 * (seq - first)
    conn.execute(
        text("UPDATE disclosure_batches SET leaf_hashes = :h WHERE id = :id"),
        {"h": blob[:at] + leaf + blob[at + 32 :], "id": batch_id},
    )


def _first_head_after(log: Log, seq: int) -> int | None:
    return min((h for h in log.heads if h > seq), default=None)


def _stored_leaves(conn: Connection) -> list[bytes]:
    blob = b"".join(
        bytes(r[0])
        for r in conn.exec_driver_sql(
            "SELECT leaf_hashes FROM disclosure_batches ORDER BY first_seq"
        )
    )
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


def _rewrite_state(conn: Connection, size: int) -> None:
    """Make the state row describe the first ``size`` records and the newest head left, as a
    forger with write access to the store (but not the signing key) would."""
    frontier = MerkleFrontier()
    frontier.extend(_stored_leaves(conn)[:size])
    head_size, head_at = conn.exec_driver_sql(
        "SELECT tree_size, timestamp_us FROM signed_tree_heads ORDER BY tree_size DESC LIMIT 1"
    ).one()
    (next_batch,) = conn.exec_driver_sql("SELECT MAX(id) + 1 FROM disclosure_batches").one()
    conn.execute(
        text(
            "UPDATE ledger_state SET next_seq = :n, tree_size = :n, frontier = :f, "
            "next_batch_id = :b, last_head_size = :h, last_head_at_us = :t WHERE id = 1"
        ),
        {"n": size, "f": frontier.to_bytes(), "b": int(next_batch), "h": head_size, "t": head_at},
    )


def _truncate(conn: Connection, size: int) -> None:
    """Cut the log to its first ``size`` records, batches and heads included."""
    conn.execute(text("DELETE FROM disclosures WHERE seq >= :s"), {"s": size})
    conn.execute(text("DELETE FROM disclosure_batches WHERE first_seq >= :s"), {"s": size})
    conn.execute(text("DELETE FROM signed_tree_heads WHERE tree_size > :s"), {"s": size})
    straddling = conn.execute(
        text(
            "SELECT id, first_seq, leaf_hashes FROM disclosure_batches "
            "WHERE first_seq < :s AND first_seq + count > :s"
        ),
        {"s": size},
    ).first()
    if straddling is not None:
        batch_id, first, blob = int(straddling[0]), int(straddling[1]), bytes(straddling[2])
        conn.execute(
            text("UPDATE disclosure_batches SET count = :c, leaf_hashes = :h WHERE id = :id"),
            {"c": size - first, "h": blob[: 32 * (size - first)], "id": batch_id},
        )


Tamper = Callable[[Connection, Log, random.Random], tuple[str, int]]


def edit_record(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    seq = rng.randrange(log.size)
    column, value = rng.choice(
        [("field", "'email'"), ("rule_id", "'v1.0/forged'"), ("subject_id", "subject_id + 1")]
    )
    conn.exec_driver_sql(f"UPDATE disclosures SET {column} = {value} WHERE seq = {seq}")
    return "seq", seq


def edit_record_and_leaf(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    seq = rng.randrange(log.size)
    values = _record(conn, seq)
    values[6] = int(values[6]) + 1  # type: ignore[call-overload]
    conn.exec_driver_sql(f"UPDATE disclosures SET subject_id = subject_id + 1 WHERE seq = {seq}")
    _set_leaf(conn, seq, _leaf(values))
    head = _first_head_after(log, seq)
    if head is None:  # after the newest head: only the state row's right edge shows it
        return "seq", log.signed
    return "head", head


def edit_batch(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    batch_id, first_seq, _ = rng.choice(log.batches)
    column, value = rng.choice(
        [
            ("app_id", "app_id + 100"),
            ("owner_id", "owner_id + 1"),
            ("at_us", "at_us - 1"),
            ("request_id", "'other'"),
            ("api_version", "'v2.0'"),
        ]
    )
    conn.exec_driver_sql(f"UPDATE disclosure_batches SET {column} = {value} WHERE id = {batch_id}")
    return "seq", first_seq


def edit_batch_leaves(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    batch_id, first_seq, _ = rng.choice(log.batches)
    (blob,) = conn.exec_driver_sql(
        f"SELECT leaf_hashes FROM disclosure_batches WHERE id = {batch_id}"
    ).one()
    blob = bytes(blob)
    cut = rng.randrange(1, len(blob))  # drop or add bytes: the hashes no longer fit the count
    forged = blob[:cut] if rng.random() < 0.5 else blob + blob[:cut]
    conn.execute(
        text("UPDATE disclosure_batches SET leaf_hashes = :h WHERE id = :id"),
        {"h": forged, "id": batch_id},
    )
    return "seq", first_seq


def move_record_to_other_batch(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    seq = rng.randrange(log.size)
    conn.exec_driver_sql(f"UPDATE disclosures SET batch_id = batch_id + 1000 WHERE seq = {seq}")
    return "seq", seq


def delete_record(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    seq = rng.randrange(log.size)
    conn.exec_driver_sql(f"DELETE FROM disclosures WHERE seq = {seq}")
    return "seq", seq


def insert_record(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    seq = rng.randrange(log.size + 1)
    # make room: shift the tail up by one (through negatives, to keep the primary key unique)
    conn.exec_driver_sql(f"UPDATE disclosures SET seq = -seq - 2 WHERE seq >= {seq}")
    conn.exec_driver_sql("UPDATE disclosures SET seq = -seq - 1 WHERE seq < 0")
    # a careful forger: the new record is consistent with its own leaf hash and its batch
    neighbour = seq + 1 if seq < log.size else seq - 1
    values = _record(conn, neighbour)
    (batch_id,) = conn.exec_driver_sql(
        f"SELECT batch_id FROM disclosures WHERE seq = {neighbour}"
    ).one()
    values[0] = seq
    values[7] = "email"
    conn.exec_driver_sql(
        "INSERT INTO disclosures (seq, batch_id, subject_id, field, rule_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (seq, batch_id, values[6], "email", values[8]),
    )
    if seq < log.size:
        # its leaf goes in at its place; the batch's later leaves move up with their records
        holder, first, blob = _batch_leaves(conn, seq)
        at = 32 * (seq - first)
        conn.exec_driver_sql(
            "UPDATE disclosure_batches SET leaf_hashes = ? WHERE id = ?",
            (blob[:at] + _leaf(values) + blob[at:-32], holder),
        )
    # it cannot be told from a genuine record; the record it displaced can (its seq moved),
    # unless a signed head ends right after it, which then no longer matches
    if seq == log.size:
        return "seq", seq
    if seq + 1 in log.heads:
        return "head", seq + 1
    return "seq", seq + 1


def swap_records(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    i, j = sorted(rng.sample(range(log.size), 2))
    a = conn.exec_driver_sql(
        f"SELECT subject_id, field, rule_id FROM disclosures WHERE seq = {i}"
    ).one()
    b = conn.exec_driver_sql(
        f"SELECT subject_id, field, rule_id FROM disclosures WHERE seq = {j}"
    ).one()
    if tuple(a) == tuple(b):
        return swap_records(conn, log, rng)
    leaf_a, leaf_b = _get_leaf(conn, i), _get_leaf(conn, j)
    sql = "UPDATE disclosures SET subject_id = ?, field = ?, rule_id = ? WHERE seq = ?"
    conn.exec_driver_sql(sql, (*b, i))
    conn.exec_driver_sql(sql, (*a, j))
    _set_leaf(conn, i, leaf_b)
    _set_leaf(conn, j, leaf_a)
    return "seq", i


def forge_head(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    size = rng.choice(log.heads)
    column, value = rng.choice(
        [
            ("root_hash", "?"),
            ("timestamp_us", "timestamp_us + 1"),
            ("signature", "?"),
            ("key_id", "'0000'"),
        ]
    )
    params = (sha256(str(rng.random()).encode()).digest(),) if column == "root_hash" else ()
    if column == "signature":
        params = (bytes(64),)
    conn.exec_driver_sql(
        f"UPDATE signed_tree_heads SET {column} = {value} WHERE tree_size = {size}", params
    )
    return "head", size


def head_signed_by_another_key(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    size = rng.choice(log.heads)
    root = conn.exec_driver_sql(
        f"SELECT root_hash, timestamp_us FROM signed_tree_heads WHERE tree_size = {size}"
    ).one()
    forged = MALLORY.sign(size, bytes(root[0]), int(root[1]))
    conn.exec_driver_sql(
        "UPDATE signed_tree_heads SET signature = ?, key_id = ? WHERE tree_size = ?",
        (forged.signature, forged.key_id, size),
    )
    return "head", size


def delete_head(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    index = rng.randrange(len(log.heads))
    size = log.heads[index]
    conn.exec_driver_sql(f"DELETE FROM signed_tree_heads WHERE tree_size = {size}")
    if index == len(log.heads) - 1:
        return "head", size  # the newest: the state row still names it
    # an older one: the gap to the next head is wider than the ledger ever leaves it
    following = log.heads[index + 1]
    if following - (log.heads[index - 1] if index else 0) <= HEAD_EVERY:
        return "skip", 0  # the heads around it are close enough that nothing was lost
    return "head", following


def roll_back(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    # truncate the log to an older head and make the state row agree: only a head a monitor
    # kept from before (``trusted``) can show it
    keep = rng.choice(log.heads[:-1])
    conn.exec_driver_sql(f"DELETE FROM disclosures WHERE seq >= {keep}")
    conn.exec_driver_sql(f"DELETE FROM signed_tree_heads WHERE tree_size > {keep}")
    return "rollback", keep


def roll_back_rewriting_state(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    # the careful version: the log, its batches, its heads and its state row all agree on an
    # older head; every check of the log against itself passes, only a trusted head is left
    keep = rng.choice(log.heads[:-1])
    _truncate(conn, keep)
    _rewrite_state(conn, keep)
    return "rollback", keep


def edit_state(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    conn.exec_driver_sql("UPDATE ledger_state SET next_seq = next_seq + 1")
    return "seq", log.size


def edit_unsigned_record_and_leaf(
    conn: Connection, log: Log, rng: random.Random
) -> tuple[str, int]:
    # a record no head signs yet, rewritten with its leaf hash: only the right edge the state
    # row keeps can tell
    seq = rng.randrange(log.signed, log.size)
    values = _record(conn, seq)
    values[7] = "email"
    conn.execute(text("UPDATE disclosures SET field = 'email' WHERE seq = :s"), {"s": seq})
    _set_leaf(conn, seq, _leaf(values))
    return "seq", log.signed


def drop_unsigned_batches(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    # whole batches after the newest head, records and all: the log is shorter than the
    # state row says
    tail = [b for b in log.batches if b[1] >= log.signed]
    first = rng.choice(tail[1:])[1]
    conn.execute(text("DELETE FROM disclosures WHERE seq >= :s"), {"s": first})
    conn.execute(text("DELETE FROM disclosure_batches WHERE first_seq >= :s"), {"s": first})
    return "seq", first


def append_forged_batch(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    # a batch after the end, consistent in itself (its leaf hashes are right), that the state
    # row does not count
    batch_id, first, _count = log.batches[-1]
    n = rng.randint(1, 3)
    conn.execute(
        text(
            "INSERT INTO disclosure_batches (id, first_seq, count, at_us, request_id, app_id, "
            "api_version, owner_id, leaf_hashes) SELECT id + 1, :first, :n, at_us, request_id, "
            "app_id, api_version, owner_id, :h FROM disclosure_batches WHERE id = :id"
        ),
        {"first": log.size, "n": n, "h": b"", "id": batch_id},
    )
    leaves = b""
    for seq in range(log.size, log.size + n):
        values = _record(conn, first)
        conn.execute(
            text(
                "INSERT INTO disclosures (seq, batch_id, subject_id, field, rule_id) "
                "VALUES (:seq, :b, :subject, :field, :rule)"
            ),
            {
                "seq": seq,
                "b": batch_id + 1,
                "subject": values[6],
                "field": "email",
                "rule": values[8],
            },
        )
        leaves += _leaf([seq, *values[1:7], "email", values[8]])
    conn.execute(
        text("UPDATE disclosure_batches SET leaf_hashes = :h WHERE id = :id"),
        {"h": leaves, "id": batch_id + 1},
    )
    return "seq", log.size


def backdate_head(conn: Connection, log: Log, rng: random.Random) -> tuple[str, int]:
    # a head re-signed with the ledger's own key (leaked) and a time before its predecessor's:
    # its signature and root are right, only the order of the times shows it
    index = rng.randrange(1, len(log.heads))
    size = log.heads[index]
    (before,) = conn.execute(
        text("SELECT timestamp_us FROM signed_tree_heads WHERE tree_size = :s"),
        {"s": log.heads[index - 1]},
    ).one()
    (root_hash,) = conn.execute(
        text("SELECT root_hash FROM signed_tree_heads WHERE tree_size = :s"), {"s": size}
    ).one()
    forged = SIGNER.sign(size, bytes(root_hash), int(before) - 1)
    conn.execute(
        text(
            "UPDATE signed_tree_heads SET timestamp_us = :t, signature = :sig WHERE tree_size = :s"
        ),
        {"t": forged.timestamp_us, "sig": forged.signature, "s": size},
    )
    return "head", size


MALLORY = LedgerSigner.generate()
TAMPERINGS: list[Tamper] = [
    edit_record,
    edit_record_and_leaf,
    edit_batch,
    edit_batch_leaves,
    move_record_to_other_batch,
    delete_record,
    insert_record,
    swap_records,
    forge_head,
    head_signed_by_another_key,
    delete_head,
    edit_state,
    roll_back_rewriting_state,
    edit_unsigned_record_and_leaf,
    drop_unsigned_batches,
    append_forged_batch,
    backdate_head,
]


def _latest_head(conn: Connection) -> SignedTreeHead:
    r = conn.exec_driver_sql(
        "SELECT tree_size, root_hash, timestamp_us, signature, key_id FROM signed_tree_heads "
        "ORDER BY tree_size DESC LIMIT 1"
    ).one()
    return SignedTreeHead(int(r[0]), bytes(r[1]), int(r[2]), bytes(r[3]), str(r[4]))


def _check_one(conn: Connection, log: Log, rng: random.Random, tamper: Tamper) -> None:
    txn = conn.begin()
    try:
        trusted = [_latest_head(conn)]
        kind, where = tamper(conn, log, rng)
        if kind == "skip":
            return
        report = verify_connection(
            conn, SIGNER.public_key, trusted=trusted, max_head_gap=HEAD_EVERY
        )
        assert report.error is not None, f"{tamper.__name__} went unnoticed"
        if kind == "seq":
            assert report.error.seq == where, (tamper.__name__, str(report.error))
        elif kind == "head":
            assert report.error.head == where, (tamper.__name__, str(report.error))
        else:  # a rollback is named by the trusted head it falls short of
            assert report.error.head == trusted[0].tree_size, str(report.error)
    finally:
        txn.rollback()


def test_the_untampered_log_verifies(built: tuple[Engine, Log]) -> None:
    engine, log = built
    report = verify_ledger(engine, SIGNER.public_key, max_head_gap=HEAD_EVERY)
    assert report.ok, report.error
    assert report.records == log.size
    assert report.heads == len(log.heads)
    assert report.batches == len(log.batches)


def test_a_thousand_random_tamperings_are_all_detected_and_located(
    built: tuple[Engine, Log],
) -> None:
    engine, log = built
    rng = random.Random(2014)
    with engine.connect() as conn:
        for _ in range(1000):
            _check_one(conn, log, rng, rng.choice(TAMPERINGS))
        assert verify_connection(conn, SIGNER.public_key, max_head_gap=HEAD_EVERY).ok


def test_a_rollback_is_caught_by_a_trusted_head(built: tuple[Engine, Log]) -> None:
    engine, log = built
    rng = random.Random(1)
    with engine.connect() as conn:
        for _ in range(5):
            _check_one(conn, log, rng, roll_back)


def test_a_fork_is_caught_by_a_trusted_head(built: tuple[Engine, Log]) -> None:
    engine, log = built
    forged = SIGNER.sign(log.heads[3], sha256(b"another history").digest(), 0)
    report = verify_ledger(engine, SIGNER.public_key, trusted=[forged], max_head_gap=HEAD_EVERY)
    assert report.error is not None
    assert report.error.head == log.heads[3]


def test_verification_needs_the_right_public_key(built: tuple[Engine, Log]) -> None:
    engine, log = built
    report = verify_ledger(engine, MALLORY.public_key)
    assert report.error is not None
    assert report.error.head == log.heads[0]


def test_tamperings_are_detected_on_postgres(postgres_url: str) -> None:
    engine = create_store_engine(postgres_url)
    try:
        log = _build(engine, seed=3)
        rng = random.Random(9)
        with engine.connect() as conn:
            for tamper in TAMPERINGS:
                if tamper in (
                    insert_record,
                    swap_records,
                    forge_head,
                    head_signed_by_another_key,
                ):
                    continue  # these speak SQLite's parameter style; the SQLite run covers them
                for _ in range(4):
                    _check_one(conn, log, rng, tamper)
    finally:
        engine.dispose()


def test_the_head_gap_limit_is_inclusive_and_counts_from_the_empty_tree(
    built: tuple[Engine, Log],
) -> None:
    engine, log = built
    gaps = [b - a for a, b in itertools.pairwise([0, *log.heads])]
    widest = max(gaps)
    with engine.connect() as conn:
        assert verify_connection(conn, SIGNER.public_key, max_head_gap=widest).ok
        assert verify_connection(conn, SIGNER.public_key, max_head_gap=None).ok
        report = verify_connection(conn, SIGNER.public_key, max_head_gap=widest - 1)
        assert report.error is not None
        assert report.error.head == log.heads[gaps.index(widest)]
        # the first head's gap is its whole size
        report = verify_connection(conn, SIGNER.public_key, max_head_gap=log.heads[0] - 1)
        assert report.error is not None
        assert report.error.head == log.heads[0]


def test_heads_signed_at_the_same_time_are_in_order(built: tuple[Engine, Log]) -> None:
    engine, _log = built
    with engine.connect() as conn:
        times = [
            int(r[0])
            for r in conn.exec_driver_sql(
                "SELECT timestamp_us FROM signed_tree_heads ORDER BY tree_size"
            )
        ]
    # several heads fall due within one append: equal times are not a rollback
    assert any(a == b for a, b in itertools.pairwise(times))
    assert verify_ledger(engine, SIGNER.public_key, max_head_gap=HEAD_EVERY, workers=1).ok


def test_the_report_says_what_was_checked(built: tuple[Engine, Log]) -> None:
    engine, log = built
    with engine.connect() as conn:
        frontier = MerkleFrontier()
        frontier.extend(_stored_leaves(conn))
    started = time.perf_counter()
    report = verify_ledger(engine, SIGNER.public_key, max_head_gap=HEAD_EVERY, workers=1)
    elapsed = time.perf_counter() - started
    assert 0 < report.seconds <= elapsed
    assert report.pending == 0
    assert report.notes == [
        f"{log.size - log.signed} records are newer than the newest signed head"
    ]
    summary = report.to_json()
    assert summary.pop("seconds") == round(report.seconds, 3)
    assert summary == {
        "ok": True,
        "records": log.size,
        "batches": len(log.batches),
        "signed_tree_heads": len(log.heads),
        "latest_head_size": log.signed,
        "unsigned_records": log.size - log.signed,
        "pending_records": 0,
        "root_hash": frontier.root().hex(),
        "error": None,
        "bad_seq": None,
        "bad_head": None,
        "notes": report.notes,
    }


def test_the_report_names_what_was_wrong(built: tuple[Engine, Log]) -> None:
    engine, _log = built
    with engine.connect() as conn:
        txn = conn.begin()
        try:
            conn.exec_driver_sql("UPDATE disclosures SET field = 'email' WHERE seq = 10")
            bad = verify_connection(conn, SIGNER.public_key, max_head_gap=HEAD_EVERY).to_json()
        finally:
            txn.rollback()
    assert bad["ok"] is False
    assert bad["bad_seq"] == 10
    assert bad["bad_head"] is None
    assert bad["error"] == "record 10 was altered: its columns no longer hash to its leaf"


@pytest.mark.parametrize(
    ("url", "workers", "cpus", "expected"),
    [
        ("sqlite:///:memory:", None, 16, 1),
        ("sqlite://", None, 16, 1),
        ("sqlite:///{tmp}/ledger.db", None, 16, 4),
        ("sqlite:///{tmp}/ledger.db", None, 3, 3),
        ("sqlite:///{tmp}/ledger.db", None, None, 1),
        ("sqlite:///:memory:", 3, 16, 3),
        ("sqlite:///{tmp}/ledger.db", 0, 16, 1),
    ],
)
def test_worker_count(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    workers: int | None,
    cpus: int | None,
    expected: int,
) -> None:
    from graphwarden.ledger import verify

    monkeypatch.setattr(verify.os, "cpu_count", lambda: cpus)
    engine = create_store_engine(url.format(tmp=tmp_path))
    try:
        assert verify._worker_count(engine, workers) == expected
    finally:
        engine.dispose()
