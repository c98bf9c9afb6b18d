"""Item 18: the commands that only work on the database run without CERTSVC_SECRET_KEY; serving pages (the
development server, gunicorn) still refuses to start without it, in one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from certsvc.accounts.models import Account

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def run(database_url, tmp_path):
    """Run a console script of the checkout on the test's database, with no secret key in the environment."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CERTSVC_")}
    env |= {"CERTSVC_DATABASE_URL": database_url, "CERTSVC_INSTANCE_PATH": str(tmp_path / "instance")}

    def run(*args: str, program: str = "certsvc", **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / program), *args], cwd=ROOT, env={**env, **extra_env}, capture_output=True, text=True, timeout=120
        )

    return run


def _one_line_naming(result: subprocess.CompletedProcess, variable: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if variable in line]
    assert len(lines) == 1, result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("audit", "verify"),
        ("custody", "verify"),
        ("registry", "remind"),
        ("db", "current"),
    ],
    ids=lambda command: " ".join(command),
)
def test_commands_that_only_read_the_database_run_without_the_secret(run, command):
    result = run(*command)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "CERTSVC_SECRET_KEY" not in result.stderr


def test_bootstrap_runs_without_the_secret(run, session):
    result = run(
        "bootstrap",
        "--org-name",
        "UBND huyện Thử",
        "--symbol",
        "UBND",
        "--admin-username",
        "quantri",
        "--admin-name",
        "Nguyễn Văn Quản",
    )
    assert result.returncode == 0, result.stderr
    assert "quantri" in result.stdout
    assert session.scalar(select(func.count()).select_from(Account)) == 1


def test_a_bad_setting_is_one_line_naming_it(run):
    _one_line_naming(run("audit", "verify", CERTSVC_LOGIN_LOCK_AFTER="many"), "CERTSVC_LOGIN_LOCK_AFTER")


def test_the_development_server_refuses_to_start_without_the_secret(run):
    _one_line_naming(run("run", "--port", "1"), "CERTSVC_SECRET_KEY")


def test_gunicorn_refuses_to_start_without_the_secret(run):
    result = run("--bind", "127.0.0.1:0", "--workers", "1", "certsvc:create_app()", program="gunicorn")
    _one_line_naming(result, "CERTSVC_SECRET_KEY")
