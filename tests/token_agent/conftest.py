"""Fixtures for token_agent: a test PKI and real SoftHSM tokens, made once per test session.

Tokens (by label):
- LANH-DAO: the head's personal certificate (Nguyễn Văn An, CCCD) and its key;
- VAN-THU: the organisation's certificate (UBND huyện Văn Quan, MST) and its key;
- MAY-CHU: a device certificate (digital signature, no non-repudiation);
- HET-HAN: an expired certificate; SAP-HET-HAN: one that expires in 10 days;
- THU-HOI: a certificate revoked in ``crl.pem``;
- THIEU-KHOA: a certificate whose key is not on the token; KHOA-MA-HOA: a key for encryption only;
- TRONG: an empty token; SAI-PIN: a token the tests type wrong PINs into; KHONG-PIN: no user PIN set;
- KHOA-EC: a P-256 key and its certificate; SAI-KHOA: a P-256 key whose certificate certifies another key.
Every token with a key also holds the issuing CA certificate, as real tokens do.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from PIL import Image
from pkcs11 import Attribute, KeyType, TokenFlag
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import timestamps
from pyhanko.sign.pkcs11 import PKCS11Signer

from token_agent import cli, demo, pkcs11_access, signing
from token_agent.certs import load_certificates, to_asn1
from token_agent.demo import Authority, vn_name
from token_agent.pkcs11_access import Pin, TokenSelector
from token_agent.verification import Verifier

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
NOW = dt.datetime.now(dt.UTC)
_SPECS: dict[str, dict | None] = {
    "LANH-DAO": dict(subject=vn_name(demo.SIGNER, "CCCD:001234567890")),
    "VAN-THU": dict(subject=vn_name("UBND huyện Văn Quan", "MST:4900123456")),
    "MAY-CHU": dict(subject=vn_name("Máy chủ certsvc Văn Quan", "MST:4900123456"), usage=demo.DEVICE_USAGE),
    "HET-HAN": dict(
        subject=vn_name("Hoàng Thị Bích", "CCCD:001234567891"),
        not_before=NOW - dt.timedelta(days=400),
        not_after=NOW - dt.timedelta(days=10),
    ),
    "SAP-HET-HAN": dict(subject=vn_name("Lương Văn Cường", "CCCD:001234567892"), not_after=NOW + dt.timedelta(days=10)),
    "THU-HOI": dict(subject=vn_name("Đặng Thị Dung", "CCCD:001234567893")),
    "THIEU-KHOA": dict(subject=vn_name("Vi Văn Đức", "CCCD:001234567894"), key_on_token=False),
    "KHOA-MA-HOA": dict(subject=vn_name("Nông Thị Én", "CCCD:001234567895"), usage=demo.ENCRYPTION_ONLY_USAGE),
    "TRONG": None,
    "SAI-PIN": None,
}
LABELS = (*_SPECS, "KHONG-PIN", "SAI-KHOA", "KHOA-EC")


@dataclass
class TokenWorld:
    """The PKI, the token directory and the files the tests pass on command lines."""

    directory: Path
    root: Authority
    issuing: Authority
    other_root: Authority
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.directory / name


def _provision_ec(label: str, issuer: Authority, subject: x509.Name, *, matching: bool) -> x509.Certificate:
    """A P-256 key made on the token and its certificate; with ``matching=False`` the certificate (same
    CKA_ID) certifies ANOTHER key: only a signature shows it, as a token does not reveal an EC public point."""
    module = pkcs11_access.load_module(MODULE)
    (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=label)])
    with token.open(rw=True, user_pin=demo.USER_PIN) as session:
        curve = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
        )
        public, _private = curve.generate_keypair(store=True, id=label.encode(), label=label)
        on_token = serialization.load_der_public_key(encode_ec_public_key(public))
        certified = on_token if matching else ec.generate_private_key(ec.SECP256R1()).public_key()
        cert = issuer.issue(subject, certified, usage=demo.SIGNING_USAGE)
        demo.store_certificate(session, cert, label.encode(), label)
        demo.store_certificate(session, issuer.cert, b"CA", "Issuing CA")
    return cert


def _init_token_without_user_pin(label: str) -> None:
    """Initialise the free slot's token with an SO PIN only (softhsm2-util always sets a user PIN)."""
    module = pkcs11_access.load_module(MODULE)
    free = next(
        slot
        for slot in module.get_slots(token_present=True)
        if not slot.get_token().flags & TokenFlag.TOKEN_INITIALIZED
    )
    subprocess.run(
        [
            "pkcs11-tool",
            "--module",
            MODULE,
            "--slot",
            str(free.slot_id),
            "--init-token",
            "--label",
            label,
            "--so-pin",
            demo.SO_PIN,
        ],
        check=True,
        capture_output=True,
    )


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items) -> None:
    """Mark every test here that needs the SoftHSM tokens ``pkcs11``, so that ``-m "not pkcs11"`` leaves them
    out, and put them in one xdist group: under ``--dist loadgroup`` one worker makes the tokens, not each of
    them (eight RSA keys generated on SoftHSM take seconds, more when the other worker competes for the CPU).
    The hook sees the whole session's tests, and tests/conftest.py has a ``world`` fixture of its own."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and "world" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pkcs11)
            item.add_marker(pytest.mark.xdist_group("softhsm"))


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Iterator[TokenWorld]:
    """The test PKI, the SoftHSM tokens, and the PEM files (root, issuing CA, CRL) on disk."""
    directory = tmp_path_factory.mktemp("token-agent")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(demo.softhsm_config(directory))
    root = demo.root_authority("Test Root CA Văn Quan")
    world = TokenWorld(
        directory=directory,
        root=root,
        issuing=demo.sub_authority(root, "Test Issuing CA Văn Quan"),
        other_root=demo.root_authority("Untrusted Root"),
    )
    for label in _SPECS:
        demo.init_token(label)
    demo.init_token("SAI-KHOA")
    demo.init_token("KHOA-EC")
    _init_token_without_user_pin("KHONG-PIN")
    for label, spec in _SPECS.items():
        if spec is not None:
            world.certificates[label] = demo.provision_token(label, world.issuing, **spec)
    world.certificates["SAI-KHOA"] = _provision_ec(
        "SAI-KHOA", world.issuing, vn_name("Lò Văn Giang", "CCCD:001234567896"), matching=False
    )
    world.certificates["KHOA-EC"] = _provision_ec(
        "KHOA-EC", world.issuing, vn_name("Hà Thị Hạnh", "CCCD:001234567897"), matching=True
    )
    demo.write_pem(world.path("root.pem"), root.cert)
    demo.write_pem(world.path("other-root.pem"), world.other_root.cert)
    demo.write_pem(world.path("crl.pem"), world.issuing.crl([world.certificates["THU-HOI"]]))
    demo.write_pem(world.path("other-crl.pem"), world.other_root.crl([]))
    yield world
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def pin() -> Pin:
    return Pin(demo.USER_PIN)


@pytest.fixture
def module(world):
    """The SoftHSM module, re-initialised for this test."""
    return pkcs11_access.load_module(MODULE)


def token_named(module, label: str):
    return pkcs11_access.select_tokens(module, [TokenSelector(label=label)])[0]


@pytest.fixture(scope="session")
def nss_db(world) -> Path:
    """An NSS database trusting the test root, for pdfsig."""
    directory = world.path("nssdb")
    directory.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{directory}",
            "-n",
            "Test Root",
            "-t",
            "CT,C,C",
            "-i",
            str(world.path("root.pem")),
        ],
        check=True,
        capture_output=True,
    )
    return directory


@pytest.fixture(scope="session")
def images(world) -> dict[str, Path]:
    return {
        "signature": demo.signature_image(world.path("chu-ky.png")),
        "seal": demo.seal_image(world.path("con-dau.png")),
    }


@contextmanager
def signer_on(label: str, cert_label: str | None = None) -> Iterator[PKCS11Signer]:
    """A pyHanko signer for the token's key, logged in with the test PIN for the duration."""
    module = pkcs11_access.load_module(MODULE)
    with pkcs11_access.open_session(token_named(module, label), Pin(demo.USER_PIN)) as session:
        yield signing.token_signer(session, cert_label)


