"""What a request for a new certificate in place of a registered one can say before anyone types: the request
type for the certificate's kind and the registry's own data about its holder or unit (the readiness board's
click when a key is missing or a certificate was revoked; the form reached from a certificate)."""

from __future__ import annotations

from certsvc.registry.models import Certificate, TokenKind
from certsvc.requests.models import RequestType

__all__ = ["new_certificate_type", "replacement_fields"]

_NEW_TYPES = {
    TokenKind.PERSONAL: RequestType.NEW_INDIVIDUAL,
    TokenKind.ORGANISATION: RequestType.NEW_ORGANISATION,
    TokenKind.DEVICE: RequestType.NEW_DEVICE,
}


def new_certificate_type(certificate: Certificate) -> RequestType:
    """The request for a new certificate in place of ``certificate``: Mẫu 01, 02 or 03 by its kind."""
    return _NEW_TYPES[certificate.kind]


def replacement_fields(certificate: Certificate) -> dict[str, object]:
    """What the registry knows for the request of a new certificate in place of ``certificate``: the holder's
    record for a personal one (name, CCCD, position, unit, e-mail, phone), the unit's for an organisation's (name,
    address, tax code, e-mail). The rest only the unit knows; none of it for a device certificate."""
    if certificate.kind is TokenKind.ORGANISATION:
        unit = certificate.organisation
        values = {"org_name": unit.name, "address": unit.address, "tax_code": unit.tax_code, "email": unit.email}
    elif certificate.kind is TokenKind.PERSONAL and certificate.holder is not None:
        holder = certificate.holder
        values = {
            "full_name": holder.full_name,
            "cccd": holder.cccd,
            "position": holder.position,
            "unit_name": holder.organisation.name,
            "email": holder.email,
            "phone": holder.phone,
        }
    else:
        values = {}
    return {name: value for name, value in values.items() if value}
