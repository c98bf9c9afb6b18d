"""Registries: tokens with their state events, certificates, token returns and expiry reminders.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 08:37:46.152228

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("personal", "organisation", "device", name="tokenkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "in_stock",
                "active",
                "pin_locked",
                "suspended",
                "lost",
                "damaged",
                "returned",
                "destroyed",
                name="tokenstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("is_secret", sa.Boolean(), nullable=False),
        sa.Column("recoveries", sa.Integer(), nullable=False),
        sa.Column("replacements", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["holder_id"], ["person.id"], name=op.f("fk_token_holder_id_person")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_token_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["replaces_id"], ["token.id"], name=op.f("fk_token_replaces_id_token")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token")),
        sa.UniqueConstraint("serial", name=op.f("uq_token_serial")),
    )
    with op.batch_alter_table("token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_token_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial_hex", sa.String(length=64), nullable=False),
        sa.Column("subject_dn", sa.String(length=1000), nullable=False),
        sa.Column("subject_cn", sa.String(length=255), nullable=False),
        sa.Column("subject_uid", sa.String(length=100), nullable=True),
        sa.Column("issuer_dn", sa.String(length=1000), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_usage", sa.String(length=255), nullable=True),
        sa.Column("sha1", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("personal", "organisation", "device", name="tokenkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("predecessor_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["holder_id"], ["person.id"], name=op.f("fk_certificate_holder_id_person")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_certificate_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["predecessor_id"], ["certificate.id"], name=op.f("fk_certificate_predecessor_id_certificate")
        ),
        sa.ForeignKeyConstraint(["token_id"], ["token.id"], name=op.f("fk_certificate_token_id_token")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("issuer_dn", "serial_hex", name=op.f("uq_certificate_issuer_dn")),
        sa.UniqueConstraint("predecessor_id", name=op.f("uq_certificate_predecessor_id")),
        sa.UniqueConstraint("sha256", name=op.f("uq_certificate_sha256")),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_not_after"), ["not_after"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_subject_uid"), ["subject_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_token_id"), ["token_id"], unique=False)

    op.create_table(
        "token_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_state",
            sa.Enum(
                "in_stock",
                "active",
                "pin_locked",
                "suspended",
                "lost",
                "damaged",
                "returned",
                "destroyed",
                name="tokenstate",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_state",
            sa.Enum(
                "in_stock",
                "active",
                "pin_locked",
                "suspended",
                "lost",
                "damaged",
                "returned",
                "destroyed",
                name="tokenstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["account.id"], name=op.f("fk_token_event_actor_id_account")),
        sa.ForeignKeyConstraint(["token_id"], ["token.id"], name=op.f("fk_token_event_token_id_token")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_event")),
    )
    with op.batch_alter_table("token_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_event_token_id"), ["token_id"], unique=False)

    op.create_table(
        "token_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificate.id"], name=op.f("fk_token_return_certificate_id_certificate")
        ),
        sa.ForeignKeyConstraint(["token_id"], ["token.id"], name=op.f("fk_token_return_token_id_token")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_return")),
    )
    with op.batch_alter_table("token_return", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_return_certificate_id"), ["certificate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_token_return_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_token_return_token_id"), ["token_id"], unique=False)

    op.create_table(
        "expiry_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("threshold_days", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificate.id"], name=op.f("fk_expiry_reminder_certificate_id_certificate")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expiry_reminder")),
        sa.UniqueConstraint("certificate_id", "threshold_days", name=op.f("uq_expiry_reminder_certificate_id")),
    )


def downgrade():
    op.drop_table("expiry_reminder")
    with op.batch_alter_table("token_return", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_return_token_id"))
        batch_op.drop_index(batch_op.f("ix_token_return_due_on"))
        batch_op.drop_index(batch_op.f("ix_token_return_certificate_id"))

    op.drop_table("token_return")
    with op.batch_alter_table("token_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_event_token_id"))

    op.drop_table("token_event")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_token_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_subject_uid"))
        batch_op.drop_index(batch_op.f("ix_certificate_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_not_after"))
        batch_op.drop_index(batch_op.f("ix_certificate_holder_id"))

    op.drop_table("certificate")
    with op.batch_alter_table("token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_token_holder_id"))

    op.drop_table("token")
