"""``certsvc documents check FILE…``: the server's "Kiểm tra ký số" from the command line, with the anchors the
service holds; exit 1 unless every file is valid, a hostile file named with its reason, nothing stored."""

from __future__ import annotations

from sqlalchemy import func, select

from certsvc.documents.cli import documents_group
from certsvc.documents.models import StoredFile
from certsvc.registry.models import TrustAnchor
from tests.documents.test_incoming import _signed, encrypted
from token_agent.demo import make_draft


def test_check_reports_each_signature_and_the_verdict(app, session, tmp_path):
    signed, anchor = _signed(make_draft())
    good, unsigned, junk, locked = (tmp_path / name for name in ("ky.pdf", "chua-ky.pdf", "rac.pdf", "khoa.pdf"))
    good.write_bytes(signed)
    unsigned.write_bytes(make_draft())
    junk.write_bytes(b"not a pdf")
    locked.write_bytes(encrypted(b"mat-khau"))
    run = app.test_cli_runner().invoke

    untrusted = run(documents_group, ["check", str(good)])
    assert untrusted.exit_code == 1 and "không chuỗi tới chứng thư gốc" in untrusted.output

    session.add(TrustAnchor(**{c: getattr(anchor, c) for c in ("subject_dn", "sha256", "der", "not_after")}))
    session.commit()
    valid = run(documents_group, ["check", str(good)])
    assert valid.exit_code == 0, valid.output
    assert "Chữ ký ChuKy: TOTAL_PASSED" in valid.output and "Nguyễn Văn Nơi Gửi" in valid.output
    assert "Kết luận: hợp lệ, vào sổ được" in valid.output

    mixed = run(documents_group, ["check", str(good), str(unsigned), str(junk), str(locked)])
    assert mixed.exit_code == 1
    assert "không có chữ ký số" in mixed.output and "Tệp không phải PDF." in mixed.output
    assert "mật khẩu" in mixed.output and "Traceback" not in mixed.output
    assert session.scalar(select(func.count(StoredFile.sha256))) == 0
