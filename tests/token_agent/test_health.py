"""token-agent check on SoftHSM tokens: every check's pass and failure path."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import hashes
from pkcs11 import TokenFlag

from token_agent import demo, health
from token_agent.certs import load_certificates, load_crls
from token_agent.errors import PinIncorrectError
from token_agent.health import CheckOptions, Status
from token_agent.pkcs11_access import Pin, TokenSelector, open_session
from token_agent.reporting import dump_json

from .conftest import LABELS, MODULE, NOW, token_named

ALL_CHECKED = (
    "LANH-DAO",
    "VAN-THU",
    "MAY-CHU",
    "HET-HAN",
    "SAP-HET-HAN",
    "THU-HOI",
    "THIEU-KHOA",
    "KHOA-MA-HOA",
    "TRONG",
    "KHONG-PIN",
    "SAI-KHOA",
    "KHOA-EC",
)


def options(world, *labels: str, pin: bool = True, trust: str | None = "root.pem", crl: bool = True, **extra):
    return CheckOptions(
        module_path=MODULE,
        selectors=tuple(TokenSelector(label=label) for label in labels),
        pin_source=(lambda _info: Pin(demo.USER_PIN)) if pin else (lambda _info: None),
        trust_anchors=tuple(load_certificates([world.path(trust)])) if trust else (),
        crls=tuple(load_crls([world.path("crl.pem")])) if crl else (),
        **extra,
    )


@pytest.fixture(scope="module")
def full(world):
    """One check of most tokens at once, with PIN, trust anchors and the CRL."""
    report = health.run_health_check(options(world, *ALL_CHECKED))
    return {token.label: token for token in report.tokens} | {"": report}


def statuses(token, check_id):
    return [r.status for r in token.results if r.id == check_id]


def test_healthy_personal_token_passes_everything(full):
    token = full["LANH-DAO"]
    assert token.status is Status.PASS, [r for r in token.results if r.status is not Status.PASS]
    ids = {r.id for r in token.results}
    assert (
        {
            "token.present",
            "token.initialized",
            "pin.user_initialized",
            "pin.locked",
            "pin.final_try",
            "pin.count_low",
            "pin.must_change",
            "token.login",
            "cert.present",
            "cert.private_key",
            "cert.validity",
            "cert.key_usage",
            "cert.chain",
            "cert.revocation",
            "cert.test_signature",
            "cert.test_pdf",
        }
        <= ids
        <= set(health.CHECK_IDS)
    )  # the readiness board's failing-check filter offers these
    assert token.result("cert.validity").subject == "Nguyễn Văn An"
    assert all(r.message and r.message_en for r in token.results)


def test_test_signature_carries_evidence_a_server_can_verify(world, full):
    """The report names each certificate by its SHA-256 and carries the signed data and signature, so that
    a server receiving it can check the test signature with the certificate's public key."""
    for label in ("LANH-DAO", "KHOA-EC"):
        cert = world.certificates[label]
        result = full[label].result("cert.test_signature")
        assert result.certificate_sha256 == cert.fingerprint(hashes.SHA256()).hex()
        assert {r.certificate_sha256 for r in full[label].results if r.subject} == {result.certificate_sha256}
        evidence = result.evidence
        assert evidence is not None and evidence.signed_data.startswith(health.TEST_SIGNATURE_PREFIX)
        assert health.verify_evidence(cert, evidence)
        forged = health.SignatureEvidence(signed_data=evidence.signed_data + b"x", signature=evidence.signature)
        assert not health.verify_evidence(cert, forged)
        assert not health.verify_evidence(world.certificates["HET-HAN"], evidence)
    as_json = json.loads(dump_json(health.SCHEMA, full[""]))
    (lanh_dao,) = [t for t in as_json["tokens"] if t["label"] == "LANH-DAO"]
    (signed,) = [r for r in lanh_dao["results"] if r["id"] == "cert.test_signature"]
    assert (
        bytes.fromhex(signed["evidence"]["signed_data"])
        == full["LANH-DAO"].result("cert.test_signature").evidence.signed_data
    )
    assert full["SAI-KHOA"].result("cert.test_signature").evidence is None


