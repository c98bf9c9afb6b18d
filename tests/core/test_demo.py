"""``certsvc demo``: the example district with one account per role."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from certsvc.audit.models import AuditEntry
from certsvc.auditview.labels import action_label, object_type_label
from certsvc.cli import cli
from certsvc.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from certsvc.orgs.models import Organisation
from tests.conftest import Browser

# The demo signs its documents with SoftHSM tokens (certsvc.documents.demo): one test loads it through the
# command; the others get a copy of the demo loaded once (tests/support/demo.py).

# What each demo role finds in the navigation bar, and nothing more.
ADMINISTRATION = {"Tổ chức", "Cán bộ", "Tài khoản", "Nhập dữ liệu", "Nhật ký"}
REGISTRY = {"Chứng thư số", "Thiết bị ký số", "Hạn chứng thư"}
CUSTODY = {"Sổ theo dõi thiết bị"}
OUTGOING = {"Văn bản đi", "Văn bản đến"}
REPORT = {"Báo cáo ký số"}
NAVIGATION = ADMINISTRATION | REGISTRY | CUSTODY | OUTGOING | REPORT | {"Đề nghị", "Tiếp nhận", "Đợt tổng hợp"}
NAVIGATION |= {"Chứng thư gốc tin cậy"}
EXPECTED_NAV = {
    "quantri": ADMINISTRATION | {"Chứng thư gốc tin cậy"},
    "kiemtra": {"Tổ chức", "Cán bộ", "Tài khoản", "Nhật ký", "Đề nghị"} | REGISTRY | CUSTODY | OUTGOING | REPORT,
    "daumoi": {"Tổ chức", "Cán bộ", "Đề nghị", "Tiếp nhận", "Đợt tổng hợp"} | REGISTRY | CUSTODY | OUTGOING | REPORT,
    "thutruong": {"Cán bộ", "Đề nghị"} | REGISTRY | CUSTODY | OUTGOING | REPORT,
    # Also the commune's clerk: receives the district's documents, keeps the commune's seal token.
    "canbo": {"Đề nghị"} | REGISTRY | CUSTODY | OUTGOING,
    "lanhdaophong": OUTGOING,
    "chuyenvien": {"Đề nghị"} | REGISTRY | OUTGOING,
    "phochutich": {"Cán bộ", "Đề nghị"} | REGISTRY | CUSTODY | OUTGOING | REPORT,
    "vanthu": REGISTRY | CUSTODY | OUTGOING,
    "vanthucu": REGISTRY | CUSTODY | OUTGOING,
}


def _demo_command(database_url: str, instance: Path, monkeypatch) -> str:
    monkeypatch.setenv("CERTSVC_DATABASE_URL", database_url)
    monkeypatch.setenv("CERTSVC_INSTANCE_PATH", str(instance))
    result = CliRunner().invoke(cli, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.pkcs11
@pytest.mark.xdist_group("demo")
def test_demo_prints_every_account(database_url, tmp_path, monkeypatch):
    output = _demo_command(database_url, tmp_path / "demo-instance", monkeypatch)
    assert DEMO_PASSWORD in output
    for spec in DEMO_ACCOUNTS:
        assert spec.username in output
    assert {spec.role for spec in DEMO_ACCOUNTS} == set(type(DEMO_ACCOUNTS[0].role))


@pytest.mark.demo
def test_demo_is_idempotent(database_url, session, demo_template, monkeypatch):
    count = session.scalar(select(func.count()).select_from(Organisation))
    assert "giữ nguyên" in _demo_command(database_url, demo_template.instance, monkeypatch)
    assert session.scalar(select(func.count()).select_from(Organisation)) == count
    assert session.scalar(select(Organisation).where(Organisation.name == "Phòng Văn hóa và Thông tin")) is not None


def _navigation(page: str) -> set[str]:
    bar = re.search(r'<nav class="mainnav".*?</nav>', page, re.S).group(0)
    return {label for label in NAVIGATION if f">{label}</a>" in bar}


@pytest.mark.demo
def test_each_demo_role_sees_only_its_menu(app):
    seen = {}
    for username in EXPECTED_NAV:  # one demo for all: loading it signs documents with SoftHSM tokens
        browser = Browser(app.test_client())
        assert browser.login(username, DEMO_PASSWORD).status_code == 302
        seen[username] = _navigation(browser.get("/").get_data(as_text=True))
    assert seen == EXPECTED_NAV


@pytest.mark.demo
def test_every_audit_entry_of_the_demo_is_named_in_vietnamese(session):
    """The demo walks every capability: each action and object type it audits has a Vietnamese name on the
    audit log page (a new action without one shows its bare code to the auditor)."""
    entries = session.execute(select(AuditEntry.action, AuditEntry.object_type).distinct()).all()
    assert len(entries) > 20
    unnamed = {action for action, _ in entries if action_label(action) == action}
    unnamed |= {kind for _, kind in entries if kind and object_type_label(kind) == kind}
    assert unnamed == set()


@pytest.mark.demo
def test_the_district_s_inspector_reads_the_documents_audit_entries(app):
    """Entries about documents and readiness reports belong to their units: the district's inspector sees them."""
    browser = Browser(app.test_client())
    assert browser.login("kiemtra", DEMO_PASSWORD).status_code == 302
    for kind in ("outgoing_document", "check_report"):
        page = browser.get(f"/audit/?object_type={kind}").get_data(as_text=True)
        assert "Kết quả:" in page and "Không có mục nào khớp bộ lọc." not in page, kind
