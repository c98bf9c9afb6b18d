"""What ``/healthz`` reports: the database answers and its schema is at the newest migration."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

from certsvc.config import PROJECT_ROOT

__all__ = ["Health", "check_health", "head_revisions"]


@dataclass(frozen=True)
class Health:
    database_ok: bool
    current: tuple[str, ...]
    head: tuple[str, ...]
    problem: str | None = None

    @property
    def at_head(self) -> bool:
        return self.database_ok and set(self.current) == set(self.head)

    @property
    def ok(self) -> bool:
        return self.database_ok and self.at_head


@functools.cache
def head_revisions() -> tuple[str, ...]:
    """The newest revisions of the migrations shipped with this code (read once per process)."""
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return tuple(ScriptDirectory.from_config(config).get_heads())


def check_health(engine: Engine) -> Health:
    head = head_revisions()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = tuple(MigrationContext.configure(connection).get_current_heads())
            # A COMMIT, not the ROLLBACK of closing: psycopg would forget the statements the
            # pooled connection prepared for the pages (see certsvc.core.transactions).
            connection.commit()
    except Exception as error:  # any failure to reach the database is the finding itself
        return Health(False, (), head, f"{type(error).__name__}")
    return Health(True, current, head)
