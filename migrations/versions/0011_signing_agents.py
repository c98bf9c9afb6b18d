"""Signing agents (``token-agent serve``): the one-time pairing codes, the paired agents with their credentials'
digests, and the one-time jobs the document pages hand them.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pairing_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_pairing_code_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairing_code")),
        sa.UniqueConstraint("code_sha256", name=op.f("uq_pairing_code_code_sha256")),
    )
    op.create_index(op.f("ix_pairing_code_account_id"), "pairing_code", ["account_id"])
    op.create_table(
        "signing_agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("device_name", sa.String(length=100), nullable=False),
        sa.Column("credential_sha256", sa.String(length=64), nullable=False),
        sa.Column("credential_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_signing_agent_account_id_account")),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["account.id"], name=op.f("fk_signing_agent_revoked_by_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_agent")),
        sa.UniqueConstraint("credential_sha256", name=op.f("uq_signing_agent_credential_sha256")),
    )
    op.create_index(op.f("ix_signing_agent_account_id"), "signing_agent", ["account_id"])
    op.create_table(
        "agent_job",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column(
            "role",
            sa.Enum("approve", "issue", "appendix", "check", name="jobrole", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("appendix_no", sa.Integer(), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("accepted_certificates", sa.JSON(), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "fetched", "done", "failed", name="jobstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("message", sa.String(length=1000), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_agent_job_account_id_account")),
        sa.ForeignKeyConstraint(["agent_id"], ["signing_agent.id"], name=op.f("fk_agent_job_agent_id_signing_agent")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["outgoing_document.id"], name=op.f("fk_agent_job_document_id_outgoing_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_job")),
    )
    op.create_index(op.f("ix_agent_job_account_id"), "agent_job", ["account_id"])
    op.create_index(op.f("ix_agent_job_document_id"), "agent_job", ["document_id"])


def downgrade():
    op.drop_index(op.f("ix_agent_job_document_id"), table_name="agent_job")
    op.drop_index(op.f("ix_agent_job_account_id"), table_name="agent_job")
    op.drop_table("agent_job")
    op.drop_index(op.f("ix_signing_agent_account_id"), table_name="signing_agent")
    op.drop_table("signing_agent")
    op.drop_index(op.f("ix_pairing_code_account_id"), table_name="pairing_code")
    op.drop_table("pairing_code")
