"""The proposal letter's recipient ("Kính gửi"): set per focal office, frozen into a batch when it is locked.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("organisation", sa.Column("letter_recipient", sa.String(length=255), nullable=True))
    op.add_column("request_batch", sa.Column("letter_recipient", sa.String(length=255), nullable=True))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy: copying ``organisation``
    # would drop a table that other rows reference, which SQLite's foreign keys refuse.
    op.drop_column("request_batch", "letter_recipient")
    op.drop_column("organisation", "letter_recipient")
