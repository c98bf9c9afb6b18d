"""A request's transaction that wrote nothing ends with COMMIT, not ROLLBACK.

The two are the same to the database, not to psycopg: after a ROLLBACK it forgets every statement it
prepared on the connection (they may name objects the rollback removed). A pooled connection that
rolls back at the end of each request therefore never keeps a prepared statement, and PostgreSQL
parses and plans the lists' queries again on every page. Ending reading transactions with COMMIT
lets a connection prepare a statement it has run a few times and keep its plan.

Only a transaction that sent nothing but SELECTs is committed, and only when nothing is pending in
the session: whatever a request wrote and did not commit itself, through the ORM, a Core statement or
the connection, is still rolled back when the session is removed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, Pool

if TYPE_CHECKING:
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

__all__ = ["end_reading_transactions_with_commit", "commit_without_waiting_for_the_disk"]

#: Set in a pooled connection's ``info`` by any statement that is not a SELECT, until its transaction ends.
_WROTE = "certsvc.core.transactions.wrote"
log = logging.getLogger("certsvc")


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn: Connection, _cursor, statement: str, _parameters, _context, _executemany) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[_WROTE] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget_write(conn: Connection) -> None:
    # A connection the database dropped has no pooled record left to clean (reading ``info`` would
    # raise, and turn the rollback of a failed request into a bare 500).
    if not (conn.invalidated or conn.closed):
        conn.info.pop(_WROTE, None)


@event.listens_for(Pool, "checkin")
def _forget_write_on_return(_dbapi_connection, record: ConnectionPoolEntry | None) -> None:
    if record is not None:
        record.info.pop(_WROTE, None)


def end_reading_transactions_with_commit(app: Flask, db: SQLAlchemy) -> None:
    """At the end of each request (before the session is removed), commit its transaction if it
    only read. Register after ``db.init_app``: Flask runs teardowns in reverse order."""

    @app.teardown_appcontext
    def _commit_if_only_read(error: BaseException | None) -> None:
        session = db.session()
        if error is not None or not session.in_transaction():
            return
        if session.new or session.dirty or session.deleted or session.connection().info.get(_WROTE):
            return
        try:
            session.commit()
        except SQLAlchemyError:
            # Nothing was written: the answer stands; the session's removal rolls back.
            log.warning("ending a reading transaction failed", exc_info=True)


def commit_without_waiting_for_the_disk(session: Session) -> None:
    """Let the current transaction's COMMIT return before PostgreSQL has flushed it to disk
    (``synchronous_commit`` off for this transaction only; SQLite is left as it is).

    Only for records a crash may lose without harm, such as a one-time signing job the user asks for again,
    never for evidence. The database stays consistent: a crash can lose the last such transactions whole,
    never part of one, and never a later transaction that waited for the disk.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
