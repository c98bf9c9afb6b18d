"""Indexes of the request lists: the focal office's queue and a unit's own requests, paged in SQL.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_certificate_request_queue",
        "certificate_request",
        ["status", "submitted_at", sa.text("id DESC"), "organisation_id", "request_type"],
        unique=False,
    )
    op.create_index(
        "ix_certificate_request_unit_list", "certificate_request", ["organisation_id", "submitted_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_certificate_request_unit_list", table_name="certificate_request")
    op.drop_index("ix_certificate_request_queue", table_name="certificate_request")
