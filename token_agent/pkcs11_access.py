"""Access to PKCS#11 tokens: load the module, find tokens, log in, list certificates and their keys.

Tokens are always chosen by label or serial number, never by slot id: slot ids are not stable
(SoftHSM gives random ones, a USB token changes slot when plugged into another port).
The user PIN passes through :class:`Pin`, which never shows its value in a repr, a log or a traceback.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, Mechanism, ObjectClass, TokenFlag
from pkcs11.util.ec import encode_ecdsa_signature

if TYPE_CHECKING:
    from pkcs11._pkcs11 import lib as Module  # the loaded library's class (python-pkcs11 names it lib)

from .errors import (
    ModuleLoadError,
    PinIncorrectError,
    PinLockedError,
    TokenAgentError,
    TokenSelectionError,
)

__all__ = [
    "MODULE_ENV",
    "DEFAULT_MODULE_CANDIDATES",
    "Pin",
    "TokenSelector",
    "TokenInfo",
    "TokenCertificate",
    "default_module_path",
    "load_module",
    "present_tokens",
    "select_tokens",
    "token_info",
    "open_session",
    "list_certificates",
    "find_private_key",
    "sign_with_key",
    "is_ec",
]

MODULE_ENV = "TOKEN_AGENT_PKCS11_MODULE"
"""Environment variable naming the PKCS#11 library when ``--module`` is not given."""

DEFAULT_MODULE_CANDIDATES: tuple[str, ...] = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
"""Where the SoftHSM module is looked for when nothing else is configured."""

_loaded_modules: dict[str, Module] = {}


class Pin:
    """A user PIN held in memory only; its repr and str never show the digits."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The PIN itself, to hand to the token and to nothing else."""
        return self._value

    def __repr__(self) -> str:
        return "Pin(***)"

    __str__ = __repr__


@dataclass(frozen=True)
class TokenSelector:
    """Which token the user means: by label, by serial number, or (both None) every token present."""

    label: str | None = None
    serial: str | None = None

    def matches(self, token: pkcs11.Token) -> bool:
        if self.label is not None and token.label != self.label:
            return False
        return self.serial is None or _serial_text(token) == self.serial

    def describe(self) -> str:
        """``thiết bị ký số có nhãn «X», số sê-ri Y`` (or ``thiết bị ký số nào`` when it names none)."""
        parts = [
            f"nhãn «{self.label}»" if self.label is not None else "",
            f"số sê-ri {self.serial}" if self.serial else "",
        ]
        named = ", ".join(p for p in parts if p)
        return f"thiết bị ký số có {named}" if named else "thiết bị ký số nào"


@dataclass(frozen=True)
class TokenInfo:
    """What the token says about itself (C_GetTokenInfo), read fresh each time."""

    label: str
    serial: str
    manufacturer: str
    model: str
    flags: TokenFlag

    def has(self, flag: TokenFlag) -> bool:
        return bool(self.flags & flag)


@dataclass(frozen=True)
class TokenCertificate:
    """A certificate object stored on the token, with the CKA_ID that links it to its private key."""

    label: str
    key_id: bytes
    der: bytes
    certificate: x509.Certificate

    @property
    def subject_cn(self) -> str:
        names = self.certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return str(names[0].value) if names else self.certificate.subject.rfc4514_string()


def _serial_text(token: pkcs11.Token) -> str:
    serial = token.serial
    text = serial.decode("ascii", "replace") if isinstance(serial, bytes) else str(serial)
    return text.strip()


def default_module_path() -> str:
    """The PKCS#11 library to load: ``$TOKEN_AGENT_PKCS11_MODULE``, else the first SoftHSM found."""
    configured = os.environ.get(MODULE_ENV)
    if configured:
        return configured
    for candidate in DEFAULT_MODULE_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    raise ModuleLoadError(
        f"Không tìm thấy thư viện PKCS#11: hãy chỉ đường dẫn bằng --module hoặc biến môi trường {MODULE_ENV}."
    )


def load_module(path: str | None = None, *, refresh: bool = True) -> Module:
    """Load the PKCS#11 library, or re-initialise it if this process loaded it before (unless ``refresh`` is
    false: then it is returned as it is).

    Re-initialising (C_Finalize + C_Initialize) is what makes tokens plugged in or created by another
    process since the last call visible; it also closes every session opened before.
    """
    path = path or default_module_path()
    try:
        module = _loaded_modules.get(path)
        if module is None:
            module = pkcs11.lib(path)
            _loaded_modules[path] = module
        elif refresh:
            module.reinitialize()
    except (pkcs11.PKCS11Error, OSError) as exc:
        raise ModuleLoadError(f"Không nạp được thư viện PKCS#11 {path}: {exc}") from exc
    return module


