"""Registering certificates in the registry, with the token each one is on: from parsed certificate data
(the demo, the outcome of a request) or from an uploaded file, and the choices the upload form offers.

Same rules as :mod:`certsvc.registry.service`: ``by`` is checked for :data:`Permission.MANAGE_REGISTRY`
(a system actor is trusted), bad input changes nothing, one audit entry per change in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.records import to_id
from certsvc.core.validation import FieldCollector, FieldError, clean_text, validated
from certsvc.errors import ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.policy import Permission, orgs_in_scope
from certsvc.registry.certificates import ParsedCertificate, parse_certificate
from certsvc.registry.models import Certificate, Token, TokenKind, TokenState
from certsvc.registry.service import authorise, in_register, not_renewed
from certsvc.registry.tokens import first_event, move

__all__ = ["get_or_create_token", "holder_choices", "predecessor_choices", "register_certificate", "register_upload"]


#: States in which a token cannot carry a newly issued certificate.
_UNUSABLE = frozenset({TokenState.LOST, TokenState.RETURNED, TokenState.DESTROYED})


def _clean_serial(value: object) -> str:
    serial = clean_text(str(value or ""), required=True, max_length=64)
    if not serial.replace("-", "").replace("_", "").isalnum():
        raise FieldError("Số sê-ri thiết bị chỉ gồm chữ, số, dấu gạch.")
    return serial


def _find_or_new_token(
    session: Session,
    serial: str,
    *,
    kind: TokenKind,
    organisation_id: int,
    holder_id: int | None,
    model: str | None,
) -> tuple[Token, bool]:
    """The token with ``serial`` if it may take this certificate, else a new ACTIVE one (not yet added)."""
    token = session.scalar(select(Token).where(Token.serial == serial))
    if token is None:
        return Token(
            serial=serial,
            model=model,
            kind=kind,
            organisation_id=organisation_id,
            holder_id=holder_id if kind is TokenKind.PERSONAL else None,
            state=TokenState.ACTIVE,
            is_secret=kind is TokenKind.ORGANISATION,
            recoveries=0,
            replacements=0,
        ), True
    if token.organisation_id != organisation_id:
        raise ValidationFailed({"token_serial": f"Thiết bị {serial} do {token.organisation.name} quản lý."})
    if token.kind is not kind:
        raise ValidationFailed({"token_serial": f"Thiết bị {serial} là thiết bị loại «{token.kind.label}»."})
    if token.state in _UNUSABLE:
        raise ValidationFailed({"token_serial": f"Thiết bị {serial} đang ở trạng thái «{token.state.label}»."})
    if holder_id is not None and token.holder is not None and token.holder.id != holder_id:
        raise ValidationFailed(
            {
                "token_serial": f"Thiết bị {serial} là thiết bị cá nhân của {token.holder.full_name}: "
                "chỉ người được cấp giữ và sử dụng."
            }
        )
    return token, False


def get_or_create_token(
    session: Session,
    by: Account | Actor,
    serial: str,
    *,
    kind: TokenKind,
    organisation_id: int,
    holder_id: int | None = None,
    model: str | None = None,
) -> Token:
    """The token with ``serial`` (it must belong to the organisation and be of ``kind``), or a new
    one in service (ACTIVE); a new token writes one audit entry."""
    actor = authorise(session, by, organisation_id)
    fields = FieldCollector({"serial": serial, "model": model})
    cleaned_serial = fields.take("serial", _clean_serial)
    model = fields.take("model", lambda v: clean_text(v, max_length=100))
    fields.raise_if_failed()
    token, created = _find_or_new_token(
        session,
        validated(cleaned_serial, "serial"),
        kind=kind,
        organisation_id=organisation_id,
        holder_id=holder_id,
        model=model,
    )
    if created:
        session.add(token)
        first_event(session, actor, token, "Ghi nhận thiết bị vào sổ theo dõi.")
        record(
            session,
            actor,
            "token.registered",
            "token",
            token.id,
            {"serial": token.serial, "kind": kind.value, "organisation_id": organisation_id},
        )
    return token


def _check_registration(
    session: Session,
    parsed: ParsedCertificate,
    kind: TokenKind,
    organisation_id: int,
    holder_id: int | None,
    predecessor: Certificate | None,
) -> None:
    errors: dict[str, str] = {}
    if session.get(Organisation, organisation_id) is None:
        errors["organisation_id"] = "Đơn vị không tồn tại."
    if holder_id is not None and session.get(Person, holder_id) is None:
        errors["holder_id"] = "Người được cấp không tồn tại."
    if kind is TokenKind.PERSONAL and holder_id is None:
        errors["holder_id"] = "Chứng thư cá nhân phải có người được cấp."
    same = session.scalar(
        select(Certificate).where(
            or_(
                Certificate.sha256 == parsed.sha256,
                and_(Certificate.issuer_dn == parsed.issuer_dn, Certificate.serial_hex == parsed.serial_hex),
            )
        )
    )
    if same is not None:
        errors["file"] = f"Chứng thư số này đã có trong sổ theo dõi (số hiệu {same.serial_hex}, {same.subject_cn})."
    if predecessor is not None and predecessor.successor is not None:
        errors["predecessor_id"] = (
            f"Chứng thư {predecessor.serial_hex} đã được thay bằng chứng thư {predecessor.successor.serial_hex}."
        )
    if errors:
        raise ValidationFailed(errors)


def register_certificate(
    session: Session,
    by: Account | Actor,
    parsed: ParsedCertificate,
    *,
    kind: TokenKind,
    organisation_id: int,
    holder_id: int | None = None,
    token_serial: str | None = None,
    predecessor: Certificate | None = None,
) -> Certificate:
    """Record a certificate the CA issued, with one audit entry.

    Refuses one already registered (same SHA-256, or same issuer and serial). Links it to the token
    ``token_serial``, creating that token (ACTIVE, "MẬT" for an organisation token) when unknown; with
    no serial, a renewal stays on its predecessor's token. A new token that takes over from the
    predecessor's token records which token it replaced. ``predecessor`` is the certificate this one
    renews or replaces: it must not have a successor already.
    """
    actor = authorise(session, by, organisation_id)
    _check_registration(session, parsed, kind, organisation_id, holder_id, predecessor)
    try:
        cert, token, created = _register(
            session, actor, parsed, kind, organisation_id, holder_id, token_serial, predecessor
        )
    except IntegrityError:  # registered at the same moment by someone else
        raise ValidationFailed(
            {"file": "Chứng thư số hoặc thiết bị này vừa được đăng ký: tải lại trang để kiểm tra."}
        ) from None
    record(
        session,
        actor,
        "certificate.registered",
        "certificate",
        cert.id,
        {
            "serial": cert.serial_hex,
            "sha256": cert.sha256,
            "subject": cert.subject_dn,
            "kind": kind.value,
            "organisation_id": organisation_id,
            "holder_id": holder_id,
            "token": token.serial if token else None,
            "token_created": created,
            "predecessor_id": predecessor.id if predecessor else None,
        },
    )
    return cert


def _register(
    session: Session,
    actor: Actor,
    parsed: ParsedCertificate,
    kind: TokenKind,
    organisation_id: int,
    holder_id: int | None,
    token_serial: str | None,
    predecessor: Certificate | None,
) -> tuple[Certificate, Token | None, bool]:
    """The writes of :func:`register_certificate`: the token (found, put in service or created) and the certificate."""
    token, created = None, False
    if token_serial is not None and str(token_serial).strip():
        try:
            serial = _clean_serial(token_serial)
        except FieldError as error:
            raise ValidationFailed({"token_serial": str(error)}) from None
        token, created = _find_or_new_token(
            session, serial, kind=kind, organisation_id=organisation_id, holder_id=holder_id, model=None
        )
    elif predecessor is not None and predecessor.token is not None and predecessor.token.state not in _UNUSABLE:
        token = predecessor.token
    if token is not None and created:
        old = predecessor.token if predecessor is not None else None
        if old is not None:
            token.replaces, token.replacements = old, old.replacements + 1
        session.add(token)
        first_event(session, actor, token, f"Nhận thiết bị kèm chứng thư số {parsed.serial_hex}.")
    elif token is not None and token.state is TokenState.IN_STOCK:
        move(session, actor, token, TokenState.ACTIVE, f"Cấp phát kèm chứng thư số {parsed.serial_hex}.")
    cert = Certificate(
        serial_hex=parsed.serial_hex,
        subject_dn=parsed.subject_dn,
        subject_cn=parsed.common_name,
        subject_uid=parsed.uid,
        issuer_dn=parsed.issuer_dn,
        not_before=parsed.not_before,
        not_after=parsed.not_after,
        key_usage=", ".join(parsed.key_usage)[:255] or None,
        sha1=parsed.sha1,
        sha256=parsed.sha256,
        der=parsed.der,
        kind=kind,
        organisation_id=organisation_id,
        holder_id=holder_id,
        token=token,
        predecessor=predecessor,
    )
    session.add(cert)
    session.flush()
    return cert, token, created


def holder_choices(session: Session, org_ids: Collection[int]) -> list[Person]:
    """People who may be named holder of a certificate of ``org_ids``: the active staff of those units."""
    return list(
        session.scalars(
            select(Person)
            .where(Person.organisation_id.in_(set(org_ids)), Person.is_active)
            .options(selectinload(Person.organisation))
            .order_by(Person.full_name, Person.id)
        )
    )


def predecessor_choices(session: Session, org_ids: Collection[int]) -> list[Certificate]:
    """Certificates of ``org_ids`` that a new one may renew or replace: not yet succeeded."""
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.organisation_id.in_(set(org_ids)), not_renewed(), in_register())
            .order_by(Certificate.subject_cn, Certificate.not_after)
        )
    )


def _choice_in(ids: Collection[int], message: str, *, required: bool) -> Callable[[object], int | None]:
    def clean(value: object) -> int | None:
        if value in (None, ""):
            if required:
                raise FieldError(message)
            return None
        number = to_id(value)
        if number not in ids:
            raise FieldError(message)
        return number

    return clean


def _clean_kind(value: object) -> TokenKind:
    try:
        return TokenKind(str(value or ""))
    except ValueError:
        raise FieldError("Chọn loại chứng thư.") from None


def register_upload(session: Session, by: Account, raw: Mapping[str, object], data: bytes) -> Certificate:
    """The upload form: register the certificate in ``data`` for the unit, holder, token and predecessor
    chosen in ``raw`` (each within the units ``by`` manages). Every problem is reported at once."""
    manageable = orgs_in_scope(session, by, Permission.MANAGE_REGISTRY)
    fields = FieldCollector(raw)
    org_id = fields.take("organisation_id", _choice_in(manageable, "Chọn đơn vị bạn quản lý.", required=True))
    kind = fields.take("kind", _clean_kind)
    holders = {p.id for p in holder_choices(session, manageable)}
    holder_id = fields.take("holder_id", _choice_in(holders, "Chọn người được cấp trong danh sách.", required=False))
    earlier = {c.id for c in predecessor_choices(session, manageable)}
    predecessor_id = fields.take(
        "predecessor_id", _choice_in(earlier, "Chọn chứng thư trong danh sách.", required=False)
    )
    token_serial = fields.take("token_serial", lambda v: _clean_serial(v) if str(v or "").strip() else None)
    try:
        parsed = parse_certificate(data)
    except ValidationFailed as failure:
        fields.fail("file", failure.field_errors["file"])
    fields.raise_if_failed()
    return register_certificate(
        session,
        by,
        parsed,
        kind=validated(kind, "kind"),
        organisation_id=validated(org_id, "organisation_id"),
        holder_id=holder_id,
        token_serial=token_serial,
        predecessor=session.get(Certificate, predecessor_id) if predecessor_id else None,
    )
