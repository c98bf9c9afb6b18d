"""Once-only form tokens: each token a creating form was sent with, and the page of the record it made.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("result_url", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_form_submission_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submission")),
        sa.UniqueConstraint("token", name=op.f("uq_form_submission_token")),
    )


def downgrade():
    op.drop_table("form_submission")
