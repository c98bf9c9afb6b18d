"""``certsvc documents check FILE…``: the server's "Kiểm tra ký số" of PDF files, with the trust anchors and CRLs
the service holds — what the incoming pages would report, without storing anything. For an administrator who
has just added an anchor or a CRL, or who wants to know why a received file is refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from certsvc.documents.files import MAX_FILE_BYTES, read_pdf_upload
from certsvc.documents.signature_report import check_signatures, refusal_reason, signature_checks
from certsvc.errors import ValidationFailed
from certsvc.extensions import db
from certsvc.timeutil import format_vietnam

__all__ = ["documents_group"]


@click.group("documents")
def documents_group() -> None:
    """Electronic documents."""


@documents_group.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def check_command(paths: tuple[Path, ...]) -> None:
    """Check the signatures of each FILE as the server does on arrival; exit 1 unless every file is valid."""
    all_valid = True
    for path in paths:
        click.echo(f"{path}:")
        try:
            with path.open("rb") as file:
                report = check_signatures(db.session, read_pdf_upload(file.read(MAX_FILE_BYTES + 1), "file"))
        except ValidationFailed as refused:
            all_valid = False
            click.echo(f"  Không kiểm tra được: {'; '.join(refused.field_errors.values())}")
            continue
        for line in signature_checks(report):
            kind = "Dấu thời gian" if line.is_timestamp else "Chữ ký"
            click.echo(f"  {kind} {line.field_name}: {line.verdict}" + (f" — {line.reason}" if line.reason else ""))
            click.echo(f"    Người ký: {line.signer}; {line.organisation or 'không rõ cơ quan'}")
            click.echo(
                f"    Ký lúc {format_vietnam(line.signing_time, with_seconds=True) or 'không rõ'}; "
                f"{'nguyên vẹn' if line.intact else 'KHÔNG nguyên vẹn'}; "
                f"{'chuỗi tới chứng thư gốc tin cậy' if line.chain_trusted else 'không chuỗi tới chứng thư gốc'}; "
                f"{'ĐÃ BỊ THU HỒI' if line.revoked else 'chưa bị thu hồi'}; {line.changes.lower()}"
            )
        reason = refusal_reason(report)
        all_valid = all_valid and reason is None
        click.echo(f"  Kết luận: {reason or 'hợp lệ, vào sổ được'}")
    db.session.rollback()  # nothing is kept: the check only reads
    if not all_valid:
        sys.exit(1)
