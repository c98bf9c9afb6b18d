"""An index of outgoing documents by the personal certificate that approved them and when: the readiness board
and the idle signers' report ask who signed with a certificate in a period.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_outgoing_document_personal_certificate",
        "outgoing_document",
        ["personal_certificate_id", "approved_at"],
    )


def downgrade():
    op.drop_index("ix_outgoing_document_personal_certificate", table_name="outgoing_document")
