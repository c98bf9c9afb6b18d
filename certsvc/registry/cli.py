"""``certsvc registry ...``: registry tasks for the server's scheduler."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from certsvc.audit.service import Actor
from certsvc.cli_support import cli_actor_label
from certsvc.extensions import db
from certsvc.registry.expiry import record_expiry_reminders
from certsvc.registry.service import RegistrySettings
from certsvc.timeutil import utcnow

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
