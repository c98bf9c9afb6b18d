"""``certsvc audit verify``: run through click, against the test's own database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from certsvc.cli import cli
from tests.audit.test_audit_chain import (
    CHAIN_LENGTH,
    build_chain,
    tamper_delete,
    tamper_insert_in_middle,
    tamper_swap,
    unguard,
)


def verify(app):
    return CliRunner().invoke(cli, ["audit", "verify"], obj=ScriptInfo(create_app=lambda: app))


def test_verify_empty_log(app):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "OK: 0 entries" in result.stdout


def test_verify_intact_chain_prints_count_and_head(app, session):
    chain = build_chain(session)
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert f"OK: {CHAIN_LENGTH} entries, chain intact" in result.stdout
    assert f"head #{CHAIN_LENGTH} {chain[-1].hash}" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda session: tamper_delete(session, 4), "FAULT: removed at entry #4"),
        (lambda session: tamper_insert_in_middle(session, 6), "FAULT: inserted at entry #6"),
        (lambda session: tamper_swap(session, 2, 7), "FAULT: reordered at entry #2"),
        (lambda session: tamper_delete(session, CHAIN_LENGTH), f"FAULT: removed at entry #{CHAIN_LENGTH}"),
    ],
    ids=["removed", "inserted", "reordered", "cut-off-end"],
)
def test_verify_names_the_first_bad_entry(app, session, tamper, expected):
    build_chain(session)
    unguard(session)
    tamper(session)
    result = verify(app)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert "OK" not in result.stdout


def test_audit_group_help_lists_verify():
    result = CliRunner().invoke(cli, ["audit", "--help"], obj=ScriptInfo(create_app=lambda: None))
    assert result.exit_code == 0
    assert "verify" in result.output
