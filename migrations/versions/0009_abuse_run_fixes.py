"""What the abuse run's fixes keep in the database: server-side login sessions and per-address login
throttling, certificates marked as entered in error, API idempotency keys, the witness's confirmation
of a custody handover.

Each part has its own pair of functions; ``downgrade`` undoes them in reverse order.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# --- sessions and login throttling (accounts) -----------------------------------------------------


def _upgrade_accounts():
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_login_session_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_login_session_secret_sha256")),
    )
    op.create_index(op.f("ix_login_session_account_id"), "login_session", ["account_id"])
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.Column("last_failed_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttle")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_login_throttle_scope")),
    )
    op.create_index(op.f("ix_login_throttle_last_failed_login_at"), "login_throttle", ["last_failed_login_at"])
    # Sessions now live in login_session: the per-account token they replace goes.
    with op.batch_alter_table("account") as batch:
        batch.drop_column("session_token")


def _downgrade_accounts():
    with op.batch_alter_table("account") as batch:
        # Any value will do: downgrading ends every session anyway.
        batch.add_column(sa.Column("session_token", sa.String(length=64), nullable=False, server_default="ended"))
    with op.batch_alter_table("account") as batch:
        batch.alter_column("session_token", server_default=None)
    op.drop_index(op.f("ix_login_throttle_last_failed_login_at"), table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index(op.f("ix_login_session_account_id"), table_name="login_session")
    op.drop_table("login_session")


# --- registry records entered in error -------------------------------------------------------------


def _upgrade_registry():
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_in_error_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("entered_in_error_reason", sa.String(length=255), nullable=True))


def _downgrade_registry():
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_column("entered_in_error_reason")
        batch_op.drop_column("entered_in_error_at")


# --- API idempotency keys --------------------------------------------------------------------------


def _upgrade_api():
    op.create_table(
        "api_idempotency_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_api_idempotency_key_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency_key")),
        sa.UniqueConstraint("account_id", "key", name=op.f("uq_api_idempotency_key_account_id")),
    )


def _downgrade_api():
    op.drop_table("api_idempotency_key")


# --- custody: the witness confirms a handover like the parties ------------------------------------


def _upgrade_custody():
    with op.batch_alter_table("custody_handover") as batch:
        batch.add_column(sa.Column("witness_confirmed_at", sa.DateTime(timezone=True), nullable=True))


def _downgrade_custody():
    with op.batch_alter_table("custody_handover") as batch:
        batch.drop_column("witness_confirmed_at")


def upgrade():
    _upgrade_accounts()
    _upgrade_registry()
    _upgrade_api()
    _upgrade_custody()


def downgrade():
    _downgrade_custody()
    _downgrade_api()
    _downgrade_registry()
    _downgrade_accounts()
