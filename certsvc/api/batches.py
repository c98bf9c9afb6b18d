"""API of batches ("đợt tổng hợp"), checked as the batch pages check (certsvc.requests.views).

The letter and annexes are downloaded from the pages; the API creates, fills and locks a batch, creates its
proposal letter as an outgoing document (signed and issued through the documents API) and marks it sent.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, jsonify, request, url_for

from certsvc.api.common import Body, committed, json_body
from certsvc.api.serializers import batch_detail_json, batch_json
from certsvc.api.views import api_account, bp
from certsvc.extensions import db
from certsvc.policy import Permission, ensure
from certsvc.requests import batches
from certsvc.requests.batch_letter import create_letter, ensure_may_create
from certsvc.requests.models import Batch

_NEW_BATCH = ("focal_office_id", "title", "signer_title", "signer_name")
_SENT = ("document_number", "document_date")
_DISTRIBUTION = ("letter_recipient", "distribution_lines", "electronic_distribution_lines")


def _change(batch_id: int, change: Callable[[Batch], object]) -> Response:
    batch = batches.get_batch(db.session, api_account(), batch_id, Permission.MANAGE_BATCHES)
    change(batch)
    return committed(lambda: batch_detail_json(batch))


@bp.get("/batches")
def list_batches() -> Response:
    rows = batches.batches_in_scope(db.session, api_account())
    return jsonify(items=[batch_json(batch) for batch in rows], total=len(rows))


@bp.post("/batches")
def create_batch() -> Response:
    account = api_account()
    ensure(db.session, account, Permission.MANAGE_BATCHES)
    body = Body(json_body(), _NEW_BATCH)
    raw = {
        "focal_office_id": body.integer("focal_office_id"),
        **{name: body.text(name, required=True) for name in _NEW_BATCH[1:]},
    }
    body.check()
    batch = batches.create_batch(db.session, account, raw)
    return committed(lambda: batch_detail_json(batch), 201, url_for("api.get_batch", api_batch_id=batch.id))


@bp.get("/batches/<int:api_batch_id>")
def get_batch(api_batch_id: int) -> Response:
    return jsonify(batch_detail_json(batches.get_batch(db.session, api_account(), api_batch_id)))


@bp.post("/batches/<int:api_batch_id>/requests")
def add_batch_requests(api_batch_id: int) -> Response:
    """Put accepted requests into the open batch: all of them or, on any refusal, none."""

    def add(batch: Batch) -> None:
        body = Body(json_body(), ("request_ids",))
        ids = body.integers("request_ids")
        body.check()
        batches.add_requests(db.session, api_account(), batch, ids)

    return _change(api_batch_id, add)


@bp.post("/batches/<int:api_batch_id>/lock")
def lock_batch(api_batch_id: int) -> Response:
    return _change(api_batch_id, lambda batch: batches.lock_batch(db.session, api_account(), batch))


@bp.post("/batches/<int:api_batch_id>/distribution")
def set_batch_distribution(api_batch_id: int) -> Response:
    """The letter's "Kính gửi" and "Nơi nhận" for this batch, until its letter is created; a member left out or
    null goes back to the focal office's."""

    def set_distribution(batch: Batch) -> None:
        body = Body(json_body(), _DISTRIBUTION)
        # The lines are lists of strings (or one string, a line each): the service checks them as the form's.
        raw = {
            "letter_recipient": body.text("letter_recipient"),
            **{name: body.data.get(name) for name in _DISTRIBUTION[1:]},
        }
        body.check()
        batches.set_distribution(db.session, api_account(), batch, raw)

    return _change(api_batch_id, set_distribution)


@bp.post("/batches/<int:api_batch_id>/letter")
def create_batch_letter(api_batch_id: int) -> Response:
    """Create the locked batch's proposal letter, a draft outgoing document signed by ``signer_id``; it then
    follows the documents API (review, approval, number, issue). Location: the document."""
    account = api_account()
    batch = batches.get_batch(db.session, account, api_batch_id, Permission.MANAGE_BATCHES)
    ensure_may_create(db.session, account, batch)
    body = Body(json_body(), ("signer_id",))
    raw = {"signer_id": body.integer("signer_id")}
    body.check()
    letter = create_letter(db.session, account, batch, raw)
    return committed(lambda: batch_detail_json(batch), 201, url_for("api.get_document", api_document_id=letter.id))


@bp.post("/batches/<int:api_batch_id>/sent")
def mark_batch_sent(api_batch_id: int) -> Response:
    """The batch's issued proposal letter went out: the batch takes the letter's number and date from the
    register and its requests are sent. No body is needed; ``document_number`` and ``document_date``
    (``YYYY-MM-DD``), as clients sent them when they were typed, are accepted only when they are the register's."""

    def mark(batch: Batch) -> None:
        raw: dict[str, object] = {}
        if request.get_data(cache=True):
            body = Body(json_body(), _SENT)
            raw = {name: body.text(name) for name in _SENT}
            body.check()
        batches.mark_sent(db.session, api_account(), batch, raw)

    return _change(api_batch_id, mark)
