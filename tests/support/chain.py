"""Helpers for tamper tests of hash-chained tables (the audit log, the custody register)."""

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from certsvc.db_guard import drop_append_only_statements


def entries(session: Session, model) -> list:
    """Every row of the chain, in sequence order, freshly read."""
    session.expire_all()
    return list(session.scalars(select(model).order_by(model.seq)))


def unguard(session: Session, table: str) -> None:
    """Drop the append-only triggers, as someone with the owner's rights could."""
    for statement in drop_append_only_statements(session.get_bind().dialect.name, table):
        session.execute(text(statement))
    session.commit()


def fault_of(session: Session, verify) -> tuple[str, int]:
    """The kind and entry number of the first fault ``verify`` finds; fails if it finds none."""
    session.expire_all()
    report = verify(session)
    assert not report.ok, "tampering went unnoticed"
    return report.fault.kind, report.fault.seq
