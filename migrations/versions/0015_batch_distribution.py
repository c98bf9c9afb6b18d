"""The proposal letter's "Nơi nhận" per batch: the printed lines and the "Bản điện tử:" part.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("request_batch", sa.Column("distribution_lines", sa.Text(), nullable=True))
    op.add_column("request_batch", sa.Column("electronic_distribution_lines", sa.Text(), nullable=True))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), as 0007 does: a batch copy of ``request_batch`` would
    # drop a table that requests reference.
    op.drop_column("request_batch", "electronic_distribution_lines")
    op.drop_column("request_batch", "distribution_lines")
