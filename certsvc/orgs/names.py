"""How an organisation is named on its documents: the body's name without "UBND", and the place name of
the date line ("Văn Quan, ngày … tháng … năm …", Nghị định 30/2020, Phụ lục I).

Both are read from the organisation tree, not stored: a committee's name says its level and place
("UBND huyện Văn Quan"); an office or agency takes the place of the committee it belongs to.
"""

from __future__ import annotations

import re

from certsvc.orgs.models import Organisation, OrgKind

__all__ = ["body_name", "place_name"]

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
