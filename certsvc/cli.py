"""The ``certsvc`` command: Flask's CLI bound to the app, plus the service's own commands."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup, with_appcontext

from certsvc.audit.service import verify_chain
from certsvc.cli_support import echo_chain_report
from certsvc.config import ConfigError
from certsvc.custody.cli import custody_group
from certsvc.demo import demo_command
from certsvc.documents.cli import documents_group
from certsvc.extensions import db
from certsvc.registry.cli import registry
from certsvc.setup_commands import bootstrap_command

__all__ = ["main", "cli"]

#: Commands that serve pages, and so sign session cookies: only they need CERTSVC_SECRET_KEY.
_SERVING = frozenset({"run"})


def _create_app():
    from certsvc import create_app

    command = click.get_current_context().find_root().invoked_subcommand
    try:
        return create_app(require_secret=command in _SERVING)
    except ConfigError as error:
        # One line naming the variable, not a traceback.
        raise click.ClickException(str(error)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli() -> None:
    """Quản lý chữ ký số chuyên dùng — certificate and token service."""


@cli.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Re-hash the whole audit chain; exit 1 and name the first bad entry on any fault."""
    echo_chain_report(verify_chain(db.session), "chain intact")


cli.add_command(demo_command)
cli.add_command(bootstrap_command)
cli.add_command(registry)
cli.add_command(custody_group)
cli.add_command(documents_group)


def main() -> None:
    cli(prog_name="certsvc")


if __name__ == "__main__":  # pragma: no cover
    main()
