"""What the API endpoints share: reading the JSON body and the query string with typed checks, and pages.

A body that is not a JSON object is refused as ``bad_request``; a member of the wrong type, a missing
one or one the endpoint does not know as ``validation_failed`` with a message per member. Nothing is
written before these checks pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable
from enum import Enum
from typing import Any, TypeVar

from flask import Response, request

from certsvc.api import idempotency
from certsvc.core.records import to_id
from certsvc.core.validation import FieldError, parse_count, text_problem
from certsvc.errors import CertsvcError, ValidationFailed
from certsvc.extensions import db

__all__ = ["BadRequest", "Body", "Query", "json_body", "committed", "page_json", "REQUIRED"]

E = TypeVar("E", bound=Enum)
T = TypeVar("T")

REQUIRED = "Bắt buộc nhập."
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


class BadRequest(CertsvcError):
    code = "bad_request"
    http_status = 400


def json_body() -> dict[str, Any]:
    """The request's JSON object (``Content-Type: application/json``)."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser follows
        data = None
    if not isinstance(data, dict):
        raise BadRequest("Nội dung gửi lên phải là một đối tượng JSON (Content-Type: application/json).")
    return data


def committed(show: Callable[[], dict], status: int = 200, location: str | None = None) -> Response:
    """Answer with the record as the change left it (``show``), built before the commit: once committed, the
    change is never answered with an error that would make a retrying client do it twice."""
    db.session.flush()
    return idempotency.commit_answer(db.session, show(), status, location)


class _Reader:
    """Collects a message per wrong member, so the client sees them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def check(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


class Body(_Reader):
    """Typed members of a JSON object; members other than ``allowed`` are refused."""

    def __init__(self, data: dict[str, Any], allowed: Collection[str]):
        super().__init__()
        self.data = data
        for name in data:
            if name not in allowed:
                self.fail(name, "Không có trường này.")

    def _present(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None and required:
            self.fail(name, REQUIRED)
        return value

    def integer(self, name: str, *, required: bool = True) -> int | None:
        value = self._present(name, required)
        if value is None:
            return None
        if not _is_integer(value):
            self.fail(name, "Phải là số nguyên.")
            return None
        return value

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._present(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(name, "Phải là chuỗi ký tự.")
            return None
        if problem := text_problem(value):
            self.fail(name, problem)
            return None
        return value

    def integers(self, name: str) -> list[int]:
        value = self._present(name, True)
        if value is None:
            return []
        if not isinstance(value, list) or not value or not all(_is_integer(item) for item in value):
            self.fail(name, "Phải là danh sách (không rỗng) các số nguyên.")
            return []
        return value

    def form(self, name: str, allowed: Collection[str] | None, *, required: bool = True) -> dict[str, str]:
        """A nested object of form values (strings, whole numbers or null), as a form would post them;
        names outside ``allowed`` are refused (None: not checked, when the type itself was wrong)."""
        value = self._present(name, required)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(name, "Phải là một đối tượng JSON.")
            return {}
        values: dict[str, str] = {}
        for key, item in value.items():
            if allowed is not None and key not in allowed:
                self.fail(key, "Loại đề nghị này không có trường này.")
            elif item is None:
                values[key] = ""
            elif isinstance(item, str) or _is_integer(item):
                values[key] = str(item)
            else:
                self.fail(key, "Phải là chuỗi ký tự, số nguyên hoặc null.")
        return values


class Query(_Reader):
    """Typed parameters of the query string."""

    def __init__(self) -> None:
        super().__init__()
        self.args = request.args

    def number(self, name: str, default: int, maximum: int) -> int:
        try:
            number = parse_count(
                self.args.get(name), minimum=1, maximum=maximum, message=f"Phải là số nguyên từ 1 đến {maximum}."
            )
        except FieldError as error:
            self.fail(name, str(error))
            return default
        return default if number is None else number

    def paging(self) -> tuple[int, int]:
        return self.number("page", 1, MAX_PAGE), self.number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)

    def refuse_empty(self, *names: str) -> None:
        """A filter given with no value (``?status=``) is refused, as the OpenAPI document says: a program
        leaves a filter out to list everything (the pages' forms send empty values, the API does not)."""
        for name in names:
            if self.args.get(name) == "":
                self.fail(name, "Không được để trống: bỏ tham số này để không lọc.")

    def choice(self, name: str, kind: type[E]) -> E | None:
        self.refuse_empty(name)
        raw = self.args.get(name, "")
        if not raw:
            return None
        found = next((member for member in kind if member.value == raw), None)
        if found is None:
            self.fail(name, "Giá trị lọc không hợp lệ.")
        return found

    def text(self, name: str, max_length: int = 200) -> str:
        value = self.args.get(name, "")
        if problem := text_problem(value):
            self.fail(name, problem)
            return ""
        return value[:max_length]

    def organisations(self, visible: set[int]) -> set[int]:
        """The units a list shows: all ``visible``, or the one ``organisation_id`` names among them."""
        self.refuse_empty("organisation_id")
        raw = self.args.get("organisation_id", "")
        if not raw:
            return visible
        chosen = to_id(raw)
        if chosen not in visible:
            self.fail("organisation_id", "Đơn vị không có trong danh sách bạn được xem.")
            return set()
        return {chosen}


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def page_json(items: Iterable[T], number: int, total: int, per_page: int, item: Callable[[T], dict]) -> dict:
    """One page of a list: its items, which page it is, how many pages and items the whole list has."""
    return {
        "items": [item(row) for row in items],
        "page": number,
        "pages": max(1, math.ceil(total / per_page)),
        "per_page": per_page,
        "total": total,
    }
