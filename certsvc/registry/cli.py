"""``certsvc registry ...``: registry tasks for the server's scheduler, and the trust anchors and CRLs
(``certsvc registry anchors add FILE…``, ``list``, ``remove ID``; ``certsvc registry crl add FILE``)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from certsvc.audit.service import Actor
from certsvc.cli_support import cli_actor_label
from certsvc.errors import CertsvcError, ValidationFailed
from certsvc.extensions import db
from certsvc.registry import anchors
from certsvc.registry.expiry import record_expiry_reminders
from certsvc.registry.models import TrustAnchor
from certsvc.registry.service import RegistrySettings
from certsvc.timeutil import format_vietnam, utcnow

__all__ = ["registry"]


@click.group("registry")
def registry() -> None:
    """The certificate and token registries."""


@registry.command("remind")
@with_appcontext
def remind() -> None:
    """Record today's expiry reminders (each certificate and threshold once); run it daily."""
    thresholds = RegistrySettings.from_config(current_app.config).reminder_thresholds
    recorded = record_expiry_reminders(
        db.session, utcnow(), actor=Actor(label=cli_actor_label()), thresholds=thresholds
    )
    db.session.commit()
    click.echo(f"Đã ghi {len(recorded)} nhắc hạn chứng thư số.")
    for reminder in recorded:
        cert = reminder.certificate
        click.echo(f"  {cert.subject_cn} ({cert.serial_hex}): mốc {reminder.threshold_days} ngày")


@registry.group("anchors")
def anchors_group() -> None:
    """The trust anchors: CA certificates received signatures must chain to."""


def _refused(error: CertsvcError) -> click.ClickException:
    """The refusal as the command's error (exit 1); nothing was written."""
    db.session.rollback()
    reasons = error.field_errors.values() if isinstance(error, ValidationFailed) else ()
    return click.ClickException("; ".join(reasons) or error.message)


@anchors_group.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def anchors_add(paths: tuple[Path, ...]) -> None:
    """Trust the CA certificates of each FILE (PEM, one or more, or DER); all or none are added."""
    actor = Actor(label=cli_actor_label())
    added = []
    try:
        for path in paths:
            added += anchors.add_anchors(db.session, actor, _read(path, anchors.MAX_ANCHOR_BYTES))
    except CertsvcError as error:
        raise _refused(error) from None
    db.session.commit()
    for anchor in added:
        click.echo(f"Đã thêm #{anchor.id}: {anchor.subject_dn} (SHA-256 {anchor.sha256})")


@anchors_group.command("list")
@with_appcontext
def anchors_list() -> None:
    """Every anchor, in force or removed, with its SHA-256 and expiry."""
    for anchor in db.session.scalars(select(TrustAnchor).order_by(TrustAnchor.id)):
        state = f"đã gỡ {format_vietnam(anchor.removed_at)}" if anchor.removed_at else "đang dùng"
        click.echo(
            f"#{anchor.id}\t{state}\thết hạn {format_vietnam(anchor.not_after)}\t{anchor.sha256}\t{anchor.subject_dn}"
        )


@anchors_group.command("remove")
@click.argument("anchor_id", type=int)
@with_appcontext
def anchors_remove(anchor_id: int) -> None:
    """Stop trusting the anchor ANCHOR_ID (it stays listed as removed)."""
    try:
        anchor = anchors.remove_anchor(db.session, Actor(label=cli_actor_label()), anchor_id)
    except CertsvcError as error:
        raise _refused(error) from None
    db.session.commit()
    click.echo(f"Đã gỡ #{anchor.id}: {anchor.subject_dn}")


@registry.group("crl")
def crl_group() -> None:
    """The CAs' certificate revocation lists."""


@crl_group.command("add")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def crl_add(path: Path) -> None:
    """Load a CRL (PEM or DER) issued and signed by an anchor in force."""
    data = _read(path, anchors.MAX_CRL_BYTES)
    try:
        crl = anchors.add_revocation_list(db.session, Actor(label=cli_actor_label()), data)
    except CertsvcError as error:
        raise _refused(error) from None
    db.session.commit()
    click.echo(f"Đã nạp danh sách thu hồi #{crl.id} của {crl.issuer_dn}, phát hành {format_vietnam(crl.this_update)}")


def _read(path: Path, limit: int) -> bytes:
    """At most one byte past ``limit`` of the file: the service refuses it as too large."""
    with path.open("rb") as file:
        return file.read(limit + 1)
