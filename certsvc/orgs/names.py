"""How an organisation is named on its documents: the body's name without "UBND", and the place name of
the date line ("Văn Quan, ngày … tháng … năm …", Nghị định 30/2020, Phụ lục I).

Both are read from the organisation tree, not stored: a committee's name says its level and place
("UBND huyện Văn Quan"); an office or agency takes the place of the committee it belongs to.
"""

from __future__ import annotations

import re

from certsvc.orgs.models import Organisation, OrgKind

__all__ = ["body_name", "place_name", "formal_name", "header_names", "authority_lines"]

_PREFIX = re.compile(r"^(UBND|Ủy ban nhân dân)\s+", re.IGNORECASE)
_LEVEL = re.compile(r"^(tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn)\s+", re.IGNORECASE)
_COMMITTEES = {OrgKind.PROVINCE_COMMITTEE, OrgKind.DISTRICT_COMMITTEE, OrgKind.COMMUNE_COMMITTEE}


def body_name(org: Organisation) -> str:
    """``UBND huyện Văn Quan`` → ``huyện Văn Quan``: the name as "Ủy ban nhân dân …" continues it."""
    return _PREFIX.sub("", org.name)


def place_name(org: Organisation) -> str:
    """``Văn Quan`` for UBND huyện Văn Quan and for its offices: the place of the nearest committee at or
    above ``org`` (``org`` itself when none is), without its level."""
    committee: Organisation | None = org
    while committee is not None and committee.kind not in _COMMITTEES:
        committee = committee.parent
    return _LEVEL.sub("", body_name(committee or org))


def is_committee(org: Organisation) -> bool:
    return org.kind in _COMMITTEES


def formal_name(org: Organisation) -> str:
    """The body's name as a sentence names it: ``Ủy ban nhân dân huyện Văn Quan``, ``Sở Nội vụ``."""
    return f"Ủy ban nhân dân {body_name(org)}" if is_committee(org) else org.name


def header_names(org: Organisation) -> tuple[str, str]:
    """The top left of a document of ``org`` (Nghị định 30/2020, Phụ lục I): the superior body's line (regular;
    "" for a committee, which has none) and the issuing body's name in full, in capitals, one line per ``\n``
    (bold): ``("", "ỦY BAN NHÂN DÂN\nHUYỆN VĂN QUAN")``, ``("UBND TỈNH LẠNG SƠN", "SỞ NỘI VỤ")``."""
    if is_committee(org):
        return "", f"ỦY BAN NHÂN DÂN\n{body_name(org).upper()}"
    superior = org.parent
    while superior is not None and not is_committee(superior):
        superior = superior.parent
    return (f"UBND {body_name(superior).upper()}" if superior is not None else ""), org.name.upper()


#: Signing for someone else's authority (thừa lệnh, thừa ủy quyền): no "TM." line goes above it.
_DELEGATED = ("TL.", "TUQ.")


def authority_lines(org: Organisation, title: str) -> list[str]:
    """The signer block's lines above the name: a committee signs collectively ("TM. ỦY BAN NHÂN DÂN" above
    "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH" or "CHỦ TỊCH"), except under delegation ("TL. CHỦ TỊCH / CHÁNH VĂN PHÒNG");
    another body's head signs in his own name ("KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC")."""
    lines = [line.strip().upper() for line in title.splitlines() if line.strip()]
    collective = is_committee(org) and not (lines and lines[0].startswith(_DELEGATED))
    return ["TM. ỦY BAN NHÂN DÂN", *lines] if collective else lines
