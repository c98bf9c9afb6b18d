"""Readiness of units before go-live: token check reports (kept as received, append-only) with one row per
token they name, assisted checks at the focal office, and each unit's go-live date.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from certsvc.db_guard import append_only_statements, drop_append_only_statements

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: The tables that are evidence: the database refuses UPDATE and DELETE on them.
EVIDENCE = ("check_report", "checked_token")


def upgrade():
    op.create_table(
        "check_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("schema", sa.String(length=40), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("agent", "upload", "visit", name="reportsource", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum("PASS", "WARN", "FAIL", "SKIP", name="checkstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("test_signature_verified", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_check_report_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["account.id"], name=op.f("fk_check_report_uploaded_by_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_report")),
        sa.UniqueConstraint("sha256", name=op.f("uq_check_report_sha256")),
    )
    op.create_index(op.f("ix_check_report_organisation_id"), "check_report", ["organisation_id"])
    op.create_table(
        "go_live",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("go_live_on", sa.Date(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_go_live_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["set_by_id"], ["account.id"], name=op.f("fk_go_live_set_by_id_account")),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_go_live")),
    )
    op.create_table(
        "assisted_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("focal_officer_id", sa.Integer(), nullable=False),
        sa.Column("visitor_person_id", sa.Integer(), nullable=True),
        sa.Column("visitor_name", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("computer", sa.String(length=200), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["focal_officer_id"], ["account.id"], name=op.f("fk_assisted_visit_focal_officer_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_assisted_visit_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["check_report.id"], name=op.f("fk_assisted_visit_report_id_check_report")
        ),
        sa.ForeignKeyConstraint(["token_id"], ["token.id"], name=op.f("fk_assisted_visit_token_id_token")),
        sa.ForeignKeyConstraint(
            ["visitor_person_id"], ["person.id"], name=op.f("fk_assisted_visit_visitor_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assisted_visit")),
    )
    op.create_index(op.f("ix_assisted_visit_organisation_id"), "assisted_visit", ["organisation_id"])
    op.create_index(op.f("ix_assisted_visit_visited_at"), "assisted_visit", ["visited_at"])
    op.create_table(
        "checked_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("token_serial", sa.String(length=64), nullable=False),
        sa.Column("token_label", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=True),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("PASS", "WARN", "FAIL", "SKIP", name="checkstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("failing_checks", sa.JSON(), nullable=False),
        sa.Column("flagged_unknown", sa.Boolean(), nullable=False),
        sa.Column("test_signature_ok", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificate.id"], name=op.f("fk_checked_token_certificate_id_certificate")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["check_report.id"], name=op.f("fk_checked_token_report_id_check_report")
        ),
        sa.ForeignKeyConstraint(["token_id"], ["token.id"], name=op.f("fk_checked_token_token_id_token")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checked_token")),
    )
    op.create_index(op.f("ix_checked_token_certificate_id"), "checked_token", ["certificate_id"])
    op.create_index(op.f("ix_checked_token_report_id"), "checked_token", ["report_id"])
    op.create_index("ix_checked_token_token_id_report_id", "checked_token", ["token_id", "report_id"])
    for table in EVIDENCE:
        for statement in append_only_statements(op.get_bind().dialect.name, table):
            op.execute(statement)


def downgrade():
    for table in EVIDENCE:
        for statement in drop_append_only_statements(op.get_bind().dialect.name, table):
            op.execute(statement)
    op.drop_index("ix_checked_token_token_id_report_id", table_name="checked_token")
    op.drop_index(op.f("ix_checked_token_report_id"), table_name="checked_token")
    op.drop_index(op.f("ix_checked_token_certificate_id"), table_name="checked_token")
    op.drop_table("checked_token")
    op.drop_index(op.f("ix_assisted_visit_visited_at"), table_name="assisted_visit")
    op.drop_index(op.f("ix_assisted_visit_organisation_id"), table_name="assisted_visit")
    op.drop_table("assisted_visit")
    op.drop_table("go_live")
    op.drop_index(op.f("ix_check_report_organisation_id"), table_name="check_report")
    op.drop_table("check_report")
