"""The readiness version: a value that triggers renew on every change of what decides a unit's readiness.

Filtering the readiness board by state or failing check needs the state of every unit. Working that out for 500
units costs far more than the page; reading this one value tells whether the states a server process keeps are
still current. Triggers, not the application, renew it, so that a change made by hand in SQL or by a later
migration is seen as well: a token checked (``checked_token`` rows are only ever inserted), a certificate
issued, deleted, moved, revoked or entered in error, a token's state or unit, a head's role, an account disabled
or given to another person. As with the organisation tree's version (0008), the value is random.

A later migration that rebuilds one of these tables on SQLite (``batch_alter_table`` copies the table) drops its
triggers and must create them again; tests/readiness/test_board.py checks that the state filter follows
a report, a token's state, an account disabled and a certificate revoked.

Revision ID: 0013
Revises: 0012
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: The tables whose changes renew the version, with the columns whose update does: None any column, () none
#: (those rows are never updated).
WATCHED = {
    "checked_token": (),
    "certificate": (
        "organisation_id",
        "kind",
        "holder_id",
        "token_id",
        "not_after",
        "revoked_at",
        "entered_in_error_at",
    ),
    "token": ("organisation_id", "state"),
    "role_assignment": None,
    "account": ("person_id", "is_disabled"),
}
_RENEW_SQLITE = "UPDATE readiness_version SET version = lower(hex(randomblob(16)))"


def _events(columns: tuple[str, ...] | None) -> list[str]:
    """The trigger events of a table: insert and delete, and update (of ``columns``) unless ``()``."""
    updates = [] if columns == () else ["UPDATE" + (f" OF {', '.join(columns)}" if columns else "")]
    return ["INSERT", *updates, "DELETE"]


def upgrade():
    op.create_table(
        "readiness_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.String(length=36), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_readiness_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_version")),
    )
    op.execute(
        sa.text("INSERT INTO readiness_version (id, version) VALUES (1, :version)").bindparams(version=uuid.uuid4().hex)
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION readiness_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN UPDATE readiness_version SET version = gen_random_uuid()::text; RETURN NULL; END $$"
        )
        for table, columns in WATCHED.items():
            op.execute(
                f"CREATE TRIGGER readiness_changed AFTER {' OR '.join([*_events(columns), 'TRUNCATE'])} "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION readiness_changed()"
            )
    else:
        for table, columns in WATCHED.items():
            for event in _events(columns):
                op.execute(
                    f"CREATE TRIGGER readiness_changed_{table}_{event.split()[0].lower()} AFTER {event} "
                    f"ON {table} BEGIN {_RENEW_SQLITE}; END"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER readiness_changed ON {table}")
        op.execute("DROP FUNCTION readiness_changed()")
    else:
        for table, columns in WATCHED.items():
            for event in _events(columns):
                op.execute(f"DROP TRIGGER readiness_changed_{table}_{event.split()[0].lower()}")
    op.drop_table("readiness_version")
