"""pkcs11_access on real SoftHSM tokens."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from token_agent import demo, pkcs11_access
from token_agent.errors import ModuleLoadError, PinIncorrectError, TokenSelectionError
from token_agent.pkcs11_access import Pin, TokenSelector

from .conftest import MODULE, token_named


def test_pin_never_shows_its_value():
    pin = Pin("987654")
    assert "987654" not in repr(pin) and "987654" not in str(pin) and "987654" not in f"{[pin]}"
    assert pin.reveal() == "987654"


def test_missing_module_is_a_clear_error(tmp_path):
    with pytest.raises(ModuleLoadError) as raised:
        pkcs11_access.load_module(str(tmp_path / "libkhongco.so"))
    assert raised.value.code == "module_load_failed"


def test_default_module_is_softhsm(monkeypatch):
    monkeypatch.delenv(pkcs11_access.MODULE_ENV, raising=False)
    assert pkcs11_access.default_module_path() == MODULE


def test_tokens_found_by_label_and_serial_never_slot(module):
    token = token_named(module, "LANH-DAO")
    info = pkcs11_access.token_info(token)
    by_serial = pkcs11_access.select_tokens(module, [TokenSelector(serial=info.serial)])
    assert [t.label for t in by_serial] == ["LANH-DAO"]
    with pytest.raises(TokenSelectionError, match="KHONG-CO"):
        pkcs11_access.select_tokens(module, [TokenSelector(label="KHONG-CO")])


def test_reinitialising_sees_a_token_created_by_another_process(module, world):
    label = "MOI-CAM-VAO"
    assert not [t for t in pkcs11_access.present_tokens(module) if t.label == label]
    demo.init_token(label)
    module = pkcs11_access.load_module(MODULE)
    assert [t.label for t in pkcs11_access.select_tokens(module, [TokenSelector(label=label)])] == [label]


def test_certificates_and_matching_key(module, world, pin):
    with pkcs11_access.open_session(token_named(module, "LANH-DAO"), pin) as session:
        certs = pkcs11_access.list_certificates(session)
        own = next(c for c in certs if c.key_id == b"LANH-DAO")
        assert own.subject_cn == "Nguyễn Văn An"
        key = pkcs11_access.find_private_key(session, own)
        assert key is not None
        signature = pkcs11_access.sign_with_key(key, own.certificate, b"van ban")
        own.certificate.public_key().verify(signature, b"van ban", padding.PKCS1v15(), hashes.SHA256())
        ca = next(c for c in certs if c.key_id == b"CA")
        assert pkcs11_access.find_private_key(session, ca) is None


def test_certificate_without_key(module, world, pin):
    with pkcs11_access.open_session(token_named(module, "THIEU-KHOA"), pin) as session:
        own = next(c for c in pkcs11_access.list_certificates(session) if c.key_id == b"THIEU-KHOA")
        assert pkcs11_access.find_private_key(session, own) is None


def test_wrong_pin(module, world):
    with (
        pytest.raises(PinIncorrectError) as raised,
        pkcs11_access.open_session(token_named(module, "SAI-PIN"), Pin("000000")),
    ):
        pass
    assert "000000" not in str(raised.value)