def present_tokens(module: Module) -> list[pkcs11.Token]:
    """Every token in a slot, initialised or not, in slot order."""
    tokens = []
    for slot in module.get_slots(token_present=True):
        try:
            tokens.append(slot.get_token())
        except (pkcs11.TokenNotPresent, pkcs11.TokenNotRecognised):
            continue
    return tokens


def select_tokens(module: Module, selectors: Sequence[TokenSelector]) -> list[pkcs11.Token]:
    """The tokens the selectors name, each exactly once; every token present when none is given."""
    tokens = present_tokens(module)
    if not selectors:
        return tokens
    chosen = []
    for selector in selectors:
        matching = [token for token in tokens if selector.matches(token)]
        if not matching:
            raise TokenSelectionError(f"Không tìm thấy {selector.describe()}.")
        if len(matching) > 1:
            raise TokenSelectionError(
                f"Có {len(matching)} {selector.describe()}: hãy chọn theo số sê-ri.",
                code="token_ambiguous",
            )
        chosen.append(matching[0])
    return chosen


def token_info(token: pkcs11.Token) -> TokenInfo:
    return TokenInfo(
        label=token.label,
        serial=_serial_text(token),
        manufacturer=token.manufacturer_id,
        model=token.model,
        flags=TokenFlag(token.flags),
    )


@contextmanager
def open_session(token: pkcs11.Token, pin: Pin | None) -> Iterator[pkcs11.Session]:
    """A read-only session, logged in as the user when a PIN is given; closed (and logged out) after."""
    try:
        session = token.open(user_pin=pin.reveal() if pin is not None else None)
    except pkcs11.PinIncorrect as exc:
        raise PinIncorrectError("Mã PIN không đúng.") from exc
    except pkcs11.PinLocked as exc:
        raise PinLockedError("Mã PIN đã bị khóa.") from exc
    except pkcs11.PKCS11Error as exc:
        raise TokenAgentError(
            f"Không mở được phiên làm việc với thiết bị: {type(exc).__name__}", code="session_failed"
        ) from exc
    try:
        yield session
    finally:
        session.close()


def list_certificates(session: pkcs11.Session) -> list[TokenCertificate]:
    """The X.509 certificates stored on the token (public objects: no login needed)."""
    found = []
    for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        der = bytes(obj[Attribute.VALUE])
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        found.append(
            TokenCertificate(
                label=obj[Attribute.LABEL], key_id=bytes(obj[Attribute.ID]), der=der, certificate=certificate
            )
        )
    return found


def _rsa_modulus_matches(key: pkcs11.Object, public_key: rsa.RSAPublicKey) -> bool:
    try:
        modulus = int.from_bytes(bytes(key[Attribute.MODULUS]), "big")
    except pkcs11.AttributeTypeInvalid:
        return True  # the token hides it; the test signature decides
    return modulus == public_key.public_numbers().n


def find_private_key(session: pkcs11.Session, cert: TokenCertificate) -> pkcs11.SignMixin | None:
    """The private key with the certificate's CKA_ID whose public part is the certificate's (login needed)."""
    public_key = cert.certificate.public_key()
    for key in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: cert.key_id}):
        if not isinstance(public_key, rsa.RSAPublicKey) or _rsa_modulus_matches(key, public_key):
            return cast(pkcs11.SignMixin, key)
    return None


def sign_with_key(key: pkcs11.SignMixin, cert: x509.Certificate, data: bytes) -> bytes:
    """Sign ``data`` with SHA-256 on the token, the way the certificate's key type wants; ECDSA signatures
    are returned DER-encoded, as X.509 and CMS carry them."""
    if is_ec(cert):  # hash here, sign raw: not every token (SoftHSM) offers CKM_ECDSA_SHA256
        digest = hashlib.sha256(data).digest()
        return encode_ecdsa_signature(key.sign(digest, mechanism=Mechanism.ECDSA))
    return key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS)


def is_ec(cert: x509.Certificate) -> bool:
    """Whether the certificate's key is an elliptic-curve key."""
    return isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
