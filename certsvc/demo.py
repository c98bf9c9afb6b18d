"""``certsvc demo``: an example district, modelled on seed 000, served on 127.0.0.1:5000.

UBND huyện Văn Quan with its offices and communes, the Culture and Information
office (Phòng Văn hóa và Thông tin) as focal office, one login per role, and
documents in every state of the issuing cycle, signed with SoftHSM tokens the
demo makes under ``<instance>/demo-tokens`` (see :mod:`certsvc.documents.demo`).
Running it again upgrades the database and keeps what is already there.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import click
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import func, select
from werkzeug.serving import run_simple

from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.accounts.passwords import hash_password
from certsvc.audit.service import Actor, record
from certsvc.config import instance_path
from certsvc.custody.demo import load_demo as load_custody_demo
from certsvc.documents.demo import SEAL_TOKEN, SIGNER_TOKEN, TOKENS_FOLDER
from certsvc.documents.demo import load_demo as load_documents_demo
from certsvc.documents.settings import DocumentSettings
from certsvc.extensions import db
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person
from certsvc.readiness.demo import load_demo as load_readiness_demo
from certsvc.registry.demo import load_demo as load_registry_demo
from certsvc.registry.service import RegistrySettings
from certsvc.requests.demo import load_demo as load_requests_demo
from token_agent.demo import USER_PIN

__all__ = ["demo_command", "load_demo_data", "DEMO_PASSWORD", "DEMO_ACCOUNTS"]

#: Every demo account has this password; the demo is for trying the software, never for real data.
DEMO_PASSWORD = "VanQuan@2026"


@dataclass(frozen=True)
class _Org:
    key: str
    name: str
    symbol: str
    kind: OrgKind
    parent: str | None
    agency_code: str | None = None
    address: str | None = None
    email: str | None = None


_ORGS = (
    _Org(
        "tinh",
        "UBND tỉnh Lạng Sơn",
        "UBND",
        OrgKind.PROVINCE_COMMITTEE,
        None,
        "000.00.00.H40",
        "Số 1 đường Hoàng Văn Thụ, TP Lạng Sơn",
        "ubnd@langson.gov.vn",
    ),
    _Org(
        "huyen",
        "UBND huyện Văn Quan",
        "UBND",
        OrgKind.DISTRICT_COMMITTEE,
        "tinh",
        "000.00.12.H40",
        "Khu Đức Hinh, thị trấn Văn Quan, huyện Văn Quan",
        "ubndvq@langson.gov.vn",
    ),
    _Org("vp", "Văn phòng HĐND và UBND huyện", "VP", OrgKind.OFFICE, "huyen", "000.01.12.H40"),
    _Org(
        "vhtt",
        "Phòng Văn hóa và Thông tin",
        "VHTT",
        OrgKind.OFFICE,
        "huyen",
        "000.02.12.H40",
        email="vhtt.vq@langson.gov.vn",
    ),
    _Org("nv", "Phòng Nội vụ", "NV", OrgKind.OFFICE, "huyen", "000.03.12.H40"),
    _Org("tckh", "Phòng Tài chính - Kế hoạch", "TCKH", OrgKind.OFFICE, "huyen", "000.04.12.H40"),
    _Org("tp", "Phòng Tư pháp", "TP", OrgKind.OFFICE, "huyen", "000.05.12.H40"),
    _Org("gddt", "Phòng Giáo dục và Đào tạo", "GDĐT", OrgKind.OFFICE, "huyen", "000.06.12.H40"),
    _Org(
        "ttvh",
        "Trung tâm Văn hóa, Thể thao và Truyền thông",
        "TTVHTTTT",
        OrgKind.PUBLIC_SERVICE_UNIT,
        "huyen",
        "000.07.12.H40",
    ),
    _Org("tt", "UBND thị trấn Văn Quan", "UBND", OrgKind.COMMUNE_COMMITTEE, "huyen", "000.20.12.H40"),
    _Org("tandoan", "UBND xã Tân Đoàn", "UBND", OrgKind.COMMUNE_COMMITTEE, "huyen", "000.21.12.H40"),
    _Org("trangphai", "UBND xã Tràng Phái", "UBND", OrgKind.COMMUNE_COMMITTEE, "huyen", "000.22.12.H40"),
    _Org("yenphuc", "UBND xã Yên Phúc", "UBND", OrgKind.COMMUNE_COMMITTEE, "huyen", "000.23.12.H40"),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    position: str
    org: str
    role: Role
    #: Roles held elsewhere as well, as (role, organisation key).
    also: tuple[tuple[Role, str], ...] = ()


DEMO_ACCOUNTS = (
    DemoAccount("quantri", "Hoàng Minh Đức", "Chuyên viên công nghệ thông tin", "huyen", Role.ADMINISTRATOR),
    # Drafts the batches' proposal letters too (a document of Phòng Văn hóa và Thông tin for the committee).
    DemoAccount(
        "daumoi",
        "Lương Thị Hằng",
        "Chuyên viên Phòng Văn hóa và Thông tin",
        "vhtt",
        Role.FOCAL_OFFICER,
        also=((Role.UNIT_OFFICER, "vhtt"),),
    ),
    # The commune's văn phòng officer is also its clerk (văn thư): he receives the district's documents.
    DemoAccount(
        "canbo",
        "Vi Văn Tùng",
        "Công chức Văn phòng - Thống kê",
        "tandoan",
        Role.UNIT_OFFICER,
        also=((Role.CLERK, "tandoan"),),
    ),
    DemoAccount("thutruong", "Nông Văn Khánh", "Chủ tịch UBND xã", "tandoan", Role.UNIT_HEAD),
    # The Văn phòng checks what the offices submit to the committee's leaders: Phòng VHTT's letters too.
    DemoAccount(
        "lanhdaophong",
        "Đinh Thị Lan",
        "Chánh Văn phòng HĐND và UBND huyện",
        "vp",
        Role.REVIEWER,
        also=((Role.REVIEWER, "vhtt"),),
    ),
    DemoAccount("chuyenvien", "Vũ Thị Thu", "Chuyên viên Văn phòng HĐND và UBND huyện", "vp", Role.UNIT_OFFICER),
    DemoAccount("phochutich", "Lăng Văn Hùng", "Phó Chủ tịch UBND huyện", "huyen", Role.UNIT_HEAD),
    # Keeps the district committee's seal token too (handed over by vanthucu in the custody register).
    DemoAccount("vanthu", "Hà Thị Ngọc", "Văn thư", "vp", Role.CLERK, also=((Role.CLERK, "huyen"),)),
    # Still a clerk of the committee, no longer the seal token's keeper: the custody register says who is.
    DemoAccount("vanthucu", "Hoàng Thị Mai", "Văn thư (đã bàn giao thiết bị con dấu)", "huyen", Role.CLERK),
    DemoAccount("kiemtra", "Lộc Văn Sơn", "Thanh tra viên", "huyen", Role.AUDITOR),
)


def load_demo_data(registry_settings: RegistrySettings) -> bool:
    """Insert the example district unless an organisation already exists; True if inserted. The registry's
    deadlines and reminders follow ``registry_settings`` (the serving app's); the documents' signing tokens are
    made anew in the app's instance folder (:data:`certsvc.documents.demo.TOKENS_FOLDER`)."""
    session = db.session
    if session.scalar(select(func.count()).select_from(Organisation)):
        return False
    orgs: dict[str, Organisation] = {}
    for org_spec in _ORGS:
        org = Organisation(
            name=org_spec.name,
            symbol=org_spec.symbol,
            kind=org_spec.kind,
            agency_code=org_spec.agency_code,
            parent=orgs.get(org_spec.parent) if org_spec.parent else None,
            address=org_spec.address,
            email=org_spec.email,
        )
        session.add(org)
        orgs[org_spec.key] = org
    session.flush()
    # Seed 000: the district's Culture and Information office consolidates for every unit.
    orgs["huyen"].focal_office = orgs["vhtt"]
    people: dict[str, Person] = {}
    for account_spec in DEMO_ACCOUNTS:
        person = Person(
            full_name=account_spec.full_name,
            position=account_spec.position,
            organisation=orgs[account_spec.org],
            email=f"{account_spec.username}.vq@langson.gov.vn",
        )
        account = Account(person=person, username=account_spec.username, password_hash=hash_password(DEMO_PASSWORD))
        for role, org_key in ((account_spec.role, account_spec.org), *account_spec.also):
            account.roles.append(RoleAssignment(organisation=orgs[org_key], role=role))
        session.add(account)
        people[account_spec.username] = person
    session.flush()
    record(
        session,
        Actor(label="demo"),
        "system.demo_loaded",
        "organisation",
        orgs["huyen"].id,
        {"organisations": len(orgs), "accounts": [a.username for a in DEMO_ACCOUNTS]},
    )
    load_registry_demo(session, orgs, people, registry_settings)
    load_requests_demo(session, orgs, people)
    load_custody_demo(session, orgs, people)
    # The app's config gives the working hours that count the incoming documents' arrival.
    load_documents_demo(
        session,
        orgs,
        people,
        Path(current_app.instance_path) / TOKENS_FOLDER,
        DocumentSettings.from_config(current_app.config),
    )
    load_readiness_demo(
        session, orgs, people, Path(current_app.instance_path) / TOKENS_FOLDER, hash_password(DEMO_PASSWORD)
    )
    session.commit()
    return True


def _demo_secret(instance: Path) -> str:
    path = instance / "demo-secret-key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the database and exit.")
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Create or upgrade the database, load the example district and serve it."""
    from certsvc import create_app

    instance = instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    app = create_app(
        {"SECRET_KEY": _demo_secret(instance), "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}
    )
    with app.app_context():
        upgrade()
        inserted = load_demo_data(RegistrySettings.from_config(app.config))
        click.echo("Đã nạp dữ liệu mẫu huyện Văn Quan." if inserted else "Dữ liệu mẫu đã có sẵn; giữ nguyên.")
        click.echo(f"Cơ sở dữ liệu: {db.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"Tài khoản mẫu (mật khẩu chung: {DEMO_PASSWORD}):")
    for spec in DEMO_ACCOUNTS:
        click.echo(f"  {spec.username:<14} {spec.role.label}")
    click.echo(
        f"Thiết bị ký số mẫu {SIGNER_TOKEN}, {SEAL_TOKEN} (mã PIN {USER_PIN}): "
        f"SOFTHSM2_CONF={instance / TOKENS_FOLDER / 'softhsm2.conf'}"
    )
    if no_serve:
        return
    click.echo(f"Mở http://{host}:{port}/ để đăng nhập.")
    # Flask's app.run() refuses to start from inside the flask CLI; serve with Werkzeug directly.
    run_simple(host, port, app, threaded=True)