def test_organisation_device_and_ec_tokens_pass(full):
    assert full["VAN-THU"].status is Status.PASS
    assert full["MAY-CHU"].status is Status.PASS
    assert full["KHOA-EC"].status is Status.PASS


def test_several_tokens_exit_code_is_the_worst(full):
    report = full[""]
    assert report.module == MODULE and report.general[0].status is Status.PASS
    assert [t.label for t in report.tokens] == list(ALL_CHECKED)
    assert report.exit_code == 2


@pytest.mark.parametrize(
    ("label", "check_id", "status", "hint"),
    [
        ("HET-HAN", "cert.validity", Status.FAIL, "gia hạn"),
        ("SAP-HET-HAN", "cert.validity", Status.WARN, "gia hạn"),
        ("THU-HOI", "cert.revocation", Status.FAIL, "cấp mới"),
        ("THIEU-KHOA", "cert.private_key", Status.FAIL, "khôi phục"),
        ("KHOA-MA-HOA", "cert.key_usage", Status.FAIL, "chứng thư số ký"),
        ("TRONG", "cert.present", Status.FAIL, "cấp chứng thư số"),
        ("KHONG-PIN", "pin.user_initialized", Status.FAIL, "Đặt mã PIN"),
        ("SAI-KHOA", "cert.test_signature", Status.FAIL, "khôi phục"),
        ("SAI-KHOA", "cert.test_pdf", Status.FAIL, "khôi phục"),
    ],
)
def test_failure_paths(full, label, check_id, status, hint):
    token = full[label]
    result = token.result(check_id)
    assert result.status is status
    assert hint in result.hint
    assert token.status is status


def test_expiring_token_exits_with_warning(world):
    assert health.run_health_check(options(world, "SAP-HET-HAN")).exit_code == 1


def test_without_pin_login_checks_are_skipped(world):
    (token,) = health.run_health_check(options(world, "LANH-DAO", pin=False)).tokens
    assert statuses(token, "token.login") == [Status.SKIP]
    assert statuses(token, "cert.private_key") == [Status.SKIP]
    assert "cert.test_signature" not in {r.id for r in token.results}
    assert statuses(token, "cert.chain") == [Status.PASS]
    assert token.status is Status.PASS


def test_untrusted_root_and_no_crl(world):
    (token,) = health.run_health_check(options(world, "LANH-DAO", pin=False, trust="other-root.pem", crl=False)).tokens
    assert statuses(token, "cert.chain") == [Status.FAIL]
    assert statuses(token, "cert.revocation") == [Status.SKIP]
    (token,) = health.run_health_check(options(world, "LANH-DAO", pin=False, trust=None, crl=False)).tokens
    assert statuses(token, "cert.chain") == [Status.SKIP]


def test_crl_of_another_issuer_warns(world):
    other_crl = dataclasses.replace(
        options(world, "LANH-DAO", pin=False), crls=tuple(load_crls([world.path("other-crl.pem")]))
    )
    (token,) = health.run_health_check(other_crl).tokens
    assert token.result("cert.revocation").status is Status.WARN and token.status is Status.WARN


def test_certificate_not_yet_valid(world):
    early = options(world, "LANH-DAO", pin=False, now=lambda: NOW - dt.timedelta(days=60))
    (token,) = health.run_health_check(early).tokens
    assert (
        token.result("cert.validity").status is Status.FAIL
        and "chưa có hiệu lực" in token.result("cert.validity").message
    )


def test_wrong_pin_fails_login_then_softhsm_reports_count_low(world, module):
    wrong = dataclasses.replace(options(world, "SAI-PIN"), pin_source=lambda _info: Pin("000000"))
    (token,) = health.run_health_check(wrong).tokens
    assert statuses(token, "token.login") == [Status.FAIL]
    assert "000000" not in repr(token)
    (token,) = health.run_health_check(options(world, "SAI-PIN", pin=False)).tokens
    assert token.result("pin.count_low").status is Status.WARN
    with open_session(token_named(module, "SAI-PIN"), Pin(demo.USER_PIN)):
        pass  # a good login clears the flag
    (token,) = health.run_health_check(options(world, "SAI-PIN", pin=False)).tokens
    assert token.result("pin.count_low").status is Status.PASS


