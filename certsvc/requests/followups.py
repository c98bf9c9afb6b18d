"""The requests the rules require when a person leaves or moves (DOMAIN: a person moving to another state body
keeps the certificate and the new body files a change of information; a person retiring or leaving the state
sector has the certificate revoked and the token returned).

The person's page and the unit's list of them offer each as a link to the request form, prefilled; a request
already open for the certificate is named instead, so that nobody drafts it twice.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import Session

from certsvc.core.sql import one_of_ids
from certsvc.people.models import Person
from certsvc.registry.models import Certificate
from certsvc.registry.service import in_register
from certsvc.requests.fields import display_serial
from certsvc.requests.models import CLOSED_STATUSES, CertificateRequest, RequestType
from certsvc.timeutil import utcnow

__all__ = ["FollowUp", "person_follow_ups", "unit_follow_ups", "needing_follow_up", "of_units", "without_open_request"]


@dataclass(frozen=True)
class FollowUp:
    """One request a person's certificate needs: why, the form to draft it with, or the request already open."""

    certificate: Certificate
    person: Person
    request_type: RequestType
    reason: str
    #: The form's prefilled values besides the certificate (the query string of the form's link).
    prefill: dict[str, str]
    open_request: CertificateRequest | None

    @property
    def serial(self) -> str:
        return display_serial(self.certificate.serial_hex)


def needing_follow_up(*conditions: ColumnElement[bool]) -> Select[Certificate, Person]:
    """Valid certificates (not revoked, not expired, in the register) whose holder no longer works (inactive)
    or works at another unit than the certificate's, with the holder; narrowed by ``conditions``."""
    return (
        select(Certificate, Person)
        .join(Person, Person.id == Certificate.holder_id)
        .where(
            Certificate.revoked_at.is_(None),
            Certificate.not_after > utcnow(),
            in_register(),
            or_(Person.is_active.is_(False), Person.organisation_id != Certificate.organisation_id),
            *conditions,
        )
        .order_by(Person.full_name, Certificate.not_after.desc())
    )


def without_open_request() -> ColumnElement[bool]:
    """No revocation or information change of the certificate is open yet: nobody has drafted it."""
    return ~exists().where(
        CertificateRequest.certificate_id == Certificate.id,
        CertificateRequest.request_type.in_([RequestType.REVOCATION, RequestType.CHANGE]),
        CertificateRequest.status.not_in(list(CLOSED_STATUSES)),
    )


def _follow_up(certificate: Certificate, person: Person, open_request: CertificateRequest | None) -> FollowUp:
    if not person.is_active:
        return FollowUp(
            certificate,
            person,
            RequestType.REVOCATION,
            "Cán bộ không còn công tác: chứng thư số phải thu hồi và thiết bị nộp lại cơ quan cấp.",
            {"reason": "left_state_sector"},
            open_request,
        )
    return FollowUp(
        certificate,
        person,
        RequestType.CHANGE,
        f"Cán bộ đã chuyển sang {person.organisation.name}: giữ chứng thư số, "
        "đề nghị thay đổi thông tin cơ quan, đơn vị công tác.",
        {"new_unit_name": person.organisation.name},
        open_request,
    )


def _follow_ups(session: Session, query: Select[Certificate, Person]) -> list[FollowUp]:
    found = session.execute(query).all()
    # The open revocation or change of each certificate, in one query.
    open_requests: dict[int, CertificateRequest] = {}
    for request in session.scalars(
        select(CertificateRequest)
        .where(
            CertificateRequest.certificate_id.in_([certificate.id for certificate, _ in found]),
            CertificateRequest.request_type.in_([RequestType.REVOCATION, RequestType.CHANGE]),
            CertificateRequest.status.not_in(list(CLOSED_STATUSES)),
        )
        .order_by(CertificateRequest.id.desc())
    ):
        assert request.certificate_id is not None  # selected by it
        open_requests[request.certificate_id] = request
    return [_follow_up(certificate, person, open_requests.get(certificate.id)) for certificate, person in found]


def person_follow_ups(session: Session, person: Person) -> list[FollowUp]:
    """What ``person``'s certificates need: the revocation (Mẫu 05) when the person no longer works, the
    information change (Mẫu 04) when the person works at another unit than the certificate's."""
    return _follow_ups(session, needing_follow_up(Person.id == person.id))


def of_units(units: Collection[int]) -> ColumnElement[bool]:
    """Certificates of ``units``, or held by people who work there now."""
    return or_(one_of_ids(Certificate.organisation_id, units), one_of_ids(Person.organisation_id, units))


def unit_follow_ups(session: Session, units: Collection[int]) -> list[FollowUp]:
    """The follow-ups of the certificates of ``units`` and of the people who work there now."""
    return _follow_ups(session, needing_follow_up(of_units(units))) if units else []
