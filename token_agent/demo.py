"""Demo and test material: a throw-away PKI, SoftHSM tokens holding its keys, drafts and signature images.

Nothing here is for real certificates. The PKI (root CA → issuing CA → subscriber certificates with
Vietnamese subjects and a UID such as ``CCCD:001234567890`` or ``MST:4900123456``) keeps its CA keys in
memory; every subscriber key is generated ON a SoftHSM token and only its public part leaves it, to be
certified and stored back on the token next to the issuing CA's certificate, as on real tokens.
``token-agent demo DIR`` uses it to make demo tokens for a first prepare → approve → issue → verify round;
the tests use it to build their tokens.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from PIL import Image, ImageDraw, ImageFont
from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from . import appearance, pkcs11_access
from .pkcs11_access import TokenSelector

__all__ = [
    "USER_PIN",
    "SO_PIN",
    "SIGNING_USAGE",
    "ENCRYPTION_ONLY_USAGE",
    "DEVICE_USAGE",
    "CA_USAGE",
    "SIGNER",
    "vn_name",
    "Authority",
    "root_authority",
    "sub_authority",
    "write_pem",
    "softhsm_config",
    "softhsm_configured",
    "init_token",
    "store_certificate",
    "generate_key_on_token",
    "provision_token",
    "make_draft",
    "signature_image",
    "seal_image",
    "DemoFiles",
    "DEMO_PEOPLE",
    "build_demo",
    "CRL_URL",
]

USER_PIN = "123456"
SO_PIN = "12345678"
CRL_URL = "http://crl.test.invalid/issuing-ca.crl"
"""Where the demo subscriber certificates say their CRL is (never fetched: CRLs are given as files)."""

SIGNING_USAGE = dict(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
ENCRYPTION_ONLY_USAGE = {
    **SIGNING_USAGE,
    "digital_signature": False,
    "content_commitment": False,
    "key_encipherment": True,
}
DEVICE_USAGE = {**SIGNING_USAGE, "content_commitment": False, "key_encipherment": True}
CA_USAGE = {
    **SIGNING_USAGE,
    "digital_signature": False,
    "content_commitment": False,
    "key_cert_sign": True,
    "crl_sign": True,
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def vn_name(cn: str, uid: str | None = None, org: str = "UBND huyện Văn Quan") -> x509.Name:
    """A subject in the shape Vietnamese government certificates use."""
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Lạng Sơn"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "Văn Quan"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if uid is not None:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


@dataclass
class Authority:
    """A CA with its key in memory."""

    name: x509.Name
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    def issue(
        self,
        subject: x509.Name,
        public_key,
        *,
        usage: dict,
        ca: bool = False,
        path_length: int | None = 0,
        extended_usage: tuple[x509.ObjectIdentifier, ...] = (),
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> x509.Certificate:
        now = _now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - dt.timedelta(days=30))
            .not_valid_after(not_after or now + dt.timedelta(days=2 * 365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
            .add_extension(x509.KeyUsage(**usage), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        if extended_usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(extended_usage)), critical=True)
        if not ca:  # subscriber certificates say where their CA's CRL is, as real ones do
            builder = builder.add_extension(
                x509.CRLDistributionPoints(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]
                ),
                critical=False,
            )
        return builder.sign(self.key, hashes.SHA256())

    def crl(self, revoked: list[x509.Certificate]) -> x509.CertificateRevocationList:
        """A CRL listing ``revoked`` (revoked yesterday), valid for a week."""
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.name)
            .last_update(now - dt.timedelta(hours=1))
            .next_update(now + dt.timedelta(days=7))
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .add_extension(x509.CRLNumber(1), critical=False)
        )
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(now - dt.timedelta(days=1))
                .build()
            )
        return builder.sign(self.key, hashes.SHA256())


def root_authority(cn: str) -> Authority:
    """A self-signed root CA valid for ten years."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = vn_name(cn, org="Ban Cơ yếu Chính phủ (thử nghiệm)")
    authority = Authority(name=name, key=key, cert=None)  # type: ignore[arg-type]
    authority.cert = authority.issue(
        name, key.public_key(), usage=CA_USAGE, ca=True, path_length=1, not_after=_now() + dt.timedelta(days=3650)
    )
    return authority


