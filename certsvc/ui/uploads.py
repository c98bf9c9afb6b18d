"""Upload pages whose file may be as large as the service accepts, with a readable refusal of a larger one.

The app bounds every request by ``MAX_CONTENT_LENGTH`` (20 MB), so a 20 MB file with its form would be refused.
A page that takes a file of up to ``limit`` bytes sets the bound of its own requests to that file plus
:data:`FORM_ALLOWANCE` for the form around it, before anything reads the body (the CSRF check reads the form
first, so this runs as a URL value preprocessor, the only hook of a blueprint that comes before the app's
``before_request``). A larger request is answered by the page itself, with the message under its file field,
instead of the bare 413 error page; :func:`fields_beside_a_large_file` gives it what was typed beside the file.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.wsgi import get_input_stream

from certsvc.errors import CertsvcError
from certsvc.extensions import db

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = ["FORM_ALLOWANCE", "CHOOSE_FILE_AGAIN", "too_large_message", "allow_upload", "fields_beside_a_large_file"]

#: The form fields and multipart framing around the file: a few short texts.
FORM_ALLOWANCE = 256 * 1024

#: Under the file field of a form that comes back refused with a file chosen: a browser cannot be given it back.
CHOOSE_FILE_AGAIN = "Tệp đã chọn không được giữ lại khi trang báo lỗi: chọn lại tệp trước khi lưu."

#: Answers the too-large request on its own page: called with the message for the file field.
TooLargePage = Callable[[str], ResponseReturnValue]


def too_large_message(limit: int) -> str:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return f"Tệp lớn quá {size}: chọn tệp nhỏ hơn. Không có gì được lưu."


def allow_upload(bp: Blueprint, endpoint: str, limit: int, page: TooLargePage) -> None:
    """Let ``bp``'s ``endpoint`` take a file of up to ``limit`` bytes; ``page`` answers a larger request."""
    uploads = _by_blueprint.get(bp.name)
    if uploads is None:
        uploads = _by_blueprint[bp.name] = _Uploads(bp)
    uploads.limits[f"{bp.name}.{endpoint}"] = (limit, page)


class _Uploads:
    """The upload endpoints of one blueprint, with its two hooks (a blueprint holds one handler per error)."""

    def __init__(self, bp: Blueprint) -> None:
        self.limits: dict[str, tuple[int, TooLargePage]] = {}
        bp.url_value_preprocessor(self._set_bound)
        bp.register_error_handler(RequestEntityTooLarge, self._too_large)

    def _set_bound(self, endpoint: str | None, values: dict | None) -> None:
        if endpoint in self.limits:
            request.max_content_length = self.limits[endpoint][0] + FORM_ALLOWANCE

    def _too_large(self, error: RequestEntityTooLarge) -> ResponseReturnValue:
        found = self.limits.get(request.endpoint or "")
        if found is None or not current_user.is_authenticated:
            return _app_answer(error)
        limit, page = found
        db.session.rollback()
        try:
            return page(too_large_message(limit))
        except CertsvcError as refusal:  # the page's own refusal (no permission …): the app's error page
            return _app_answer(refusal)


_by_blueprint: dict[str, _Uploads] = {}


def _app_answer(error: Exception) -> ResponseReturnValue:
    """What the app's own error handlers answer (this blueprint's handler stands in front of them)."""
    handler = current_app._find_error_handler(error, [])
    if handler is None:  # the app handles every HTTP and domain error (certsvc.web)
        raise error
    response: ResponseReturnValue = current_app.ensure_sync(handler)(error)
    return response


class _DroppedFile(io.BytesIO):
    """Where the file of a request refused for its size goes while its other fields are read: nowhere."""

    def write(self, data: ReadableBuffer, /) -> int:
        return memoryview(data).nbytes


def _drop_file(
    total_content_length: int | None, content_type: str | None, filename: str | None, content_length: int | None = None
) -> _DroppedFile:
    return _DroppedFile()


def fields_beside_a_large_file() -> CombinedMultiDict | None:
    """The fields typed beside a file too large for the page (its files keep their names, not their content), so
    that the refusal shows them again; None when the request is larger than twice the page's bound, or the
    app's, whichever is larger (it is then not read through)."""
    bound = max(current_app.config["MAX_CONTENT_LENGTH"], 2 * (request.max_content_length or 0))
    parser = FormDataParser(stream_factory=_drop_file, max_form_memory_size=FORM_ALLOWANCE)
    try:
        stream = get_input_stream(request.environ, max_content_length=bound)
        _, fields, files = parser.parse(stream, request.mimetype, request.content_length, request.mimetype_params)
    except RequestEntityTooLarge:
        return None
    return CombinedMultiDict([files, fields])
