"""What the ``certsvc`` command and its subcommands share: the actor a command acts as, and how a
hash-chain verification is printed. Apart from :mod:`certsvc.cli`, which imports every subcommand."""

from __future__ import annotations

import getpass
import sys

import click

__all__ = ["cli_actor_label", "echo_chain_report"]


def echo_chain_report(report, intact: str) -> None:
    """Print a hash-chain verification; exit 1 on a fault, naming the first bad entry."""
    if report.ok:
        click.echo(f"OK: {report.entries} entries, {intact}; head #{report.last_seq} {report.last_hash}")
        return
    fault = report.fault
    click.echo(f"FAULT: {fault.kind} at entry #{fault.seq}: {fault.message}", err=True)
    sys.exit(1)


def cli_actor_label() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"
