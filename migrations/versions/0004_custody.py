"""Custody register of MẬT tokens: hash-chained append-only events, head, token claims, handovers.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from certsvc.db_guard import append_only_statements, drop_append_only_statements

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
EVENT_KINDS = ("received", "handed_over", "inventory", "lost", "found", "damaged", "returned", "destroyed")


def upgrade():
    op.create_table(
        "custody_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_custody_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_head")),
    )
    op.execute(f"INSERT INTO custody_head (id, last_seq, last_hash) VALUES (1, 0, '{GENESIS_HASH}')")
    op.create_table(
        "custody_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum(*EVENT_KINDS, name="custodyeventkind", native_enum=False, length=32), nullable=False),
        sa.Column("keeper_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["keeper_id"], ["person.id"], name=op.f("fk_custody_event_keeper_id_person")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_custody_event_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["token_id"], ["token.id"], name=op.f("fk_custody_event_token_id_token")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_custody_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_custody_event_hash")),
    )
    op.create_index(op.f("ix_custody_event_organisation_id"), "custody_event", ["organisation_id"])
    op.create_index(op.f("ix_custody_event_token_id"), "custody_event", ["token_id"])
    for statement in append_only_statements(op.get_bind().dialect.name, "custody_event"):
        op.execute(statement)

    op.create_table(
        "custody_token",
        sa.Column("token_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("claim_handover_id", sa.Integer(), nullable=True),
        sa.Column("claim_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["token.id"], name=op.f("fk_custody_token_token_id_token")),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_custody_token")),
    )
    op.create_table(
        "custody_handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("receiver_id", sa.Integer(), nullable=False),
        sa.Column("witness_id", sa.Integer(), nullable=True),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column(
            "permission_kind",
            sa.Enum("decision", "approval", name="permissionkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("decision_number", sa.String(length=64), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=255), nullable=False),
        sa.Column("condition", sa.String(length=500), nullable=False),
        sa.Column("accessories", sa.String(length=500), nullable=True),
        sa.Column("seal_numbers", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "completed", "expired", "cancelled", name="handoverstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("giver_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receiver_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["account.id"], name=op.f("fk_custody_handover_approved_by_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificate.id"], name=op.f("fk_custody_handover_certificate_id_certificate")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["account.id"], name=op.f("fk_custody_handover_created_by_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["event_seq"], ["custody_event.seq"], name=op.f("fk_custody_handover_event_seq_custody_event")
        ),
        sa.ForeignKeyConstraint(["giver_id"], ["person.id"], name=op.f("fk_custody_handover_giver_id_person")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_custody_handover_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["receiver_id"], ["person.id"], name=op.f("fk_custody_handover_receiver_id_person")),
        sa.ForeignKeyConstraint(["token_id"], ["token.id"], name=op.f("fk_custody_handover_token_id_token")),
        sa.ForeignKeyConstraint(["witness_id"], ["person.id"], name=op.f("fk_custody_handover_witness_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_handover")),
    )
    op.create_index(op.f("ix_custody_handover_organisation_id"), "custody_handover", ["organisation_id"])
    op.create_index(op.f("ix_custody_handover_token_id"), "custody_handover", ["token_id"])


def downgrade():
    op.drop_table("custody_handover")
    op.drop_table("custody_token")
    for statement in drop_append_only_statements(op.get_bind().dialect.name, "custody_event"):
        op.execute(statement)
    op.drop_table("custody_event")
    op.drop_table("custody_head")
