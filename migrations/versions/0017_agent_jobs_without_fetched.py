"""Agent jobs are no longer marked "fetched" when the agent reads them (reading a job changes nothing): a job
still marked so is pending again.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE agent_job SET status = 'pending' WHERE status = 'fetched'")


def downgrade():
    """Nothing to undo: a pending job is valid before this revision too."""
