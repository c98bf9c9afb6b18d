"""The ``token-agent`` command line: check, prepare, sign, verify; pair, pairings, unpair, serve.

One-click signing from certsvc's pages (docs/agent-protocol.md): ``pair URL CODE [--device-name NAME]`` pairs
the agent with a certsvc server using the one-time code shown in "Thiết bị ký số của tôi"; ``pairings`` lists
the servers it is paired with; ``unpair URL`` forgets one; ``serve [--port 8987] [--host 127.0.0.1]`` runs the
local service (:mod:`token_agent.service`) on loopback only (another address: ``Lỗi [not_loopback]``, exit 2);
its page ``/pair`` pairs too, and ``/`` shows the pairings and the tokens plugged in.
Pairings and ``config.json`` (signature and seal images, module) live in the agent's home
(:func:`token_agent.pairings.agent_home`, or ``$TOKEN_AGENT_HOME``).

Exit codes: ``check`` 0 all pass, 1 warnings, 2 failures; ``verify`` 0 every signature TOTAL_PASSED,
1 INDETERMINATE, 2 TOTAL_FAILED; ``prepare`` and ``sign`` 0 done, 2 refused or failed. An error prints
``Lỗi [code]: message`` on stderr (the code is stable, see :mod:`token_agent.errors`).

JSON (``--json``) documents start with ``"schema"``:

- ``token-agent.check/1``: ``module``, ``checked_at``, ``general`` (results not tied to a token: module.load,
  clock.reference), ``tokens`` (each: ``label``, ``serial``, ``manufacturer``, ``model``, ``results``,
  ``status``), ``status`` and ``exit_code``. A result is ``{id, status, message, message_en, hint, subject}``;
  ids and statuses are listed in :mod:`token_agent.health`; ``subject`` is the certificate's CN or "".
- ``token-agent.verify/1``: ``signatures`` (each: ``field_name``, ``kind`` (signature, or timestamp for a
  document timestamp), ``signer`` {common_name, uid, organisation, serial, issuer} (null when a malformed
  signature names no certificate), ``certificate_sha256`` (lower-case hex SHA-256 of the signer's certificate,
  DER; null likewise), ``signing_time``, ``timestamp``, ``intact``, ``valid``, ``chain_trusted``, ``revoked``,
  ``coverage``, ``modification`` (none, form_filling, annotations, other), ``verdict``, ``sub_indication``) and
  ``verdict``.
- ``token-agent.prepare/1``: ``output`` and ``places`` (field name → {page, x1, y1, x2, y2}).
A later incompatible change of a shape gets a new version number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pkcs11
from pdfminer.psexceptions import PSException
from pkcs11 import TokenFlag
from pyhanko.pdf_utils.misc import PdfError

from . import appearance, health, pairings, pkcs11_access, service, signing
from .certs import load_certificates, load_crls
from .errors import DocumentError, TokenAgentError, TokenSelectionError
from .health import CheckOptions, HealthReport, Status
from .pkcs11_access import Pin, TokenInfo, TokenSelector
from .placement import Box
from .reporting import dump_json
from .verification import SCHEMA as VERIFY_SCHEMA
from .verification import DocumentReport, SignatureKind, Verdict, Verifier

__all__ = ["main", "build_parser"]

PREPARE_SCHEMA = "token-agent.prepare/1"
_VERDICT_EXIT = {Verdict.TOTAL_PASSED: 0, Verdict.INDETERMINATE: 1, Verdict.TOTAL_FAILED: 2}


# --- argument types ------------------------------------------------------------------------------------


def _box(text: str) -> Box:
    """``PAGE,X1,Y1,X2,Y2``: page counted from 1, coordinates in points from the bottom left."""
    try:
        page, *coords = text.split(",")
        x1, y1, x2, y2 = (float(v) for v in coords)
        return Box(int(page) - 1, x1, y1, x2, y2)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("vị trí phải có dạng TRANG,X1,Y1,X2,Y2") from exc


def _date(text: str) -> dt.date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError("ngày phải có dạng 2026-11-21 hoặc 21/11/2026")


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("thời gian phải theo ISO 8601, ví dụ 2026-11-21T09:30:00+07:00") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=signing.VN_TZ)


# --- parser --------------------------------------------------------------------------------------------


def _add_token_options(parser: argparse.ArgumentParser, *, many: bool) -> None:
    action = "append" if many else "store"
    parser.add_argument("--module", help="thư viện PKCS#11 (mặc định: SoftHSM hoặc $TOKEN_AGENT_PKCS11_MODULE)")
    parser.add_argument("--token", action=action, metavar="LABEL", help="nhãn thiết bị ký số")
    parser.add_argument("--serial", action=action, help="số sê-ri thiết bị ký số")
    parser.add_argument("--pin-env", metavar="VAR", help="đọc mã PIN từ biến môi trường này")


def _add_trust_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="chứng thư gốc tin cậy (PEM/DER), lặp lại được",
    )
    parser.add_argument(
        "--crl", action="append", type=Path, default=[], metavar="FILE", help="danh sách thu hồi (CRL), lặp lại được"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="token-agent", description="Kiểm tra thiết bị ký số, ký và kiểm tra văn bản PDF."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="kiểm tra tình trạng thiết bị ký số")
    _add_token_options(check, many=True)
    check.add_argument("--ask-pin", action="store_true", help="hỏi mã PIN của từng thiết bị")
    check.add_argument("--force-login", action="store_true", help="vẫn đăng nhập khi chỉ còn một lần nhập PIN")
    _add_trust_options(check)
    check.add_argument("--reference-time", type=_moment, help="thời gian chuẩn (ISO 8601) để so đồng hồ")
    check.add_argument("--no-test-signatures", action="store_true", help="không ký thử")
    check.add_argument("--json", action="store_true")

    prepare = commands.add_parser("prepare", help="thêm các trường số, ngày và chữ ký vào dự thảo")
    prepare.add_argument("input", type=Path)
    prepare.add_argument("output", type=Path)
    prepare.add_argument("--signer", help="họ và tên người ký, như in trên dự thảo")
    prepare.add_argument("--signature-box", type=_box, metavar="TRANG,X1,Y1,X2,Y2")
    prepare.add_argument("--number-box", type=_box, metavar="TRANG,X1,Y1,X2,Y2")
    prepare.add_argument("--date-box", type=_box, metavar="TRANG,X1,Y1,X2,Y2")
    prepare.add_argument("--seal-diameter", type=float, default=36.0, metavar="MM")
    prepare.add_argument("--json", action="store_true")

    sign = commands.add_parser("sign", help="ký văn bản PDF")
    sign.add_argument("--role", required=True, choices=["approve", "issue", "appendix", "copy"])
    sign.add_argument("input", type=Path)
    sign.add_argument("output", type=Path)
    _add_token_options(sign, many=False)
    sign.add_argument("--cert-label", help="nhãn chứng thư số khi thiết bị có nhiều chứng thư")
    sign.add_argument("--signature-image", type=Path, help="ảnh chữ ký (PNG màu xanh, nền trong suốt)")
    sign.add_argument("--seal-image", type=Path, help="ảnh con dấu (PNG màu đỏ, nền trong suốt)")
    sign.add_argument("--number", help="số và ký hiệu, ví dụ 01/UBND-VHTT")
    sign.add_argument("--date", type=_date, help="ngày ban hành")
    sign.add_argument("--place", help="địa danh, ví dụ Văn Quan")
    sign.add_argument("--copy-kind", choices=[k.value for k in signing.CopyKind], default=signing.CopyKind.SAO_Y.value)
    sign.add_argument("--copying-body", help="tên cơ quan sao (mặc định: tổ chức trong chứng thư số)")
    sign.add_argument("--tsa-url", help="máy chủ dấu thời gian (PAdES B-T)")
    _add_trust_options(sign)

    demo_parser = commands.add_parser("demo", help="tạo thiết bị ký số SoftHSM và dự thảo mẫu để thử")
    demo_parser.add_argument("directory", type=Path)

    pair = commands.add_parser("pair", help="ghép nối với máy chủ certsvc bằng mã một lần")
    pair.add_argument("url", help="địa chỉ máy chủ certsvc, ví dụ https://certsvc.huyen.gov.vn")
    pair.add_argument("code", help="mã ghép nối, ví dụ ABCD-EFGH")
    pair.add_argument("--device-name", default=socket.gethostname(), help="tên máy tính (mặc định: tên máy)")
    commands.add_parser("pairings", help="liệt kê các máy chủ đã ghép nối")
    unpair = commands.add_parser("unpair", help="bỏ ghép nối với một máy chủ")
    unpair.add_argument("url")

    serve = commands.add_parser("serve", help="chạy dịch vụ ký số một chạm trên máy này")
    serve.add_argument("--port", type=int, default=service.DEFAULT_PORT)
    serve.add_argument("--host", help="địa chỉ nội bộ để nghe (mặc định: 127.0.0.1 và ::1)")
    serve.add_argument("--module", help="thư viện PKCS#11 (mặc định: SoftHSM hoặc $TOKEN_AGENT_PKCS11_MODULE)")
    serve.add_argument("--signature-image", type=Path, help="ảnh chữ ký (mặc định: theo config.json)")
    serve.add_argument("--seal-image", type=Path, help="ảnh con dấu (mặc định: theo config.json)")

    verify = commands.add_parser("verify", help="kiểm tra chữ ký số trong tệp PDF")
    verify.add_argument("file", type=Path)
    _add_trust_options(verify)
    verify.add_argument("--json", action="store_true")
    return parser


# --- PIN -----------------------------------------------------------------------------------------------


def _pin_from_env(variable: str) -> Pin:
    value = os.environ.get(variable)
    if not value:
        raise TokenAgentError(f"Biến môi trường {variable} không có mã PIN.", code="pin_missing")
    return Pin(value)


def _prompt_pin(info: TokenInfo) -> Pin:
    return Pin(getpass.getpass(f"Mã PIN của thiết bị «{info.label}»: "))


# --- commands ------------------------------------------------------------------------------------------


def _selectors(labels: Sequence[str] | None, serials: Sequence[str] | None) -> tuple[TokenSelector, ...]:
    return (*(TokenSelector(label=v) for v in labels or ()), *(TokenSelector(serial=v) for v in serials or ()))


def _print_check(report: HealthReport) -> None:
    def rows(results):
        for r in results:
            subject = f" [{r.subject}]" if r.subject else ""
            print(f"  {r.status.value:<4}  {r.id:<21}{subject} {r.message}")
            if r.hint and r.status in (Status.WARN, Status.FAIL):
                print(f"        → {r.hint}")

    print(f"Thư viện PKCS#11: {report.module}")
    rows(report.general)
    for token in report.tokens:
        print(
            f"\nThiết bị «{token.label}» (sê-ri {token.serial or '?'}, {token.manufacturer} {token.model}".rstrip()
            + f"): {token.status.value}"
        )
        rows(token.results)
    print(f"\nKết quả: {report.status.value}")


def _check(args: argparse.Namespace) -> int:
    pin_source: health.PinSource
    if args.pin_env:
        pin = _pin_from_env(args.pin_env)
        pin_source = lambda _info: pin  # noqa: E731
    else:
        pin_source = _prompt_pin if args.ask_pin else (lambda _info: None)
    options = CheckOptions(
        module_path=args.module,
        selectors=_selectors(args.token, args.serial),
        pin_source=pin_source,
        force_login=args.force_login,
        trust_anchors=tuple(load_certificates(args.trust)),
        crls=tuple(load_crls(args.crl)),
        reference_time=args.reference_time,
        test_signatures=not args.no_test_signatures,
    )
    report = health.run_health_check(options)
    if args.json:
        print(dump_json(health.SCHEMA, report))
    else:
        _print_check(report)
    return report.exit_code


@contextmanager
def _malformed_pdf_is_a_document_error() -> Iterator[None]:
    """Files come from outside: a PDF whose objects are not of the types the standard requires makes pyHanko
    and pdfminer raise what Python raises for a wrong type or a missing key; the user gets a message."""
    try:
        yield
    except (PdfError, PSException, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise DocumentError(
            f"Tệp PDF sai cấu trúc, không xử lý được ({type(exc).__name__}: {exc}).", code="pdf_unreadable"
        ) from exc


def _prepare(args: argparse.Namespace) -> int:
    data = args.input.read_bytes()
    with _malformed_pdf_is_a_document_error():
        prepared = signing.prepare(
            data,
            signer_name=args.signer,
            number_box=args.number_box,
            date_box=args.date_box,
            signature_box=args.signature_box,
            seal_diameter=args.seal_diameter * appearance.MM,
        )
    signing.write_output(args.input, args.output, prepared.pdf)
    if args.json:
        print(dump_json(PREPARE_SCHEMA, {"output": str(args.output), "places": prepared.places}))
    else:
        for name, box in prepared.places.items():
            print(f"{name}: trang {box.page + 1}, ({box.x1:.0f}, {box.y1:.0f}) – ({box.x2:.0f}, {box.y2:.0f})")
        print(f"Đã ghi {args.output}")
    return 0


def _require(args: argparse.Namespace, *names: str) -> None:
    missing = [f"--{n.replace('_', '-')}" for n in names if getattr(args, n) in (None, [])]
    if missing:
        raise TokenAgentError(f"Vai trò «{args.role}» cần {', '.join(missing)}.", code="missing_option")


def _signing_token(args: argparse.Namespace) -> pkcs11.Token:
    """The token named by --token/--serial, or the only initialised token plugged in."""
    module = pkcs11_access.load_module(args.module)
    if args.token or args.serial:
        (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=args.token, serial=args.serial)])
        return token
    ready = [
        t for t in pkcs11_access.present_tokens(module) if pkcs11_access.token_info(t).has(TokenFlag.TOKEN_INITIALIZED)
    ]
    if len(ready) != 1:
        raise TokenSelectionError(f"Có {len(ready)} thiết bị ký số đang cắm: hãy chọn bằng --token hoặc --serial.")
    return ready[0]


def _sign(args: argparse.Namespace) -> int:
    needs = {
        "approve": ("signature_image",),
        "issue": ("seal_image", "number", "date", "place", "trust"),
        "appendix": ("number",),
        "copy": (),
    }
    _require(args, *needs[args.role])
    data = args.input.read_bytes()
    verifier = Verifier(load_certificates(args.trust), load_crls(args.crl))
    token = _signing_token(args)
    pin = _pin_from_env(args.pin_env) if args.pin_env else _prompt_pin(pkcs11_access.token_info(token))
    with pkcs11_access.open_session(token, pin) as session:
        signer = signing.token_signer(session, args.cert_label)
        if args.role == "approve":
            signed = signing.approve(data, signer, args.signature_image, tsa_url=args.tsa_url)
        elif args.role == "issue":
            signed = signing.issue(
                data,
                signer,
                args.seal_image,
                number=args.number,
                place=args.place,
                issue_date=args.date,
                verifier=verifier,
                tsa_url=args.tsa_url,
            )
        elif args.role == "appendix":
            signed = signing.sign_appendix(data, signer, number=args.number, tsa_url=args.tsa_url)
        else:
            signed = signing.sign_copy(
                data,
                signer,
                kind=signing.CopyKind(args.copy_kind),
                copying_body=args.copying_body,
                tsa_url=args.tsa_url,
            )
    signing.write_output(args.input, args.output, signed)
    print(f"Đã ký ({args.role}) và ghi {args.output}")
    return 0


def _print_verify(report: DocumentReport) -> None:
    if not report.signatures:
        print("Tệp không có chữ ký số.")
    for s in report.signatures:
        time = signing.vn_iso_time(s.signing_time) if s.signing_time else "?"
        verdict = f"{s.verdict.value}" + (f" / {s.sub_indication}" if s.sub_indication else "")
        timestamp_kind = s.kind is SignatureKind.TIMESTAMP
        print(f"{s.field_name}{' (dấu thời gian của văn bản)' if timestamp_kind else ''}: {verdict}")
        signer = (
            f"{s.signer.common_name} ({s.signer.uid or '—'}), {s.signer.organisation or '—'}"
            if s.signer
            else "không xác định (chữ ký sai cấu trúc)"
        )
        print(f"  {'Đơn vị cấp dấu thời gian' if timestamp_kind else 'Người ký'}: {signer}")
        stamp = f" (dấu thời gian {signing.vn_iso_time(s.timestamp)})" if s.timestamp and not timestamp_kind else ""
        print(f"  {'Thời điểm' if timestamp_kind else 'Thời gian ký'}: {time}{stamp}")
        print(
            f"  Toàn vẹn: {'có' if s.intact and s.valid else 'KHÔNG'}; chuỗi tin cậy: "
            f"{'có' if s.chain_trusted else 'không'}; bị thu hồi: {'CÓ' if s.revoked else 'không'}"
        )
        print(f"  Phạm vi: {s.coverage}; thay đổi sau khi ký: {s.modification.value}")
        if s.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND":
            print("  → Chỉ chứng thư gốc tin cậy (của Ban Cơ yếu Chính phủ) bằng --trust.")
    print(f"Kết luận: {report.verdict.value}")


def _verify(args: argparse.Namespace) -> int:
    verifier, data = Verifier(load_certificates(args.trust), load_crls(args.crl)), args.file.read_bytes()
    with _malformed_pdf_is_a_document_error():
        report = verifier.verify(data)
    if args.json:
        print(dump_json(VERIFY_SCHEMA, report))
    else:
        _print_verify(report)
    return _VERDICT_EXIT[report.verdict]


def _demo(args: argparse.Namespace) -> int:
    from .demo import SIGNER, USER_PIN, build_demo

    files = build_demo(args.directory)
    folder = args.directory
    today = dt.datetime.now(signing.VN_TZ).date().isoformat()
    print(f"""Đã tạo thiết bị ký số thử nghiệm {", ".join(files.labels)} (mã PIN {USER_PIN}) trong {folder}.
