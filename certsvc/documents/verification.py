"""The server's signature verifier: token_agent's :class:`~token_agent.verification.Verifier` over the
trust anchors and revocation lists an administrator configured (:mod:`certsvc.registry.anchors`).

Building a verifier parses every anchor and CRL, so one is kept per process and rebuilt only when the rows
it was built from change: the cache key is the SHA-256 of the anchors still in force and of the newest CRL
of each issuer, read with two small queries per check.
"""

from __future__ import annotations

import threading

from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.orm import Session

from certsvc.registry.models import RevocationList, TrustAnchor
from token_agent.verification import DocumentReport, Verifier

__all__ = ["current_verifier", "verify"]

_CacheKey = tuple[tuple[str, ...], tuple[str, ...]]

_lock = threading.Lock()
_cached: tuple[_CacheKey, Verifier] | None = None


def _newest_crls() -> Select[RevocationList]:
    """The newest revocation list of each issuer (by its thisUpdate)."""
    newest = (
        select(RevocationList.issuer_dn, func.max(RevocationList.this_update).label("this_update"))
        .group_by(RevocationList.issuer_dn)
        .subquery()
    )
    return select(RevocationList).join(
        newest,
        (RevocationList.issuer_dn == newest.c.issuer_dn) & (RevocationList.this_update == newest.c.this_update),
    )


def _key(session: Session) -> _CacheKey:
    """What the verifier is built from, by hash: the anchors in force and the newest CRLs (one query, as every
    upload asks it)."""
    anchors = select(literal("anchor"), TrustAnchor.sha256).where(TrustAnchor.removed_at.is_(None))
    crls = _newest_crls().with_only_columns(literal("crl"), RevocationList.sha256)
    rows = session.execute(union_all(anchors, crls)).all()
    return (
        tuple(sorted(sha for kind, sha in rows if kind == "anchor")),
        tuple(sorted(sha for kind, sha in rows if kind == "crl")),
    )


def _topmost(certificates: list[x509.Certificate]) -> list[x509.Certificate]:
    """The anchors no other anchor issued: the roots, or the top of a chain uploaded without its root.

    An issuing CA below a trusted root is left out of the trust roots: with it there too, pyHanko cannot
    build the path of the CRLs it signs. Signatures carry their issuing CA's certificate (tokens hold it).
    """
    return [
        cert
        for cert in certificates
        if not any(other is not cert and other.subject == cert.issuer for other in certificates)
    ]


def _build(session: Session) -> Verifier:
    anchors = session.scalars(select(TrustAnchor.der).where(TrustAnchor.removed_at.is_(None)))
    crls = session.scalars(_newest_crls().with_only_columns(RevocationList.der))
    return Verifier(
        _topmost([x509.load_der_x509_certificate(der) for der in anchors]),
        [x509.load_der_x509_crl(der) for der in crls],
    )


def current_verifier(session: Session) -> Verifier:
    """The process's verifier for the configured anchors and CRLs, rebuilt when they changed."""
    global _cached
    key = _key(session)
    with _lock:
        if _cached is None or _cached[0] != key:
            _cached = (key, _build(session))
        return _cached[1]


def verify(session: Session, pdf: bytes | PdfFileReader) -> DocumentReport:
    """Every signature of ``pdf`` (bytes, or a reader open on them) judged by :func:`current_verifier`. A file
    that is not a readable PDF raises :class:`token_agent.errors.DocumentError` (its message is Vietnamese,
    for the person uploading)."""
    return current_verifier(session).verify(pdf)
