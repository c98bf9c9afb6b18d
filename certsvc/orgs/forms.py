"""Forms of the organisation pages."""

from __future__ import annotations

from collections.abc import Iterable

# SelectChoice is in WTForms 3.3 but not in its stubs (types-WTForms 3.2).
from wtforms import BooleanField, SelectChoice, StringField  # type: ignore[attr-defined]

from certsvc.orgs.models import DEFAULT_RECIPIENT, Organisation, OrgKind
from certsvc.ui.forms import MarkedRequired, ServiceForm, open_select

__all__ = ["OrganisationForm", "org_choices"]

_INDENT = "\u00a0\u00a0\u00a0"


def org_choices(rows: Iterable[tuple[Organisation, int]], placeholder: str) -> list[SelectChoice]:
    """Options for organisations in tree order, indented by depth, inactive ones marked,
    after an empty option that reads ``placeholder``."""
    return [SelectChoice("", placeholder)] + [
        SelectChoice(str(org.id), _INDENT * depth + org.name + ("" if org.is_active else " (ngừng hoạt động)"))
        for org, depth in rows
    ]


class OrganisationForm(ServiceForm):
    name = StringField("Tên tổ chức", validators=[MarkedRequired()])
    symbol = StringField("Ký hiệu viết tắt")
    agency_code = StringField("Mã định danh")
    kind = open_select("Loại tổ chức", required=True)
    parent_id = open_select("Cơ quan cấp trên")
    focal_office_id = open_select("Cơ quan đầu mối tổng hợp")
    address = StringField("Địa chỉ")
    email = StringField("Thư điện tử công vụ")
    tax_code = StringField("Mã số thuế")
    letter_recipient = StringField(
        "Nơi nhận công văn đề nghị (Kính gửi)",
        description=(
            "Chỉ dùng khi tổ chức là cơ quan đầu mối tổng hợp: công văn đề nghị cấp chứng thư số "
            "của các đợt tổng hợp gửi tới nơi này, ví dụ «Sở Khoa học và Công nghệ tỉnh Lạng Sơn». "
            f"Để trống thì gửi {DEFAULT_RECIPIENT}. Đợt đã chốt giữ nơi nhận lúc chốt."
        ),
    )
    is_active = BooleanField("Đang hoạt động", default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice("", "— Chọn loại tổ chức —")] + [
            SelectChoice(kind.value, kind.label) for kind in OrgKind
        ]
