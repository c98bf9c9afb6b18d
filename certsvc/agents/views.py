"""The pages of the signing agents: "Thiết bị ký số của tôi" (pairing codes, the account's agents, revoking one),
and the document page's "Ký số" buttons' two calls (create a job, read its state), answered in JSON.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from certsvc.accounts.admin_views import ACCOUNT_PAGE
from certsvc.accounts.models import Account
from certsvc.agents import jobs, pairing
from certsvc.documents import access
from certsvc.errors import CertsvcError, ValidationFailed
from certsvc.extensions import db
from certsvc.readiness.reports import recent_reports
from certsvc.ui.forms import ActionForm

__all__ = ["bp"]

bp = Blueprint("agents", __name__)


@bp.route("/account/signing-agents", methods=["GET", "POST"])
@login_required
def list_agents():
    """The account's agents; a POST makes a new pairing code, shown on this answer only."""
    issued = None
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        issued = pairing.new_pairing_code(db.session, current_user)
        db.session.commit()
    return render_template(
        "agents/list.html",
        reports=recent_reports(db.session, current_user),
        agents=pairing.agents_of(db.session, current_user),
        issued=issued,
        origin=f"{request.scheme}://{request.host}",
        form=ActionForm(),
        revoke_url=lambda agent: url_for("agents.revoke_agent", agent_id=agent.id),
    )


@bp.post("/account/signing-agents/<int:agent_id>/revoke")
@login_required
def revoke_agent(agent_id: int):
    """The owner revokes an agent from "Thiết bị ký số của tôi", or an administrator from the account's page
    (``account_id`` in the form: back to that page)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    agent = pairing.revoke_agent(db.session, current_user, agent_id)
    db.session.commit()
    flash(f"Đã thu hồi ghép nối của thiết bị «{agent.device_name}».", "success")
    if agent.account_id != current_user.id:
        return redirect(url_for("accounts_admin.view_account", account_id=agent.account_id))
    return redirect(url_for("agents.list_agents"))


@ACCOUNT_PAGE.add
def _account_agents(account: Account, manages: bool) -> dict[str, object]:
    """The account's paired agents on its administration page; revocable by who manages the account."""
    return {
        "signing_agents": pairing.agents_of(db.session, account),
        "agent_revoke_url": (lambda agent: url_for("agents.revoke_agent", agent_id=agent.id)) if manages else None,
    }


def _json_refusal(failure: CertsvcError):
    db.session.rollback()
    error: dict[str, object] = {"code": failure.code, "message": failure.message}
    if isinstance(failure, ValidationFailed):
        error["fields"] = failure.field_errors
    return jsonify(error=error), failure.http_status


@bp.post("/account/signing-agents/check-jobs")
@login_required
def create_check_job():
    """A job for "Kiểm tra thiết bị ký số": the agent checks the tokens plugged in and sends the report."""
    try:
        job = jobs.create_job(db.session, current_user, None, {"role": "check"})
    except CertsvcError as failure:
        return _json_refusal(failure)
    db.session.commit()
    return jsonify(
        job_id=job.id,
        agent_url=current_app.config["CERTSVC_AGENT_URL"],
        status_url=url_for("agents.check_job_status", job_id=job.id),
    ), 201


@bp.get("/account/signing-agents/check-jobs/<job_id>")
@login_required
def check_job_status(job_id: str):
    try:
        state = jobs.job_status(db.session, current_user, None, job_id)
    except CertsvcError as failure:
        return _json_refusal(failure)
    return jsonify(state.as_json())


@bp.post("/documents/<int:document_id>/signing-jobs")
@login_required
def create_signing_job(document_id: int):
    """A job for the page's "Ký số" button (form: ``role``, ``appendix_no``), after the manual step's checks."""
    try:
        doc = access.get_document(db.session, current_user, document_id)
        job = jobs.create_job(db.session, current_user, doc, request.form)
    except CertsvcError as failure:
        return _json_refusal(failure)
    job_id = job.id  # read before the commit, which expires the job
    db.session.commit()
    return jsonify(
        job_id=job_id,
        agent_url=current_app.config["CERTSVC_AGENT_URL"],
        status_url=url_for("agents.signing_job_status", document_id=document_id, job_id=job_id),
    ), 201


@bp.get("/documents/<int:document_id>/signing-jobs/<job_id>")
@login_required
def signing_job_status(document_id: int, job_id: str):
    try:
        state = jobs.job_status(db.session, current_user, document_id, job_id)
    except CertsvcError as failure:
        return _json_refusal(failure)
    return jsonify(state.as_json())
