"""Real write failures for the disclosure ledger: a trigger that aborts every insert.

Used by the ledger's own tests and by the Graph API's fail-closed test::

    install_write_failure(engine)     # every ledger append now fails in the database
    ...                               # the API must answer 503 and serve nothing
    remove_write_failure(engine)
"""

from __future__ import annotations

from sqlalchemy import Engine

_SQLITE_TRIGGER = (
    "CREATE TRIGGER gw_ledger_write_failure BEFORE INSERT ON disclosures "
    "BEGIN SELECT RAISE(ABORT, 'injected ledger write failure'); END"
)
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION gw_ledger_write_failure() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'injected ledger write failure'; END $$ LANGUAGE plpgsql"
)
_PG_TRIGGER = (
    "CREATE TRIGGER gw_ledger_write_failure BEFORE INSERT ON disclosures "
    "FOR EACH ROW EXECUTE FUNCTION gw_ledger_write_failure()"
)


def install_write_failure(engine: Engine) -> None:
    """Make every insert into ``disclosures`` fail inside the database."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(_SQLITE_TRIGGER)
        else:
            conn.exec_driver_sql(_PG_FUNCTION)
            conn.exec_driver_sql(_PG_TRIGGER)


def remove_write_failure(engine: Engine) -> None:
    """Undo :func:`install_write_failure`."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP TRIGGER IF EXISTS gw_ledger_write_failure"
            + ("" if engine.dialect.name == "sqlite" else " ON disclosures")
        )
        if engine.dialect.name != "sqlite":
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS gw_ledger_write_failure()")
