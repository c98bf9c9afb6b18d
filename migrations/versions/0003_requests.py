"""Certificate requests, their events, and the batches that consolidate them.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "request_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("focal_office_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("signer_title", sa.String(length=200), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "locked", "sent", name="batchstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by_id", sa.Integer(), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document_number", sa.String(length=50), nullable=True),
        sa.Column("document_date", sa.Date(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["account.id"], name=op.f("fk_request_batch_created_by_id_account")),
        sa.ForeignKeyConstraint(
            ["focal_office_id"], ["organisation.id"], name=op.f("fk_request_batch_focal_office_id_organisation")
        ),
        sa.ForeignKeyConstraint(["locked_by_id"], ["account.id"], name=op.f("fk_request_batch_locked_by_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_batch")),
    )
    op.create_index(op.f("ix_request_batch_focal_office_id"), "request_batch", ["focal_office_id"], unique=False)
    op.create_table(
        "certificate_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "request_type",
            sa.Enum(
                "new_individual",
                "new_organisation",
                "new_device",
                "renewal",
                "change",
                "revocation",
                "recovery",
                name="requesttype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "approved",
                "submitted",
                "returned",
                "accepted",
                "in_batch",
                "sent",
                "done",
                "rejected",
                "cancelled",
                name="requeststatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("subject_key", sa.String(length=200), nullable=False),
        sa.Column("subject_person_id", sa.Integer(), nullable=True),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("issued_certificate_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["account.id"], name=op.f("fk_certificate_request_approved_by_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["request_batch.id"], name=op.f("fk_certificate_request_batch_id_request_batch")
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificate.id"], name=op.f("fk_certificate_request_certificate_id_certificate")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["account.id"], name=op.f("fk_certificate_request_created_by_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["issued_certificate_id"],
            ["certificate.id"],
            name=op.f("fk_certificate_request_issued_certificate_id_certificate"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_certificate_request_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["subject_person_id"], ["person.id"], name=op.f("fk_certificate_request_subject_person_id_person")
        ),
        sa.ForeignKeyConstraint(["token_id"], ["token.id"], name=op.f("fk_certificate_request_token_id_token")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_request")),
    )
    op.create_index(op.f("ix_certificate_request_batch_id"), "certificate_request", ["batch_id"], unique=False)
    op.create_index(
        op.f("ix_certificate_request_certificate_id"), "certificate_request", ["certificate_id"], unique=False
    )
    op.create_index(
        op.f("ix_certificate_request_organisation_id"), "certificate_request", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_certificate_request_request_type"), "certificate_request", ["request_type"], unique=False)
    op.create_index(op.f("ix_certificate_request_status"), "certificate_request", ["status"], unique=False)
    op.create_index(op.f("ix_certificate_request_subject_key"), "certificate_request", ["subject_key"], unique=False)
    op.create_index(
        op.f("ix_certificate_request_subject_person_id"), "certificate_request", ["subject_person_id"], unique=False
    )
    op.create_index(op.f("ix_certificate_request_submitted_at"), "certificate_request", ["submitted_at"], unique=False)
    op.create_index(op.f("ix_certificate_request_token_id"), "certificate_request", ["token_id"], unique=False)
    op.create_table(
        "request_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "draft",
                "approved",
                "submitted",
                "returned",
                "accepted",
                "in_batch",
                "sent",
                "done",
                "rejected",
                "cancelled",
                name="requeststatus",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "draft",
                "approved",
                "submitted",
                "returned",
                "accepted",
                "in_batch",
                "sent",
                "done",
                "rejected",
                "cancelled",
                name="requeststatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["account.id"], name=op.f("fk_request_event_actor_id_account")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["certificate_request.id"], name=op.f("fk_request_event_request_id_certificate_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_event")),
    )
    op.create_index(op.f("ix_request_event_request_id"), "request_event", ["request_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_request_event_request_id"), table_name="request_event")
    op.drop_table("request_event")
    op.drop_index(op.f("ix_certificate_request_token_id"), table_name="certificate_request")
    op.drop_index(op.f("ix_certificate_request_submitted_at"), table_name="certificate_request")
    op.drop_index(op.f("ix_certificate_request_subject_person_id"), table_name="certificate_request")
    op.drop_index(op.f("ix_certificate_request_subject_key"), table_name="certificate_request")
    op.drop_index(op.f("ix_certificate_request_status"), table_name="certificate_request")
    op.drop_index(op.f("ix_certificate_request_request_type"), table_name="certificate_request")
    op.drop_index(op.f("ix_certificate_request_organisation_id"), table_name="certificate_request")
    op.drop_index(op.f("ix_certificate_request_certificate_id"), table_name="certificate_request")
    op.drop_index(op.f("ix_certificate_request_batch_id"), table_name="certificate_request")
    op.drop_table("certificate_request")
    op.drop_index(op.f("ix_request_batch_focal_office_id"), table_name="request_batch")
    op.drop_table("request_batch")
