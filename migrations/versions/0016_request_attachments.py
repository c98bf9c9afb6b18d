"""Files attached to certificate requests (the scanned CCCD, the unit's signed request), stored by SHA-256.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "request_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["certificate_request.id"],
            name=op.f("fk_request_attachment_request_id_certificate_request"),
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["stored_file.sha256"],
            name=op.f("fk_request_attachment_sha256_stored_file"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["account.id"],
            name=op.f("fk_request_attachment_uploaded_by_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_id"],
            ["account.id"],
            name=op.f("fk_request_attachment_removed_by_id_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_attachment")),
    )
    op.create_index(op.f("ix_request_attachment_request_id"), "request_attachment", ["request_id"])


def downgrade():
    op.drop_index(op.f("ix_request_attachment_request_id"), table_name="request_attachment")
    op.drop_table("request_attachment")
