"""The signing agent's API (/api/agent/v1), as docs/agent-protocol.md defines it.

Every call but the pairing carries ``Authorization: Agent <credential>``; neither session cookies nor the JSON
API's Bearer tokens are accepted, so no CSRF token is needed. Errors are JSON ``{"error": {"code", "message"}}``
(certsvc/web.py renders every :class:`certsvc.errors.CertsvcError` so under /api/).
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request, url_for

from certsvc.agents import jobs, pairing
from certsvc.agents.models import SigningAgent
from certsvc.documents.files import MAX_FILE_BYTES
from certsvc.errors import ValidationFailed
from certsvc.extensions import csrf, db

__all__ = ["bp"]

bp = Blueprint("agent_api", __name__, url_prefix="/api/agent/v1")
csrf.exempt(bp)

#: The only call made without a credential: it is how an agent gets one.
PUBLIC_ENDPOINTS = {"agent_api.pair"}


def _agent() -> SigningAgent:
    return g.signing_agent


def _json_body(*, required: bool = True) -> dict:
    """The request's JSON object; an empty body is ``{}`` when ``required`` is false."""
    if not required and not request.get_data():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed({"_": "Nội dung yêu cầu phải là một đối tượng JSON."})
    return body


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    g.signing_agent = pairing.agent_for_credential(db.session, request.headers.get("Authorization", ""))


@bp.after_request
def _challenge(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Agent realm="certsvc"'
    return response


@bp.post("/pair")
def pair():
    made = pairing.pair(db.session, _json_body(), source=request.remote_addr or "")
    account = made.agent.account
    answer = {
        "agent_id": made.agent.id,
        "credential": made.credential,
        "account": {"username": account.username, "full_name": account.person.full_name},
        "origin": f"{request.scheme}://{request.host}",
    }
    db.session.commit()
    return jsonify(answer), 201


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    job = jobs.job_for_agent(db.session, _agent(), job_id)
    urls = {
        "file_url": url_for(".get_job_file", job_id=job.id),
        "upload_url": url_for(".post_job_result", job_id=job.id),
    }
    answer = jobs.describe(db.session, job, urls)
    db.session.commit()
    return jsonify(answer)


@bp.get("/jobs/<job_id>/file")
def get_job_file(job_id: str):
    content = jobs.job_file(db.session, _agent(), job_id)
    db.session.commit()
    return Response(content, mimetype="application/pdf")


@bp.post("/jobs/<job_id>/result")
def post_job_result(job_id: str):
    request.max_content_length = MAX_FILE_BYTES
    state = jobs.upload_result(db.session, _agent(), job_id, request.get_data(), request.content_type or "")
    return jsonify(status=state.status, document_status=state.document_status)


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    state = jobs.cancel_job(db.session, _agent(), job_id, _json_body(required=False))
    db.session.commit()
    return jsonify(state.as_json())
