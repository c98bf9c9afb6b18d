"""``certsvc custody verify``: re-hash the custody register and name the first bad entry."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from certsvc.cli_support import echo_chain_report
from certsvc.custody.chain import verify_register
from certsvc.extensions import db

__all__ = ["custody_group"]


@click.group("custody")
def custody_group() -> None:
    """The custody register of MẬT tokens."""


@custody_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check the whole register chain; exit 1 and name the first bad entry on any fault."""
    echo_chain_report(verify_register(db.session), "custody register intact")
