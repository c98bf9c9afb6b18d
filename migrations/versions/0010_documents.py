"""Electronic documents: the trust anchors and CRLs their signatures are checked against (registry), document
types (seeded with Nghị định 30/2020's list), stored files, outgoing documents with their recipients, files and
timeline, the number registers and their counters, incoming documents and their timeline.

An outgoing document may answer an incoming one and an incoming one may be an outgoing one: the first of
these two foreign keys is added once both tables exist.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "trust_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_dn", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["added_by_id"], ["account.id"], name=op.f("fk_trust_anchor_added_by_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_anchor")),
        sa.UniqueConstraint("sha256", name=op.f("uq_trust_anchor_sha256")),
    )
    op.create_table(
        "revocation_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_dn", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("this_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_update", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by_id"], ["account.id"], name=op.f("fk_revocation_list_added_by_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocation_list")),
        sa.UniqueConstraint("sha256", name=op.f("uq_revocation_list_sha256")),
    )
    op.create_index(op.f("ix_revocation_list_issuer_dn"), "revocation_list", ["issuer_dn"])
    op.create_table(
        "document_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("abbreviation", sa.String(length=10), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_type")),
        sa.UniqueConstraint("abbreviation", name=op.f("uq_document_type_abbreviation")),
        sa.UniqueConstraint("name", name=op.f("uq_document_type_name")),
    )
    op.create_table(
        "stored_file",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_stored_file")),
    )
    op.create_table(
        "number_counter",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "series",
            sa.Enum("outgoing", "outgoing_secret", "incoming", name="series", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_number_counter_organisation_id_organisation")
        ),
        sa.PrimaryKeyConstraint("organisation_id", "year", "series", name=op.f("pk_number_counter")),
    )
    op.create_table(
        "number_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuing_body_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "series",
            sa.Enum("outgoing", "outgoing_secret", "incoming", name="series", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=60), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("taken", "used", "abandoned", name="numberstate", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("abandon_reason", sa.String(length=500), nullable=True),
        sa.Column("taken_by_id", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuing_body_id"], ["organisation.id"], name=op.f("fk_number_entry_issuing_body_id_organisation")
        ),
        sa.ForeignKeyConstraint(["taken_by_id"], ["account.id"], name=op.f("fk_number_entry_taken_by_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_entry")),
        sa.UniqueConstraint(
            "issuing_body_id", "year", "series", "number", name=op.f("uq_number_entry_issuing_body_id")
        ),
    )
    with op.batch_alter_table("number_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_number_entry_issuing_body_id"), ["issuing_body_id"], unique=False)

    op.create_table(
        "outgoing_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "in_review",
                "returned",
                "awaiting_signature",
                "signed",
                "numbered",
                "issued",
                "sent",
                "recalled",
                "cancelled",
                "paper",
                name="documentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("issuing_body_id", sa.Integer(), nullable=False),
        sa.Column("drafting_unit_id", sa.Integer(), nullable=False),
        sa.Column("document_type_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column(
            "urgency",
            sa.Enum("normal", "urgent", "very_urgent", "flash", name="urgency", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "secrecy",
            sa.Enum("normal", "secret", "top_secret", "ultra_secret", name="secrecy", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("authority_lines", sa.String(length=300), nullable=False),
        sa.Column("outside_recipients", sa.Text(), nullable=True),
        sa.Column("distribution_lines", sa.Text(), nullable=True),
        sa.Column("answers_id", sa.Integer(), nullable=True),
        sa.Column("number_entry_id", sa.Integer(), nullable=True),
        sa.Column("personal_certificate_id", sa.Integer(), nullable=True),
        sa.Column("organisation_certificate_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recalled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recall_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["account.id"], name=op.f("fk_outgoing_document_created_by_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["document_type_id"], ["document_type.id"], name=op.f("fk_outgoing_document_document_type_id_document_type")
        ),
        sa.ForeignKeyConstraint(
            ["drafting_unit_id"], ["organisation.id"], name=op.f("fk_outgoing_document_drafting_unit_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["issuing_body_id"], ["organisation.id"], name=op.f("fk_outgoing_document_issuing_body_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["number_entry_id"], ["number_entry.id"], name=op.f("fk_outgoing_document_number_entry_id_number_entry")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_certificate_id"],
            ["certificate.id"],
            name=op.f("fk_outgoing_document_organisation_certificate_id_certificate"),
        ),
        sa.ForeignKeyConstraint(
            ["personal_certificate_id"],
            ["certificate.id"],
            name=op.f("fk_outgoing_document_personal_certificate_id_certificate"),
        ),
        sa.ForeignKeyConstraint(["signer_id"], ["person.id"], name=op.f("fk_outgoing_document_signer_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_document")),
        sa.UniqueConstraint("number_entry_id", name=op.f("uq_outgoing_document_number_entry_id")),
    )
    with op.batch_alter_table("outgoing_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outgoing_document_drafting_unit_id"), ["drafting_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outgoing_document_issuing_body_id"), ["issuing_body_id"], unique=False)
        batch_op.create_index("ix_outgoing_document_lists", ["status", "issuing_body_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outgoing_document_sent_at"), ["sent_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outgoing_document_signer_id"), ["signer_id"], unique=False)

    op.create_table(
        "document_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "draft",
                "in_review",
                "returned",
                "awaiting_signature",
                "signed",
                "numbered",
                "issued",
                "sent",
                "recalled",
                "cancelled",
                "paper",
                name="documentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "draft",
                "in_review",
                "returned",
                "awaiting_signature",
                "signed",
                "numbered",
                "issued",
                "sent",
                "recalled",
                "cancelled",
                "paper",
                name="documentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["account.id"], name=op.f("fk_document_event_actor_id_account")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["outgoing_document.id"], name=op.f("fk_document_event_document_id_outgoing_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_event")),
    )
    with op.batch_alter_table("document_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_event_document_id"), ["document_id"], unique=False)

    op.create_table(
        "document_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "draft",
                "prepared",
                "approved",
                "issued",
                "appendix_draft",
                "appendix_issued",
                "copy_source",
                "copy",
                "incoming",
                name="filekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("appendix", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["account.id"], name=op.f("fk_document_file_created_by_id_account")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["outgoing_document.id"], name=op.f("fk_document_file_document_id_outgoing_document")
        ),
        sa.ForeignKeyConstraint(["sha256"], ["stored_file.sha256"], name=op.f("fk_document_file_sha256_stored_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_file")),
    )
    with op.batch_alter_table("document_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_file_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_document_file_sha256"), ["sha256"], unique=False)

    op.create_table(
        "document_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["outgoing_document.id"], name=op.f("fk_document_recipient_document_id_outgoing_document")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_document_recipient_organisation_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_recipient")),
        sa.UniqueConstraint("document_id", "organisation_id", name=op.f("uq_document_recipient_document_id")),
    )
    with op.batch_alter_table("document_recipient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_recipient_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_document_recipient_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "incoming_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("received", "registered", "returned", name="incomingstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("receiving_body_id", sa.Integer(), nullable=False),
        sa.Column("outgoing_id", sa.Integer(), nullable=True),
        sa.Column("sender_name", sa.String(length=255), nullable=False),
        sa.Column("original_number", sa.String(length=60), nullable=True),
        sa.Column("original_date", sa.Date(), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column(
            "urgency",
            sa.Enum("normal", "urgent", "very_urgent", "flash", name="urgency", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("verification", sa.JSON(), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrival_year", sa.Integer(), nullable=True),
        sa.Column("arrival_number", sa.Integer(), nullable=True),
        sa.Column("registered_by_id", sa.Integer(), nullable=True),
        sa.Column("return_reason", sa.String(length=500), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("handle_by", sa.Date(), nullable=True),
        sa.Column("direction", sa.Text(), nullable=True),
        sa.Column("directed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recall_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["handler_id"], ["person.id"], name=op.f("fk_incoming_document_handler_id_person")),
        sa.ForeignKeyConstraint(
            ["outgoing_id"], ["outgoing_document.id"], name=op.f("fk_incoming_document_outgoing_id_outgoing_document")
        ),
        sa.ForeignKeyConstraint(
            ["receiving_body_id"], ["organisation.id"], name=op.f("fk_incoming_document_receiving_body_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_id"], ["account.id"], name=op.f("fk_incoming_document_registered_by_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["stored_file.sha256"], name=op.f("fk_incoming_document_sha256_stored_file")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_document")),
    )
    with op.batch_alter_table("incoming_document", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incoming_document_arrival", ["receiving_body_id", "arrival_year", "arrival_number"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_incoming_document_outgoing_id"), ["outgoing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incoming_document_receiving_body_id"), ["receiving_body_id"], unique=False)

    op.create_table(
        "incoming_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["account.id"], name=op.f("fk_incoming_event_actor_id_account")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["incoming_document.id"], name=op.f("fk_incoming_event_document_id_incoming_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_event")),
    )
    with op.batch_alter_table("incoming_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incoming_event_document_id"), ["document_id"], unique=False)
    with op.batch_alter_table("outgoing_document") as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_outgoing_document_answers_id_incoming_document"), "incoming_document", ["answers_id"], ["id"]
        )
    with op.batch_alter_table("request_batch") as batch_op:
        batch_op.add_column(sa.Column("letter_document_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_request_batch_letter_document_id"), ["letter_document_id"])
        batch_op.create_foreign_key(
            op.f("fk_request_batch_letter_document_id_outgoing_document"),
            "outgoing_document",
            ["letter_document_id"],
            ["id"],
        )
    _seed_document_types()


#: Nghị định 30/2020, Phụ lục III: the types and their abbreviations; a công văn has none.
DOCUMENT_TYPES = [
    ("Công văn", None),
    ("Quyết định", "QĐ"),
    ("Nghị quyết", "NQ"),
    ("Chỉ thị", "CT"),
    ("Quy chế", "QC"),
    ("Quy định", "QyĐ"),
    ("Thông báo", "TB"),
    ("Hướng dẫn", "HD"),
    ("Chương trình", "CTr"),
    ("Kế hoạch", "KH"),
    ("Phương án", "PA"),
    ("Đề án", "ĐA"),
    ("Báo cáo", "BC"),
    ("Biên bản", "BB"),
    ("Tờ trình", "TTr"),
    ("Hợp đồng", "HĐ"),
    ("Công điện", "CĐ"),
    ("Giấy ủy quyền", "GUQ"),
    ("Giấy mời", "GM"),
    ("Giấy giới thiệu", "GGT"),
    ("Phiếu gửi", "PG"),
    ("Phiếu chuyển", "PC"),
]


def _seed_document_types():
    table = sa.table(
        "document_type",
        sa.column("name", sa.String),
        sa.column("abbreviation", sa.String),
        sa.column("sort_order", sa.Integer),
        sa.column("is_active", sa.Boolean),
    )
    op.bulk_insert(
        table,
        [
            {"name": name, "abbreviation": abbreviation, "sort_order": (index + 1) * 10, "is_active": True}
            for index, (name, abbreviation) in enumerate(DOCUMENT_TYPES)
        ],
    )


def downgrade():
    with op.batch_alter_table("request_batch") as batch_op:
        batch_op.drop_constraint(op.f("fk_request_batch_letter_document_id_outgoing_document"), type_="foreignkey")
        batch_op.drop_constraint(op.f("uq_request_batch_letter_document_id"), type_="unique")
        batch_op.drop_column("letter_document_id")
    with op.batch_alter_table("outgoing_document") as batch_op:
        batch_op.drop_constraint(op.f("fk_outgoing_document_answers_id_incoming_document"), type_="foreignkey")
    with op.batch_alter_table("incoming_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incoming_event_document_id"))

    op.drop_table("incoming_event")
    with op.batch_alter_table("incoming_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incoming_document_receiving_body_id"))
        batch_op.drop_index(batch_op.f("ix_incoming_document_outgoing_id"))
        batch_op.drop_index("ix_incoming_document_arrival")

    op.drop_table("incoming_document")
    with op.batch_alter_table("document_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_recipient_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_document_recipient_document_id"))

    op.drop_table("document_recipient")
    with op.batch_alter_table("document_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_file_sha256"))
        batch_op.drop_index(batch_op.f("ix_document_file_document_id"))

    op.drop_table("document_file")
    with op.batch_alter_table("document_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_event_document_id"))

    op.drop_table("document_event")
    with op.batch_alter_table("outgoing_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_document_signer_id"))
        batch_op.drop_index(batch_op.f("ix_outgoing_document_sent_at"))
        batch_op.drop_index("ix_outgoing_document_lists")
        batch_op.drop_index(batch_op.f("ix_outgoing_document_issuing_body_id"))
        batch_op.drop_index(batch_op.f("ix_outgoing_document_drafting_unit_id"))

    op.drop_table("outgoing_document")
    with op.batch_alter_table("number_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_number_entry_issuing_body_id"))

    op.drop_table("number_entry")
    op.drop_table("number_counter")
    op.drop_table("stored_file")
    op.drop_table("document_type")
    op.drop_index(op.f("ix_revocation_list_issuer_dn"), table_name="revocation_list")
    op.drop_table("revocation_list")
    op.drop_table("trust_anchor")