@dataclass(frozen=True)
class PdfsigSignature:
    """One signature as pdfsig reports it."""

    field: str
    signer: str
    valid: bool
    trusted: bool
    text: str


def pdfsig(path: Path, nss: Path) -> list[PdfsigSignature]:
    """pdfsig's verdicts, read from its text (it exits 0 even when a digest does not match)."""
    result = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True)
    blocks = re.split(r"^Signature #\d+:\s*$", result.stdout, flags=re.M)[1:]
    found = []
    for block in blocks:
        if "is not signed" in block:
            continue
        field = re.search(r"Signature Field Name: (.*)", block)
        signer = re.search(r"Signer Certificate Common Name: (.*)", block)
        found.append(
            PdfsigSignature(
                field=field.group(1).strip() if field else "",
                signer=signer.group(1).strip() if signer else "",
                valid="Signature Validation: Signature is Valid." in block,
                trusted="Certificate Validation: Certificate is Trusted." in block,
                text=block,
            )
        )
    return found


def run(capsys, *argv: object) -> tuple[int, str, str]:
    """``token-agent ARGV`` in process: exit code, stdout, stderr."""
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def qpdf_ok(path: Path) -> bool:
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    return result.returncode == 0 and "No syntax or stream encoding errors found" in result.stdout


def tampered(pdf: bytes) -> bytes:
    """The file with one byte of the signed first revision changed (in the header comment: still a PDF)."""
    data = bytearray(pdf)
    data[data.index(b"ReportLab Generated")] ^= 0x01
    return bytes(data)


