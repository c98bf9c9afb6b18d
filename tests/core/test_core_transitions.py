"""The generic pieces of the lifecycle tables (certsvc.core.transitions): a step's comment, and the
compare-and-set that lets exactly one of simultaneous steps from one status win."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from certsvc.core.transitions import MAX_COMMENT, busy_as_conflict, clean_comment, compare_and_set
from certsvc.errors import Conflict, ValidationFailed
from certsvc.orgs.models import Organisation, OrgKind


@pytest.mark.parametrize(
    ("comment", "required", "expected"),
    [
        (None, False, None),
        ("   \n ", False, None),
        ("  Sửa   lại\nđoạn 2 ", True, "Sửa lại đoạn 2"),
        ("x" * MAX_COMMENT, True, "x" * MAX_COMMENT),
    ],
)
def test_clean_comment_collapses_whitespace(comment, required, expected):
    assert clean_comment(comment, required) == expected


@pytest.mark.parametrize(
    ("comment", "required", "message"),
    [
        (None, True, "Ghi rõ lý do."),
        (" \t ", True, "Ghi rõ lý do."),
        ("x" * (MAX_COMMENT + 1), False, f"Ý kiến dài quá {MAX_COMMENT} ký tự."),
        ("Lý do\x00", False, "Có ký tự điều khiển không hợp lệ."),
        ("Lý\u200bdo", False, "Có ký tự ẩn (đảo chiều chữ hoặc độ rộng bằng 0) không hợp lệ."),
    ],
)
def test_clean_comment_refuses(comment, required, message):
    with pytest.raises(ValidationFailed) as refused:
        clean_comment(comment, required)
    assert refused.value.field_errors == {"comment": message}


def test_compare_and_set_moves_only_from_the_expected_value(database_url, session):
    org = Organisation(name="UBND xã Tân Đoàn", symbol="UBND", kind=OrgKind.COMMUNE_COMMITTEE)
    session.add(org)
    session.commit()
    engine = create_engine(database_url)
    with Session(engine) as first, Session(engine) as second:
        assert compare_and_set(first, Organisation, org.id, "symbol", "UBND", "TD")
        first.commit()
        assert not compare_and_set(second, Organisation, org.id, "symbol", "UBND", "YP")
        second.rollback()
    engine.dispose()
    session.expire_all()
    assert session.get(Organisation, org.id).symbol == "TD"


def test_a_locked_sqlite_database_is_a_conflict_to_try_again():
    locked = OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked"))
    with pytest.raises(Conflict) as busy, busy_as_conflict("Thử lại sau giây lát."):
        raise locked
    assert (busy.value.code, busy.value.message) == ("busy", "Thử lại sau giây lát.")
    other = OperationalError("UPDATE x", {}, sqlite3.OperationalError("disk I/O error"))
    with pytest.raises(OperationalError), busy_as_conflict("Thử lại sau giây lát."):
        raise other