def test_missing_token_and_module(world, tmp_path):
    (token,) = health.run_health_check(options(world, "KHONG-CO")).tokens
    assert token.result("token.present").status is Status.FAIL and token.label == "KHONG-CO"
    report = health.run_health_check(CheckOptions(module_path=str(tmp_path / "khong-co.so")))
    assert report.general[0].id == "module.load" and report.general[0].status is Status.FAIL
    assert report.exit_code == 2


def test_uninitialised_token_is_reported(world):
    report = health.run_health_check(options(world, pin=False))
    blank = [t for t in report.tokens if t.result("token.initialized").status is Status.FAIL]
    assert len(blank) == 1 and "khởi tạo" in blank[0].result("token.initialized").hint
    assert {t.label for t in report.tokens} >= set(LABELS)


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        (dt.timedelta(seconds=20), Status.PASS),
        (dt.timedelta(minutes=10), Status.WARN),
        (dt.timedelta(days=1), Status.FAIL),
    ],
)
def test_clock_against_reference_time(world, offset, status):
    now = dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.UTC)  # 10:00 in Vietnam
    report = health.check_tokens([], CheckOptions(reference_time=now - offset, now=lambda: now))
    assert report.general[-1].id == "clock.reference" and report.general[-1].status is status
    assert health.check_tokens([], CheckOptions()).general[-1].status is Status.SKIP


class FlaggedToken:
    """Stand-in for the PIN flags SoftHSM never sets: a real token reporting extra flags, counting logins."""

    def __init__(self, token, extra: TokenFlag) -> None:
        self._token = token
        self._extra = extra
        self.login_attempts = 0

    def __getattr__(self, name):
        return getattr(self._token, name)

    @property
    def flags(self):
        return self._token.flags | self._extra

    def open(self, user_pin=None, **kwargs):
        self.login_attempts += user_pin is not None
        return self._token.open(user_pin=user_pin, **kwargs)


@pytest.mark.parametrize(
    ("flag", "check_id", "status"),
    [
        (TokenFlag.USER_PIN_FINAL_TRY, "pin.final_try", Status.FAIL),
        (TokenFlag.USER_PIN_LOCKED, "pin.locked", Status.FAIL),
    ],
)
def test_final_try_and_locked_never_attempt_login(world, module, flag, check_id, status):
    token = FlaggedToken(token_named(module, "LANH-DAO"), flag)
    (report,) = health.check_tokens([token], options(world, test_signatures=False)).tokens
    assert report.result(check_id).status is status
    assert report.result("token.login").status is Status.SKIP
    assert token.login_attempts == 0 and report.status is Status.FAIL


def test_final_try_with_force_login_logs_in(world, module):
    token = FlaggedToken(token_named(module, "LANH-DAO"), TokenFlag.USER_PIN_FINAL_TRY)
    (report,) = health.check_tokens([token], options(world, force_login=True, test_signatures=False)).tokens
    assert report.result("token.login").status is Status.PASS and token.login_attempts == 1


def test_pin_must_change_warns(world, module):
    token = FlaggedToken(token_named(module, "LANH-DAO"), TokenFlag.USER_PIN_TO_BE_CHANGED)
    (report,) = health.check_tokens([token], options(world, test_signatures=False)).tokens
    assert report.result("pin.must_change").status is Status.WARN and report.status is Status.WARN


def test_wrong_pin_error_hides_the_pin(world, module):
    with pytest.raises(PinIncorrectError) as raised, open_session(token_named(module, "SAI-PIN"), Pin("999999")):
        pass
    assert "999999" not in str(raised.value)
    with open_session(token_named(module, "SAI-PIN"), Pin(demo.USER_PIN)):
        pass