@dataclass(frozen=True)
class Round:
    """The files of one issuing round."""

    draft: Path
    prepared: Path
    approved: Path
    issued: Path


def today() -> dt.date:
    return dt.datetime.now(signing.VN_TZ).date()


@pytest.fixture(scope="session")
def verifier(world) -> Verifier:
    return Verifier(load_certificates([world.path("root.pem")]))


@pytest.fixture(scope="session")
def issuing_round(world, images, verifier, tmp_path_factory) -> Round:
    folder = tmp_path_factory.mktemp("round")
    paths = Round(*(folder / f"{name}.pdf" for name in ("draft", "prepared", "approved", "issued")))
    paths.draft.write_bytes(demo.make_draft(pages=2))
    prepared = signing.prepare(paths.draft.read_bytes(), signer_name=demo.SIGNER)
    signing.write_output(paths.draft, paths.prepared, prepared.pdf)
    with signer_on("LANH-DAO") as signer:
        signing.write_output(
            paths.prepared, paths.approved, signing.approve(paths.prepared.read_bytes(), signer, images["signature"])
        )
    with signer_on("VAN-THU") as signer:
        issued = signing.issue(
            paths.approved.read_bytes(),
            signer,
            images["seal"],
            number="1/UBND-VHTT",
            place="Văn Quan",
            issue_date=today(),
            verifier=verifier,
        )
    signing.write_output(paths.approved, paths.issued, issued)
    return paths


def render(pdf: Path, page: int, dpi: int = 50) -> Image.Image:
    """The page (0-based) as pdftoppm draws it, signature appearances included."""
    prefix = pdf.with_suffix(f".p{page}")
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-singlefile",
            "-f",
            str(page + 1),
            "-l",
            str(page + 1),
            str(pdf),
            str(prefix),
        ],
        check=True,
    )
    return Image.open(f"{prefix}.png").convert("RGB")


def pixel_box(image: Image.Image, wanted) -> tuple[int, int, int, int] | None:
    """Bounding box (left, top, right, bottom) of the pixels for which ``wanted(r, g, b)`` holds."""
    mask = Image.new("1", image.size)
    data = image.tobytes()
    mask.putdata([1 if wanted(*pixel) else 0 for pixel in zip(data[0::3], data[1::3], data[2::3], strict=True)])
    return mask.getbbox()


def field_rects(pdf: Path | bytes) -> dict[str, tuple[float, ...]]:
    """Every form field's rectangle, by field name."""
    data = pdf if isinstance(pdf, bytes) else pdf.read_bytes()
    fields = [f.get_object() for f in PdfFileReader(io.BytesIO(data)).root["/AcroForm"]["/Fields"]]
    return {str(f["/T"]): tuple(float(v) for v in f["/Rect"]) for f in fields}


@pytest.fixture(scope="session")
def tsa_url(world) -> Iterator[str]:
    """A local RFC 3161 timestamp server (HTTP on loopback) whose certificate the test root trusts."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = world.issuing.issue(
        vn_name("TSA thử nghiệm"),
        key.public_key(),
        usage=demo.SIGNING_USAGE,
        extended_usage=(ExtendedKeyUsageOID.TIME_STAMPING,),
    )
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    stamper = timestamps.DummyTimeStamper(
        tsa_cert=to_asn1(cert), tsa_key=key_info, certs_to_embed=[to_asn1(world.issuing.cert)]
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    thread.join()
