"""How bodies are named on their documents (Nghị định 30/2020, Phụ lục I), from the organisation tree."""

from __future__ import annotations

import pytest

from certsvc.orgs.models import Organisation, OrgKind
from certsvc.orgs.names import authority_lines, formal_name, header_names, place_name


def _tree() -> dict[str, Organisation]:
    province = Organisation(name="UBND tỉnh Lạng Sơn", symbol="UBND", kind=OrgKind.PROVINCE_COMMITTEE)
    department = Organisation(name="Sở Nội vụ", symbol="SNV", kind=OrgKind.AGENCY, parent=province)
    office = Organisation(name="Văn phòng Sở", symbol="VP", kind=OrgKind.OFFICE, parent=department)
    district = Organisation(name="UBND huyện Văn Quan", symbol="UBND", kind=OrgKind.DISTRICT_COMMITTEE, parent=province)
    return {"province": province, "department": department, "office": office, "district": district}


def test_a_committee_is_named_in_full_and_another_body_under_its_superior():
    tree = _tree()
    assert header_names(tree["district"]) == ("", "ỦY BAN NHÂN DÂN\nHUYỆN VĂN QUAN")
    assert header_names(tree["department"]) == ("UBND TỈNH LẠNG SƠN", "SỞ NỘI VỤ")
    assert formal_name(tree["district"]) == "Ủy ban nhân dân huyện Văn Quan"
    assert formal_name(tree["department"]) == "Sở Nội vụ"  # not "Ủy ban nhân dân Sở Nội vụ"
    assert place_name(tree["office"]) == "Lạng Sơn"


@pytest.mark.parametrize(
    ("org", "title", "lines"),
    [
        ("district", "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH", ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]),
        ("district", "CHỦ TỊCH", ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]),
        ("district", "TL. CHỦ TỊCH\nChánh Văn phòng", ["TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG"]),
        ("district", "TUQ. CHỦ TỊCH\nGIÁM ĐỐC TRUNG TÂM", ["TUQ. CHỦ TỊCH", "GIÁM ĐỐC TRUNG TÂM"]),
        ("department", "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC", ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]),
        ("department", "GIÁM ĐỐC", ["GIÁM ĐỐC"]),
    ],
)
def test_the_signer_block_s_authority_lines(org, title, lines):
    assert authority_lines(_tree()[org], title) == lines
