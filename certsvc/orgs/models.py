"""The organisation tree.

The tree is data, not code: a province, district or commune People's Committee,
the offices and agencies under it, and which office is the focal point ("đầu mối
tổng hợp") that consolidates certificate requests for which organisations. Both
the district-era structure of the seeds and the two-tier structure in force since
1 July 2025 are just different trees.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certsvc.core.enums import LabelledEnum, enum_column
from certsvc.extensions import Model
from certsvc.timeutil import UTCDateTime, utcnow

__all__ = ["DEFAULT_RECIPIENT", "OrgKind", "Organisation", "OrganisationTreeVersion", "office_recipient"]

#: Whom a focal office's letters go to unless it names another recipient
#: (:attr:`Organisation.letter_recipient`): the CA of the government-specialised (công vụ) signature service.
DEFAULT_RECIPIENT = "Cục Chứng thực số và Bảo mật thông tin - Ban Cơ yếu Chính phủ"


class OrgKind(LabelledEnum):
    """What sort of body an organisation is; the labels are what users read."""

    PROVINCE_COMMITTEE = "province_committee", "UBND tỉnh"
    DISTRICT_COMMITTEE = "district_committee", "UBND huyện"
    COMMUNE_COMMITTEE = "commune_committee", "UBND xã, phường, thị trấn"
    OFFICE = "office", "Phòng, ban chuyên môn"
    AGENCY = "agency", "Cơ quan"
    PUBLIC_SERVICE_UNIT = "public_service_unit", "Đơn vị sự nghiệp"
    OTHER = "other", "Khác"


class Organisation(Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    #: Short symbol used in document numbers, e.g. ``UBND`` or ``VHTT`` in ``193/UBND-VHTT``.
    symbol: Mapped[str] = mapped_column(String(20))
    #: "Mã định danh" of the agency: 13 characters in four dot-separated groups.
    agency_code: Mapped[str | None] = mapped_column(String(13), unique=True)
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: The office that consolidates this organisation's certificate requests, when set
    #: here; otherwise the nearest ancestor's focal office applies.
    focal_office_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    tax_code: Mapped[str | None] = mapped_column(String(14))
    #: Whom this organisation's consolidated proposal letters are addressed to ("Kính gửi") when it
    #: acts as a focal office, e.g. the provincial Sở that forwards them; unset means the national
    #: default, the CA of the government-specialised signature service
    #: (:data:`DEFAULT_RECIPIENT`). A batch keeps the value it was locked with.
    letter_recipient: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[Organisation | None] = relationship(
        remote_side=[id], foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list[Organisation]] = relationship(
        foreign_keys=[parent_id], back_populates="parent", order_by="Organisation.name"
    )
    focal_office: Mapped[Organisation | None] = relationship(remote_side=[id], foreign_keys=[focal_office_id])

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.symbol} {self.name!r}>"


class OrganisationTreeVersion(Model):
    """One row whose value names the current state of the organisation tree.

    Database triggers (migration 0008) give it a new random value in the same transaction as any
    insert, update or delete of ``organisation``, whoever makes it; a server process keeps the trees
    it read by this value (:class:`certsvc.orgs.tree.OrgTree`).
    """

    __tablename__ = "organisation_tree_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(String(36))


def office_recipient(office: Organisation) -> str:
    """Whom ``office``'s proposal letters go to now: its own setting, or the default."""
    return office.letter_recipient or DEFAULT_RECIPIENT