def sub_authority(parent: Authority, cn: str) -> Authority:
    """An issuing CA under ``parent`` (it may issue subscriber certificates only)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = vn_name(cn, org="Ban Cơ yếu Chính phủ (thử nghiệm)")
    cert = parent.issue(name, key.public_key(), usage=CA_USAGE, ca=True, not_after=_now() + dt.timedelta(days=3000))
    return Authority(name=name, key=key, cert=cert)


def write_pem(path: Path, *objects) -> Path:
    """Certificates or CRLs, PEM, one after the other."""
    path.write_bytes(b"".join(obj.public_bytes(serialization.Encoding.PEM) for obj in objects))
    return path


@contextlib.contextmanager
def softhsm_configured(config: Path) -> Iterator[None]:
    """SoftHSM pointed at ``config`` (SOFTHSM2_CONF) inside, this process's previous setting put back after."""
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


def softhsm_config(directory: Path) -> Path:
    """A SoftHSM configuration keeping its tokens under ``directory/tokens``; point SOFTHSM2_CONF at it."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    config = directory / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    return config


def init_token(label: str) -> None:
    """A new SoftHSM token with the demo PINs, in the directory ``$SOFTHSM2_CONF`` names."""
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", USER_PIN],
        check=True,
        capture_output=True,
        env=os.environ,
    )


def store_certificate(session: pkcs11.Session, cert: x509.Certificate, key_id: bytes, label: str) -> None:
    """Store the certificate on the token with the CKA_ID of its key."""
    session.create_object(
        {
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.ID: key_id,
            Attribute.LABEL: label,
            Attribute.SUBJECT: cert.subject.public_bytes(),
            Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
        }
    )


def generate_key_on_token(session: pkcs11.Session, key_id: bytes, label: str) -> rsa.RSAPublicKey:
    """An RSA-2048 key pair generated on the token; only the public key comes back."""
    public, _private = session.generate_keypair(KeyType.RSA, 2048, id=key_id, label=label, store=True)
    numbers = rsa.RSAPublicNumbers(
        int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"), int.from_bytes(public[Attribute.MODULUS], "big")
    )
    return numbers.public_key()


def provision_token(
    label: str,
    issuer: Authority,
    subject: x509.Name,
    *,
    usage: dict = SIGNING_USAGE,
    key_on_token: bool = True,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    """Fill the (initialised, empty) token ``label``: a key made on it, its certificate, the issuing CA's.

    With ``key_on_token=False`` the certificate certifies a key that is not on the token (a broken token).
    The validity defaults to two years from a month ago.
    """
    module = pkcs11_access.load_module()
    (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=label)])
    key_id = label.encode()
    with token.open(rw=True, user_pin=USER_PIN) as session:
        if key_on_token:
            public_key = generate_key_on_token(session, key_id, label)
        else:
            public_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        cert = issuer.issue(subject, public_key, usage=usage, not_before=not_before, not_after=not_after)
        store_certificate(session, cert, key_id, label)
        store_certificate(session, issuer.cert, b"CA", "Issuing CA")
    return cert


MM = appearance.MM
SIGNER = "Nguyễn Văn An"
LEFT_CENTRE = 30 * MM + 38 * MM
RIGHT_CENTRE = A4[0] - 15 * MM - 52 * MM
BODY = (
    "Thực hiện Kế hoạch chuyển đổi số năm 2026, Ủy ban nhân dân huyện đề nghị các cơ quan, đơn vị "
    "rà soát thiết bị lưu khóa bí mật, bảo đảm chữ ký số của cơ quan và của thủ trưởng hoạt động bình thường."
)


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if appearance.text_width(candidate, appearance.REGULAR, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current]


_HEADER = (  # (centre x, drop below the top line, font, size, text)
    (LEFT_CENTRE, 0, appearance.REGULAR, 13, "ỦY BAN NHÂN DÂN"),
    (LEFT_CENTRE, 16, appearance.BOLD, 13, "HUYỆN VĂN QUAN"),
    (LEFT_CENTRE, 40, appearance.REGULAR, 13, "Số:          /UBND-VHTT"),
    (LEFT_CENTRE, 58, appearance.REGULAR, 12, "V/v rà soát thiết bị ký số"),
    (RIGHT_CENTRE, 0, appearance.BOLD, 12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    (RIGHT_CENTRE, 16, appearance.BOLD, 13, "Độc lập - Tự do - Hạnh phúc"),
    (RIGHT_CENTRE, 40, appearance.ITALIC, 14, "Văn Quan, ngày        tháng        năm 2026"),
)


def _header(canvas: Canvas) -> None:
    top = A4[1] - 20 * MM
    for x, drop, font, size, text in _HEADER:
        canvas.setFont(font, size)
        canvas.drawCentredString(x, top - drop, text)


def _body(canvas: Canvas, top: float, paragraphs: int) -> float:
    canvas.setFont(appearance.REGULAR, 14)
    y = top
    for _ in range(paragraphs):
        for line in _wrap(BODY, A4[0] - 45 * MM, 14):
            canvas.drawString(30 * MM, y, line)
            y -= 20
        y -= 6
    return y


def _signer_block(canvas: Canvas, top: float, signer: str) -> None:
    canvas.setFont(appearance.BOLD, 12)
    canvas.drawString(30 * MM, top, "Nơi nhận:")
    canvas.setFont(appearance.REGULAR, 11)
    canvas.drawString(30 * MM, top - 14, "- Các cơ quan, đơn vị;")
    canvas.drawString(30 * MM, top - 28, "- Lưu: VT, VHTT.")
    canvas.setFont(appearance.BOLD, 13)
    canvas.drawCentredString(RIGHT_CENTRE, top, "TM. ỦY BAN NHÂN DÂN")
    canvas.drawCentredString(RIGHT_CENTRE, top - 16, "CHỦ TỊCH")
    canvas.setFont(appearance.BOLD, 14)
    canvas.drawCentredString(RIGHT_CENTRE, top - 112, signer)


def make_draft(pages: int = 1, signer: str = SIGNER, *, with_number: bool = True) -> bytes:
    """A draft letter: header with an empty number and date on page 1, the signer block on the last page."""
    appearance.register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for page in range(pages):
        if page == 0:
            if with_number:
                _header(canvas)
            y = _body(canvas, A4[1] - 20 * MM - 100, 3)
        else:
            y = _body(canvas, A4[1] - 25 * MM, 4)
        if page == pages - 1:
            _signer_block(canvas, y - 20, signer)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _png(image: Image.Image, path: Path) -> Path:
    image.save(path, format="PNG")
    return path


def signature_image(path: Path) -> Path:
    """A blue handwritten-looking stroke on a transparent background."""
    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(40, 170), (90, 60), (130, 180), (180, 70), (230, 160), (300, 90), (360, 150), (430, 80), (560, 120)]
    draw.line(points, fill=(20, 40, 200, 255), width=9, joint="curve")
    draw.line([(60, 200), (540, 185)], fill=(20, 40, 200, 255), width=5)
    return _png(image, path)


def seal_image(path: Path) -> Path:
    """A red round seal on a transparent background."""
    size = 480
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (220, 20, 30, 235)
    draw.ellipse((8, 8, size - 8, size - 8), outline=red, width=14)
    draw.ellipse((70, 70, size - 70, size - 70), outline=red, width=6)
    font = ImageFont.truetype(str(appearance.font_file(appearance.BOLD)), 38)
    for text, y in (("ỦY BAN NHÂN DÂN", 170), ("HUYỆN", 225), ("VĂN QUAN", 280)):
        width = draw.textlength(text, font=font)
        draw.text(((size - width) / 2, y), text, fill=red, font=font)
    return _png(image, path)


@dataclass(frozen=True)
class DemoFiles:
    """What ``token-agent demo`` made."""

    softhsm_conf: Path
    root: Path
    crl: Path
    draft: Path
    signature_image: Path
    seal_image: Path
    labels: tuple[str, ...]


DEMO_PEOPLE = {
    "LANH-DAO": vn_name(SIGNER, "CCCD:001234567890"),
    "VAN-THU": vn_name("UBND huyện Văn Quan", "MST:4900123456"),
}
"""The demo's tokens: the head (Nguyễn Văn An) and the organisation."""


def build_demo(directory: Path, people: dict[str, x509.Name] = DEMO_PEOPLE) -> DemoFiles:
    """Demo tokens (label → certificate subject; PIN ``123456``) with the root certificate, an empty CRL,
    a two-page draft and the two images, all under ``directory``.

    Sets SOFTHSM2_CONF in this process to the demo configuration.
    """
    directory.mkdir(parents=True, exist_ok=True)
    config = softhsm_config(directory)
    os.environ["SOFTHSM2_CONF"] = str(config)
    root = root_authority("Demo Root CA Văn Quan")
    issuing = sub_authority(root, "Demo Issuing CA Văn Quan")
    for label, subject in people.items():
        init_token(label)
        provision_token(label, issuing, subject)
    draft = directory / "du-thao.pdf"
    draft.write_bytes(make_draft(pages=2))
    return DemoFiles(
        softhsm_conf=config,
        root=write_pem(directory / "root.pem", root.cert),
        crl=write_pem(directory / "crl.pem", issuing.crl([])),
        draft=draft,
        signature_image=signature_image(directory / "chu-ky.png"),
        seal_image=seal_image(directory / "con-dau.png"),
        labels=tuple(people),
    )
