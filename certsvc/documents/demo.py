"""Example documents for ``certsvc demo``: the issuing cycle of UBND huyện Văn Quan, in every state, signed with
real (SoftHSM) tokens kept under the instance folder.

Vũ Thị Thu (``chuyenvien``, Văn phòng HĐND và UBND huyện) drafts, Đinh Thị Lan (``lanhdaophong``) reviews,
Lăng Văn Hùng (``phochutich``, Phó Chủ tịch) signs with his personal token, Hà Thị Ngọc (``vanthu``) numbers,
dates and signs with the committee's seal token, then sends; UBND xã Tân Đoàn receives, registers and directs.

The tokens (PIN :data:`~token_agent.demo.USER_PIN`) live in ``<instance>/demo-tokens``, with the PKI's root
certificate, a signature image and a seal image, so that README's ``token-agent sign`` commands sign what the
demo's registry and trust anchors accept. Every step goes through the documents services, uploads included:
the server checks the demo's signatures exactly as it checks a user's.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from pyhanko.sign.pkcs11 import PKCS11Signer
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.documents import drafting, incoming, publishing, register, review, signing
from certsvc.documents.files import content, latest
from certsvc.documents.models import DocumentType, FileKind, IncomingDocument, OutgoingDocument, Secrecy, Urgency
from certsvc.documents.settings import DocumentSettings
from certsvc.orgs.models import Organisation
from certsvc.orgs.names import place_name
from certsvc.people.models import Person
from certsvc.registry import anchors, registration
from certsvc.registry.certificates import summarise
from certsvc.registry.demo import DEMO_ACTOR
from certsvc.registry.models import Certificate, TokenKind
from certsvc.timeutil import to_vietnam, utcnow
from token_agent import appearance, demo, pkcs11_access
from token_agent import signing as agent
from token_agent.pkcs11_access import Pin, TokenSelector
from token_agent.verification import Verifier

__all__ = ["load_demo", "TOKENS_FOLDER", "SIGNER_TOKEN", "SEAL_TOKEN", "SEAL_TOKEN_SERIAL"]

#: The demo's tokens, under the instance folder.
TOKENS_FOLDER = "demo-tokens"
#: Token labels (``token-agent sign --token …``): the Phó Chủ tịch's personal token, the committee's seal.
SIGNER_TOKEN = "PHO-CHU-TICH"
SEAL_TOKEN = "UBND-VAN-QUAN"
#: An outside sender's token: the province committee, whose documents arrive from outside the service.
_PROVINCE_TOKEN = "UBND-TINH"
#: The committee's seal token in the registry and custody register (the registry demo registers it).
SEAL_TOKEN_SERIAL = "5401A7C30001"
_SIGNER_TOKEN_SERIAL = "5401A7C30008"
_AUTHORITY = "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
#: "Nơi nhận" as the district's letters print it, and as the documents record it.
_DISTRIBUTION = ("Như trên;", "Chủ tịch, các PCT UBND huyện;", "Lưu: VT, VP.")


# --- the tokens ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tokens:
    folder: Path
    signer: x509.Certificate
    seal: x509.Certificate

    @property
    def signature_image(self) -> Path:
        return self.folder / "chu-ky.png"

    @property
    def seal_image(self) -> Path:
        return self.folder / "con-dau.png"

    @property
    def root(self) -> Path:
        return self.folder / "root.pem"


@contextmanager
def _signer(label: str) -> Iterator[PKCS11Signer]:
    module = pkcs11_access.load_module()
    (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=label)])
    with pkcs11_access.open_session(token, Pin(demo.USER_PIN)) as session:
        yield agent.token_signer(session)


def _make_tokens(folder: Path, people: dict[str, Person], orgs: dict[str, Organisation]) -> _Tokens:
    """New tokens in ``folder`` (those of an earlier demo database are thrown away: their certificates would
    not be in this one), their keys made on the token and certified by a fresh demo PKI."""
    shutil.rmtree(folder / "tokens", ignore_errors=True)
    demo.softhsm_config(folder)
    root = demo.root_authority("Demo Root CA Văn Quan")
    issuing = demo.sub_authority(root, "Demo Issuing CA Văn Quan")
    subjects = {
        SIGNER_TOKEN: demo.vn_name(people["phochutich"].full_name, "CCCD:020079000518", orgs["huyen"].name),
        SEAL_TOKEN: demo.vn_name(orgs["huyen"].name, "MST:4900123456", orgs["huyen"].name),
        _PROVINCE_TOKEN: demo.vn_name(orgs["tinh"].name, "MST:4900100011", orgs["tinh"].name),
    }
    certificates = {}
    for label, subject in subjects.items():
        demo.init_token(label)
        certificates[label] = demo.provision_token(label, issuing, subject)
    demo.write_pem(folder / "root.pem", root.cert, issuing.cert)
    tokens = _Tokens(folder, certificates[SIGNER_TOKEN], certificates[SEAL_TOKEN])
    demo.signature_image(tokens.signature_image)
    demo.seal_image(tokens.seal_image)
    return tokens


def _register_certificates(
    session: Session, tokens: _Tokens, orgs: dict[str, Organisation], people: dict[str, Person]
) -> None:
    """The demo PKI trusted, the Phó Chủ tịch's certificate on his token, and the committee's certificate
    renewed on its seal token (the one the custody register shows in ``vanthu``'s keeping)."""
    anchors.add_anchors(session, DEMO_ACTOR, tokens.root.read_bytes())
    huyen = orgs["huyen"]
    registration.register_certificate(
        session,
        DEMO_ACTOR,
        summarise(tokens.signer),
        kind=TokenKind.PERSONAL,
        organisation_id=huyen.id,
        holder_id=people["phochutich"].id,
        token_serial=_SIGNER_TOKEN_SERIAL,
    )
    previous = session.scalars(
        select(Certificate)
        .where(Certificate.organisation_id == huyen.id, Certificate.kind == TokenKind.ORGANISATION)
        .where(Certificate.token.has(serial=SEAL_TOKEN_SERIAL))
    ).one()
    registration.register_certificate(
        session,
        DEMO_ACTOR,
        summarise(tokens.seal),
        kind=TokenKind.ORGANISATION,
        organisation_id=huyen.id,
        predecessor=previous,
    )


# --- drafts ----------------------------------------------------------------------------------------------

_MM = appearance.MM
_LEFT = 30 * _MM + 38 * _MM
_RIGHT = A4[0] - 15 * _MM - 52 * _MM


@dataclass(frozen=True)
class _Doc:
    """What a demo letter says: "V/v …", "Kính gửi: …", its paragraph, its urgency."""

    subject: str
    addressee: str
    body: str
    urgency: Urgency = Urgency.NORMAL


def _wrapped(text: str, width: float, font: str, size: float) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and appearance.text_width(candidate, font, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current]


def _draft_pdf(
    doc: _Doc,
    signer: str,
    *,
    body: str = "HUYỆN VĂN QUAN",
    number: str = "Số:          /UBND-VP",
    date: str = "",
    distribution: tuple[str, ...] = _DISTRIBUTION,
) -> bytes:
    """A draft as a word processor exports it (Nghị định 30/2020, Phụ lục I): number and date left empty
    (unless given: a paper document), the summary under the number, the body, "Nơi nhận", the signer block."""
    date = date or f"Văn Quan, ngày        tháng        năm {to_vietnam(utcnow()).year}"
    appearance.register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    top = A4[1] - 20 * _MM
    header = [
        (_LEFT, 0, appearance.REGULAR, 13, "ỦY BAN NHÂN DÂN"),
        (_LEFT, 16, appearance.BOLD, 13, body),
        (_LEFT, 40, appearance.REGULAR, 13, number),
        (_RIGHT, 0, appearance.BOLD, 12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (_RIGHT, 16, appearance.BOLD, 13, "Độc lập - Tự do - Hạnh phúc"),
        (_RIGHT, 40, appearance.ITALIC, 14, date),
    ]
    for row, line in enumerate(_wrapped(f"V/v {doc.subject}", 70 * _MM, appearance.REGULAR, 12)):
        header.append((_LEFT, 58 + 14 * row, appearance.REGULAR, 12, line))
    for x, drop, font, size, text in header:
        canvas.setFont(font, size)
        canvas.drawCentredString(x, top - drop, text)
    y = top - 120
    canvas.setFont(appearance.REGULAR, 14)
    canvas.drawCentredString(A4[0] / 2, y, f"Kính gửi: {doc.addressee}")
    y -= 30
    for line in _wrapped(doc.body, A4[0] - 45 * _MM, appearance.REGULAR, 14):
        canvas.drawString(30 * _MM, y, line)
        y -= 20
    y -= 20
    canvas.setFont(appearance.BOLD, 12)
    canvas.drawString(30 * _MM, y, "Nơi nhận:")
    canvas.setFont(appearance.REGULAR, 11)
    for row, line in enumerate(distribution, 1):
        canvas.drawString(30 * _MM, y - 14 * row, f"- {line}")
    canvas.setFont(appearance.BOLD, 13)
    for row, line in enumerate(_AUTHORITY.splitlines()):
        canvas.drawCentredString(_RIGHT, y - 16 * row, line)
    canvas.setFont(appearance.BOLD, 14)
    canvas.drawCentredString(_RIGHT, y - 112, signer)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


_FESTIVAL = _Doc(
    "tổ chức Ngày hội văn hóa các dân tộc huyện Văn Quan",
    "UBND các xã, thị trấn",
    "Thực hiện Kế hoạch công tác văn hóa năm nay, Ủy ban nhân dân huyện đề nghị Ủy ban nhân dân các xã, thị trấn "
    "chuẩn bị đội văn nghệ, gian hàng trưng bày sản phẩm và cử cán bộ đầu mối, gửi danh sách về Văn phòng "
    "HĐND và UBND huyện trước ngày 20 của tháng.",
)
_PROVINCE_LETTER = _Doc(
    "tổ chức các hoạt động văn hóa, thể thao chào mừng các ngày lễ lớn",
    "UBND các huyện, thành phố",
    "Ủy ban nhân dân tỉnh đề nghị Ủy ban nhân dân các huyện, thành phố tổ chức các hoạt động văn hóa, thể thao "
    "chào mừng các ngày lễ lớn, bảo đảm an toàn, tiết kiệm; báo cáo kết quả về Sở Văn hóa, Thể thao và Du lịch.",
)
_DOCUMENTS = {
    "draft": _Doc(
        "tổng kết công tác chuyển đổi số năm nay",
        "Các cơ quan, đơn vị thuộc UBND huyện",
        "Ủy ban nhân dân huyện đề nghị các cơ quan, đơn vị báo cáo kết quả chuyển đổi số, số văn bản phát hành "
        "điện tử có đủ chữ ký số của lãnh đạo và của cơ quan, gửi về Văn phòng HĐND và UBND huyện.",
    ),
    "in_review": _Doc(
        "rà soát thiết bị lưu khóa bí mật của các đơn vị",
        "Các cơ quan, đơn vị; UBND các xã, thị trấn",
        "Ủy ban nhân dân huyện đề nghị các cơ quan, đơn vị rà soát thiết bị lưu khóa bí mật, bảo đảm chữ ký số "
        "của cơ quan và của thủ trưởng hoạt động bình thường, ghi đầy đủ sổ theo dõi thiết bị.",
    ),
    "returned": _Doc(
        "đăng ký cấp chứng thư số cho cán bộ mới",
        "UBND các xã, thị trấn",
        "Ủy ban nhân dân huyện đề nghị Ủy ban nhân dân các xã, thị trấn lập danh sách cán bộ, công chức mới "
        "được bố trí công tác cần cấp chứng thư số, gửi Phòng Văn hóa và Thông tin tổng hợp.",
    ),
    "awaiting": _Doc(
        "triển khai ký số văn bản điện tử tại cấp xã",
        "UBND các xã, thị trấn",
        "Ủy ban nhân dân huyện đề nghị Ủy ban nhân dân các xã, thị trấn phát hành văn bản điện tử có chữ ký số "
        "của lãnh đạo và của cơ quan, không in ra giấy để ký tay rồi quét lại.",
        Urgency.URGENT,
    ),
    "signed": _Doc(
        "kiểm tra an toàn thông tin trên địa bàn huyện",
        "Các cơ quan, đơn vị thuộc UBND huyện",
        "Ủy ban nhân dân huyện thông báo kế hoạch kiểm tra an toàn thông tin tại các cơ quan, đơn vị; đề nghị "
        "các cơ quan, đơn vị chuẩn bị hồ sơ quản lý thiết bị, tài khoản và sao lưu dữ liệu.",
    ),
    "numbered": _Doc(
        "cử cán bộ tham gia tập huấn ký số",
        "Các cơ quan, đơn vị; UBND các xã, thị trấn",
        "Ủy ban nhân dân huyện đề nghị các cơ quan, đơn vị cử văn thư và cán bộ phụ trách công nghệ thông tin "
        "tham gia lớp tập huấn sử dụng chữ ký số tại Hội trường UBND huyện.",
    ),
    "issued": _Doc(
        "gia hạn chứng thư số sắp hết hạn",
        "UBND các xã, thị trấn",
        "Ủy ban nhân dân huyện đề nghị Ủy ban nhân dân các xã, thị trấn kiểm tra hạn chứng thư số của cơ quan "
        "và của lãnh đạo, lập hồ sơ gia hạn trước khi hết hạn ít nhất 30 ngày.",
    ),
    "sent": _FESTIVAL,
    "recalled": _Doc(
        "lịch tiếp công dân của lãnh đạo UBND huyện",
        "UBND các xã, thị trấn",
        "Ủy ban nhân dân huyện thông báo lịch tiếp công dân định kỳ của lãnh đạo UBND huyện vào ngày 15 hằng "
        "tháng tại Trụ sở tiếp công dân huyện.",
    ),
    "cancelled": _Doc(
        "mua sắm thiết bị ký số",
        "Phòng Tài chính - Kế hoạch",
        "Ủy ban nhân dân huyện đề nghị Phòng Tài chính - Kế hoạch bố trí kinh phí mua sắm thiết bị ký số.",
    ),
}


# --- the cycle -------------------------------------------------------------------------------------------


@dataclass
class _Cycle:
    session: Session
    orgs: dict[str, Organisation]
    people: dict[str, Person]
    accounts: dict[str, Account]
    tokens: _Tokens
    settings: DocumentSettings

    def draft(self, key: str) -> OutgoingDocument:
        spec = _DOCUMENTS[key]
        signer = self.people["phochutich"]
        values = {
            "document_type_id": _document_type(self.session, "Công văn").id,
            "summary": f"V/v {spec.subject}",
            "urgency": spec.urgency.value,
            "issuing_body_id": self.orgs["huyen"].id,
            "signer_id": signer.id,
            "authority_lines": _AUTHORITY,
            "recipient_ids": [self.orgs[commune].id for commune in ("tt", "tandoan", "trangphai", "yenphuc")],
            "distribution_lines": "\n".join(_DISTRIBUTION),
        }
        pdf = _draft_pdf(spec, signer.full_name)
        return drafting.create(
            self.session, self.accounts["chuyenvien"], self.orgs["vp"].id, values, pdf, "du-thao.pdf"
        )

    def submitted(self, key: str) -> OutgoingDocument:
        return drafting.submit(self.session, self.accounts["chuyenvien"], self.draft(key))

    def awaiting(self, key: str) -> OutgoingDocument:
        doc = self.submitted(key)
        review.forward(self.session, self.accounts["lanhdaophong"], doc, "Đúng thể thức, trình Phó Chủ tịch ký.")
        return doc

    def signed(self, key: str) -> OutgoingDocument:
        """Approved: the prepared file signed with the Phó Chủ tịch's token, uploaded as he would."""
        doc = self.awaiting(key)
        with _signer(SIGNER_TOKEN) as signer:
            approved = agent.approve(_file(doc, FileKind.PREPARED), signer, self.tokens.signature_image)
        signing.approve_upload(self.session, self.accounts["phochutich"], doc, approved, "da-ky-duyet.pdf")
        return doc

    def numbered(self, key: str) -> OutgoingDocument:
        doc = self.signed(key)
        register.take_number(self.session, self.accounts["vanthu"], doc)
        return doc

    def issued(self, key: str) -> OutgoingDocument:
        """Issued: number, date and the committee's seal on the approved file, uploaded as the clerk would."""
        doc = self.numbered(key)
        entry = doc.number_entry
        if entry is None:  # take_number has just entered it
            raise LookupError(f"document {doc.id} was numbered without a register entry")
        verifier = Verifier(x509.load_pem_x509_certificates(self.tokens.root.read_bytes()))
        with _signer(SEAL_TOKEN) as signer:
            issued = agent.issue(
                _file(doc, FileKind.APPROVED),
                signer,
                self.tokens.seal_image,
                number=entry.symbol,
                place=place_name(doc.issuing_body),
                issue_date=entry.issue_date,
                verifier=verifier,
            )
        signing.issue_upload(self.session, self.accounts["vanthu"], doc, issued, "ban-hanh.pdf")
        return doc

    def sent(self, key: str) -> tuple[OutgoingDocument, list[IncomingDocument]]:
        """Issued and sent: the document and what its recipients received."""
        doc = self.issued(key)
        return doc, publishing.send(self.session, self.accounts["vanthu"], doc, self.settings)


def _account(session: Session, person: Person) -> Account:
    account = session.scalar(select(Account).where(Account.person_id == person.id))
    if account is None:
        raise LookupError(f"The documents demo needs an account for {person.full_name}; the demo accounts are missing.")
    return account


def _file(doc: OutgoingDocument, kind: FileKind) -> bytes:
    version = latest(doc, kind)
    if version is None:  # every step before this one stored its version
        raise LookupError(f"document {doc.id} has no {kind.value} file")
    return content(version)


def _document_type(session: Session, name: str) -> DocumentType:
    return session.scalars(select(DocumentType).where(DocumentType.name == name)).one()


def _outgoing(cycle: _Cycle) -> None:
    """One document in each state of the outgoing cycle, an abandoned number and a secret paper entry."""
    session, accounts = cycle.session, cycle.accounts
    cycle.draft("draft")
    cycle.submitted("in_review")
    returned = cycle.submitted("returned")
    review.return_document(
        session,
        accounts["lanhdaophong"],
        returned,
        "Bổ sung thời hạn gửi danh sách và đầu mối liên hệ; sửa trích yếu cho ngắn gọn.",
    )
    cycle.awaiting("awaiting")
    signed = cycle.signed("signed")
    register.take_number(session, accounts["vanthu"], signed)
    register.abandon_number(
        session, accounts["vanthu"], signed, "Lấy số nhầm: văn bản còn chờ ý kiến của Phòng Tư pháp."
    )
    cycle.numbered("numbered")
    cycle.issued("issued")
    _received_in_the_commune(cycle, cycle.sent("sent")[1])
    recalled, _ = cycle.sent("recalled")
    publishing.recall(
        session, accounts["vanthu"], recalled, "Thay đổi địa điểm tiếp công dân; sẽ ban hành văn bản thay thế."
    )
    cancelled = cycle.draft("cancelled")
    drafting.cancel(session, accounts["chuyenvien"], cancelled, "Đã có Kế hoạch mua sắm năm của Phòng TC-KH.")
    register.register_paper(
        session,
        accounts["vanthu"],
        {
            "issuing_body_id": cycle.orgs["huyen"].id,
            "drafting_unit_id": cycle.orgs["vp"].id,
            "document_type_id": _document_type(session, "Báo cáo").id,
            "summary": "Báo cáo công tác bảo vệ bí mật nhà nước (bản giấy)",
            "secrecy": Secrecy.SECRET.value,
            "signer_id": cycle.people["phochutich"].id,
            "authority_lines": _AUTHORITY,
            "outside_recipients": "Công an tỉnh Lạng Sơn",
        },
    )


def _received_in_the_commune(cycle: _Cycle, delivered: list[IncomingDocument]) -> None:
    """Tân Đoàn's clerk registers the sent document; the commune's chairman gives his direction."""
    (arrived,) = [row for row in delivered if row.receiving_body_id == cycle.orgs["tandoan"].id]
    incoming.register(cycle.session, cycle.accounts["canbo"], arrived)
    incoming.direct(
        cycle.session,
        cycle.accounts["thutruong"],
        arrived,
        cycle.people["canbo"].id,
        (to_vietnam(utcnow()) + timedelta(days=10)).date().isoformat(),
        "Chuẩn bị đội văn nghệ và gian hàng của xã; báo cáo danh sách trước hạn.",
    )


def _from_outside(cycle: _Cycle) -> None:
    """A letter of the province (outside the service), checked with "Kiểm tra ký số": a first copy changed
    after signing on its way, returned to its sender, then the copy sent again, registered and directed."""
    session, clerk = cycle.session, cycle.accounts["vanthu"]
    sent_on = to_vietnam(utcnow() - timedelta(days=2)).date()
    paper = _draft_pdf(
        _PROVINCE_LETTER,
        "Đoàn Thu Hà",
        body="TỈNH LẠNG SƠN",
        number="Số: 1520/UBND-KGVX",
        date=f"Lạng Sơn, ngày {sent_on:%d} tháng {sent_on:%m} năm {sent_on:%Y}",
        distribution=("Như trên;", "Sở Văn hóa, Thể thao và Du lịch;", "Lưu: VT, KGVX."),
    )
    with _signer(_PROVINCE_TOKEN) as signer:
        copy = agent.sign_copy(paper, signer, kind=agent.CopyKind.SAO_Y)
    values = {
        "sender_name": cycle.orgs["tinh"].name,
        "original_number": "1520/UBND-KGVX",
        "original_date": sent_on.isoformat(),
        "summary": f"V/v {_PROVINCE_LETTER.subject}",
        "urgency": Urgency.URGENT.value,
    }
    huyen = cycle.orgs["huyen"].id
    changed = bytearray(copy)
    changed[changed.index(b"ReportLab Generated")] ^= 0x01  # one byte of the signed file, as a careless relay would
    invalid = incoming.receive_outside(
        session, clerk, huyen, values, bytes(changed), "1520-UBND-KGVX.pdf", cycle.settings
    )
    incoming.return_to_sender(
        session, clerk, invalid, "Chữ ký số không hợp lệ: tệp đã bị thay đổi sau khi ký. Đề nghị gửi lại bản đúng."
    )
    valid = incoming.receive_outside(session, clerk, huyen, values, copy, "1520-UBND-KGVX.pdf", cycle.settings)
    incoming.register(session, clerk, valid)
    incoming.direct(
        session,
        cycle.accounts["phochutich"],
        valid,
        cycle.people["chuyenvien"].id,
        (to_vietnam(utcnow()) + timedelta(days=7)).date().isoformat(),
        "Văn phòng tham mưu văn bản triển khai đến các xã, thị trấn.",
    )


def load_demo(
    session: Session,
    orgs: dict[str, Organisation],
    people: dict[str, Person],
    folder: Path,
    settings: DocumentSettings,
) -> None:
    """The demo tokens in ``folder``, their certificates in the registry, and the documents."""
    with demo.softhsm_configured(folder / "softhsm2.conf"):
        tokens = _make_tokens(folder, people, orgs)
        _register_certificates(session, tokens, orgs, people)
        keys = ("chuyenvien", "lanhdaophong", "phochutich", "vanthu", "canbo", "thutruong")
        accounts = {key: _account(session, people[key]) for key in keys}
        cycle = _Cycle(session, orgs, people, accounts, tokens, settings)
        _outgoing(cycle)
        _from_outside(cycle)
    session.flush()
