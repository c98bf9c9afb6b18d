"""The organisation tree's version: a value that triggers renew on every change of ``organisation``.

A page asks whom an office serves on every request. Reading the whole tree for that costs more than the
rest of a list page; reading this one value tells whether the tree each server process keeps is
still the current one. Triggers, not the application, renew it, so that a change made by hand in
SQL or by a later migration is seen as well. The value is random rather than a counter: databases
copied from one template (the tests) or restored from a backup never give one value to two trees.

A later migration that rebuilds ``organisation`` on SQLite (``batch_alter_table`` copies the table)
drops these triggers and must create them again; tests/core/test_migrations.py checks that they fire.

Revision ID: 0008
Revises: 0007
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_RENEW_SQLITE = "UPDATE organisation_tree_version SET version = lower(hex(randomblob(16)))"


def upgrade():
    op.create_table(
        "organisation_tree_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=36), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_organisation_tree_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_tree_version")),
    )
    op.execute(
        sa.text("INSERT INTO organisation_tree_version (id, version) VALUES (1, :version)").bindparams(
            version=uuid.uuid4().hex
        )
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION organisation_tree_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN UPDATE organisation_tree_version SET version = gen_random_uuid()::text; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER organisation_tree_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON organisation FOR EACH STATEMENT EXECUTE FUNCTION organisation_tree_changed()"
        )
    else:
        for event in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER organisation_tree_changed_on_{event} AFTER {event.upper()} "
                f"ON organisation BEGIN {_RENEW_SQLITE}; END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER organisation_tree_changed ON organisation")
        op.execute("DROP FUNCTION organisation_tree_changed()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER organisation_tree_changed_on_{event}")
    op.drop_table("organisation_tree_version")
