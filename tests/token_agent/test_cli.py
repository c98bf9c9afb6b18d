"""The token-agent command line, in process (and once as the installed console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from token_agent import demo, signing

from .conftest import MODULE, pdfsig, qpdf_ok, run, today

PIN_VAR = "TOKEN_AGENT_TEST_PIN"


@pytest.fixture
def pin_env(monkeypatch):
    monkeypatch.setenv(PIN_VAR, demo.USER_PIN)
    return ["--pin-env", PIN_VAR]


def test_check_json_is_versioned_and_never_shows_the_pin(world, capsys, pin_env):
    code, out, _ = run(
        capsys,
        "check",
        "--module",
        MODULE,
        "--token",
        "LANH-DAO",
        "--token",
        "SAP-HET-HAN",
        *pin_env,
        "--trust",
        world.path("root.pem"),
        "--crl",
        world.path("crl.pem"),
        "--json",
    )
    document = json.loads(out)
    assert document["schema"] == "token-agent.check/1"
    assert [t["label"] for t in document["tokens"]] == ["LANH-DAO", "SAP-HET-HAN"]
    assert [t["status"] for t in document["tokens"]] == ["PASS", "WARN"]
    assert document["exit_code"] == code == 1
    result = document["tokens"][0]["results"][0]
    assert set(result) == {
        *("id", "status", "message", "message_en", "hint", "subject"),
        *("certificate_sha256", "evidence"),  # the certificate a result is about; a test signature's proof
    }
    assert demo.USER_PIN not in out


def test_check_table_in_vietnamese(world, capsys):
    code, out, _ = run(capsys, "check", "--module", MODULE, "--token", "HET-HAN", "--serial", "khong-co")
    assert code == 2
    assert "Chứng thư số đã hết hạn" in out and "→ Lập đề nghị gia hạn" in out
    assert "Không tìm thấy thiết bị ký số có số sê-ri khong-co" in out


def test_check_asks_for_the_pin(world, capsys, monkeypatch):
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or demo.USER_PIN)
    code, out, _ = run(capsys, "check", "--module", MODULE, "--token", "VAN-THU", "--ask-pin", "--no-test-signatures")
    assert code == 0 and asked == ["Mã PIN của thiết bị «VAN-THU»: "]
    assert "token.login" in out


def test_missing_pin_variable_is_an_error(world, capsys, monkeypatch):
    monkeypatch.delenv("KHONG_CO_BIEN", raising=False)
    code, _, err = run(capsys, "check", "--token", "VAN-THU", "--pin-env", "KHONG_CO_BIEN")
    assert code == 2 and "Lỗi [pin_missing]" in err


def test_full_round_on_the_command_line(world, images, nss_db, tmp_path, capsys, pin_env):
    draft, prepared, approved, issued = (tmp_path / f"{n}.pdf" for n in ("draft", "prepared", "approved", "issued"))
    draft.write_bytes(demo.make_draft(pages=3))
    code, out, _ = run(capsys, "prepare", draft, prepared, "--signer", demo.SIGNER, "--json")
    assert code == 0 and json.loads(out)["places"][signing.PERSONAL_FIELD]["page"] == 2
    assert (
        run(
            capsys,
            "sign",
            "--role",
            "approve",
            prepared,
            approved,
            "--module",
            MODULE,
            "--token",
            "LANH-DAO",
            *pin_env,
            "--signature-image",
            images["signature"],
        )[0]
        == 0
    )
    code, _, err = run(
        capsys,
        "sign",
        "--role",
        "issue",
        approved,
        issued,
        "--token",
        "VAN-THU",
        *pin_env,
        "--seal-image",
        images["seal"],
        "--number",
        "7/UBND-VHTT",
        "--place",
        "Văn Quan",
        "--date",
        today().isoformat(),
        "--trust",
        world.path("root.pem"),
    )
    assert code == 0, err
    code, out, _ = run(capsys, "verify", issued, "--trust", world.path("root.pem"), "--json")
    document = json.loads(out)
    assert code == 0 and document["schema"] == "token-agent.verify/1" and document["verdict"] == "TOTAL_PASSED"
    assert [s["modification"] for s in document["signatures"]] == ["form_filling", "none"]
    assert all(s.valid and s.trusted for s in pdfsig(issued, nss_db)) and qpdf_ok(issued)


def test_sign_refuses_what_the_role_lacks(world, issuing_round, tmp_path, capsys, pin_env):
    code, _, err = run(
        capsys, "sign", "--role", "issue", issuing_round.approved, tmp_path / "x.pdf", "--token", "VAN-THU", *pin_env
    )
    assert code == 2 and "--seal-image" in err and "--trust" in err
    assert not (tmp_path / "x.pdf").exists()


def test_prepare_refuses_a_prepared_file(issuing_round, tmp_path, capsys):
    code, _, err = run(capsys, "prepare", issuing_round.prepared, tmp_path / "again.pdf", "--signer", demo.SIGNER)
    assert code == 2 and "Lỗi [already_prepared]" in err


def test_prepare_reports_what_it_cannot_find(tmp_path, capsys):
    draft = tmp_path / "draft.pdf"
    draft.write_bytes(demo.make_draft())
    code, _, err = run(capsys, "prepare", draft, tmp_path / "out.pdf", "--signer", "Trần Thị Hoa")
    assert code == 2 and "Lỗi [placement_not_found]" in err and "Trần Thị Hoa" in err


def test_verify_exit_codes(world, issuing_round, capsys):
    code, out, err = run(capsys, "verify", issuing_round.approved, "--trust", world.path("other-root.pem"))
    assert code == 1 and "INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND" in out and "Nguyễn Văn An" in out
    assert err == ""  # no library traceback for the user


def test_console_script(world):
    script = Path(sys.executable).parent / "token-agent"
    result = subprocess.run([str(script), "check", "--token", "TRONG", "--json"], capture_output=True, text=True)
    (token,) = json.loads(result.stdout)["tokens"]
    assert token["label"] == "TRONG" and token["status"] == "FAIL" and result.returncode == 2


@pytest.mark.pkcs11  # makes its own SoftHSM tokens, without the world fixture
def test_demo_prints_a_round_that_works(tmp_path):
    """`token-agent demo` makes its own tokens and prints commands; run them as a newcomer would."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("SOFTHSM2_CONF", None)
    made = subprocess.run(
        [str(bin_dir / "token-agent"), "demo", str(tmp_path / "demo")], capture_output=True, text=True, env=env
    )
    assert made.returncode == 0, made.stderr
    script = made.stdout.split("\n\n", 1)[1]
    ran = subprocess.run(["bash", "-euc", script], capture_output=True, text=True, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Kết luận: TOTAL_PASSED" in ran.stdout and "Kết quả: PASS" in ran.stdout


def test_prepare_at_given_places(tmp_path, capsys):
    draft, prepared = tmp_path / "draft.pdf", tmp_path / "prepared.pdf"
    draft.write_bytes(demo.make_draft(with_number=False))
    code, out, err = run(
        capsys,
        "prepare",
        draft,
        prepared,
        "--number-box",
        "1,150,740,270,758",
        "--date-box",
        "1,300,740,540,759",
        "--signature-box",
        "1,320,300,490,380",
        "--json",
    )
    assert code == 0, err
    places = json.loads(out)["places"]
    assert places[signing.NUMBER_FIELD] == {"page": 0, "x1": 150.0, "y1": 740.0, "x2": 270.0, "y2": 758.0}
    assert places[signing.ORGANISATION_FIELD]["x2"] == pytest.approx(320 + 170 / 3)


def test_sign_picks_the_only_initialised_token_or_asks(world, issuing_round, tmp_path, capsys, pin_env):
    code, _, err = run(capsys, "sign", "--role", "copy", issuing_round.draft, tmp_path / "copy.pdf", *pin_env)
    assert code == 2 and "Lỗi [token_not_found]" in err and "--token" in err
