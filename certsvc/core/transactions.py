"""A request's transaction that wrote nothing ends with COMMIT, not ROLLBACK.

The two are the same to the database, not to psycopg: after a ROLLBACK it forgets every statement it
prepared on the connection (they may name objects the rollback removed). A pooled connection that
rolls back at the end of each request therefore never keeps a prepared statement, and PostgreSQL
parses and plans the lists' queries again on every page. Ending reading transactions with COMMIT
lets a connection prepare a statement it has run a few times and keep its plan.

Only a transaction that never flushed is committed, and only when nothing is pending: whatever a
request changed and did not commit itself is still rolled back when the session is removed.
"""

from __future__ import annotations

import logging

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

__all__ = ["end_reading_transactions_with_commit"]

_WROTE = "certsvc.core.transactions.wrote"
log = logging.getLogger("certsvc")


@event.listens_for(Session, "after_flush")
def _note_write(session: Session, _flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def end_reading_transactions_with_commit(app: Flask, db: SQLAlchemy) -> None:
    """At the end of each request (before the session is removed), commit its transaction if it
    only read. Register after ``db.init_app``: Flask runs teardowns in reverse order."""

    @app.teardown_appcontext
    def _commit_if_only_read(error: BaseException | None) -> None:
        session = db.session()
        if error is not None or not session.in_transaction() or session.info.get(_WROTE):
            return
        if session.new or session.dirty or session.deleted:
            return
        try:
            session.commit()
        except SQLAlchemyError:
            # Nothing was written: the answer stands; the session's removal rolls back.
            log.warning("ending a reading transaction failed", exc_info=True)