Thử một vòng chuẩn bị → ký duyệt → ban hành → kiểm tra:

export SOFTHSM2_CONF={files.softhsm_conf} TA_PIN={USER_PIN}
token-agent check --token LANH-DAO --token VAN-THU --pin-env TA_PIN --trust {files.root} --crl {files.crl}
token-agent prepare {files.draft} {folder}/1-chuan-bi.pdf --signer "{SIGNER}"
token-agent sign --role approve {folder}/1-chuan-bi.pdf {folder}/2-da-ky.pdf --token LANH-DAO --pin-env TA_PIN \\
    --signature-image {files.signature_image}
token-agent sign --role issue {folder}/2-da-ky.pdf {folder}/3-ban-hanh.pdf --token VAN-THU --pin-env TA_PIN \\
    --seal-image {files.seal_image} --number 01/UBND-VHTT --place "Văn Quan" --date {today} --trust {files.root}
token-agent verify {folder}/3-ban-hanh.pdf --trust {files.root} --crl {files.crl}""")
    return 0


def _pair(args: argparse.Namespace) -> int:
    pairing = pairings.pair(args.url, args.code, args.device_name)
    print(f"Đã ghép nối với {pairing.origin} cho tài khoản {pairing.account}.")
    return 0


def _pairings(args: argparse.Namespace) -> int:
    found = pairings.load_pairings()
    if not found:
        print("Chưa ghép nối với máy chủ nào.")
    for p in found.values():
        when = signing.vn_iso_time(p.paired_at)
        print(f"{p.origin}  {p.account}  ghép nối lúc {when}")
    return 0


def _unpair(args: argparse.Namespace) -> int:
    if not pairings.remove_pairing(args.url):
        raise TokenAgentError(f"Chưa ghép nối với {args.url}.", code="not_paired")
    print(f"Đã bỏ ghép nối với {pairings.normalise_origin(args.url)}.")
    return 0


def _serve(args: argparse.Namespace) -> int:
    host = service.check_loopback(args.host) if args.host else None
    configured = service.load_config()
    config = service.ServiceConfig(
        port=args.port,
        host=host,
        module_path=args.module or (str(configured["module"]) if "module" in configured else None),
        signature_image=args.signature_image,
        seal_image=args.seal_image,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    agent = service.AgentService(config)
    print(f"Dịch vụ ký số chạy tại http://127.0.0.1:{args.port} (Ctrl+C để dừng).", flush=True)
    service.run_forever(agent)
    return 0


_COMMANDS = {
    "check": _check,
    "prepare": _prepare,
    "sign": _sign,
    "verify": _verify,
    "demo": _demo,
    "pair": _pair,
    "pairings": _pairings,
    "unpair": _unpair,
    "serve": _serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for library in ("pyhanko", "pyhanko_certvalidator"):
        # their warnings (with tracebacks) become verdicts and check results here; keep the terminal readable
        logging.getLogger(library).setLevel(logging.CRITICAL)
    try:
        return _COMMANDS[args.command](args)
    except TokenAgentError as exc:
        print(f"Lỗi [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Lỗi [file_error]: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
