"""API of the certificate and token registries (read only), checked as the registry pages check."""

from __future__ import annotations

from flask import Response, current_app, jsonify

from certsvc.api.common import Query, page_json
from certsvc.api.serializers import certificate_json, token_detail_json, token_json
from certsvc.api.views import api_account, bp
from certsvc.errors import PermissionDenied
from certsvc.extensions import db
from certsvc.policy import Permission, ensure, orgs_in_scope
from certsvc.registry import listing, service
from certsvc.registry.models import Certificate, TokenKind, TokenState
from certsvc.timeutil import utcnow


def _visible() -> set[int]:
    visible = orgs_in_scope(db.session, api_account(), Permission.VIEW_REGISTRY)
    if not visible:
        raise PermissionDenied()
    return visible


def _warn_days() -> int:
    return service.RegistrySettings.from_config(current_app.config).warning_days


def _certificate(cert: Certificate) -> dict:
    return certificate_json(cert, service.certificate_status(cert, utcnow(), warn_days=_warn_days()))


@bp.get("/certificates")
def list_certificates() -> Response:
    query = Query()
    units = query.organisations(_visible())
    status = query.choice("status", service.CertificateStatus)
    page, per_page = query.paging()
    text = query.text("q")
    query.check()
    result = listing.find_certificates(
        db.session, units, now=utcnow(), status=status, query=text, page=page, per_page=per_page, warn_days=_warn_days()
    )
    return jsonify(page_json(result.items, result.number, result.total, per_page, _certificate))


@bp.get("/certificates/<int:api_certificate_id>")
def get_certificate(api_certificate_id: int) -> Response:
    cert = service.get_certificate(db.session, api_certificate_id)
    ensure(db.session, api_account(), Permission.VIEW_REGISTRY, cert.organisation_id)
    return jsonify(_certificate(cert))


@bp.get("/tokens")
def list_tokens() -> Response:
    query = Query()
    units = query.organisations(_visible())
    state = query.choice("state", TokenState)
    kind = query.choice("kind", TokenKind)
    page, per_page = query.paging()
    text = query.text("q")
    query.check()
    result = listing.find_tokens(db.session, units, state=state, kind=kind, query=text, page=page, per_page=per_page)
    return jsonify(page_json(result.items, result.number, result.total, per_page, token_json))


@bp.get("/tokens/<int:api_registry_token_id>")
def get_token(api_registry_token_id: int) -> Response:
    token = service.get_token(db.session, api_registry_token_id)
    ensure(db.session, api_account(), Permission.VIEW_REGISTRY, token.organisation_id)
    return jsonify(token_detail_json(token, service.certificates_on(db.session, token)))
