"""``certsvc bootstrap``: the first organisation and administrator of a new installation."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.accounts.passwords import hash_password, temporary_password
from certsvc.audit.service import Actor, record
from certsvc.cli_support import cli_actor_label
from certsvc.core.validation import FieldError, clean_agency_code, clean_symbol
from certsvc.extensions import db
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person

__all__ = ["bootstrap_command"]


@click.command("bootstrap")
@click.option("--org-name", required=True, help="Tên cơ quan gốc, ví dụ «UBND tỉnh Lạng Sơn».")
@click.option("--symbol", required=True, help="Ký hiệu dùng trong số văn bản, ví dụ UBND.")
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]), default=OrgKind.PROVINCE_COMMITTEE.value)
@click.option("--agency-code", default="", help="Mã định danh, ví dụ 000.00.00.H40.")
@click.option("--admin-username", required=True)
@click.option("--admin-name", required=True, help="Họ và tên người quản trị.")
@with_appcontext
def bootstrap_command(org_name, symbol, kind, agency_code, admin_username, admin_name) -> None:
    """Create the root organisation and its first administrator (only on an empty database)."""
    session = db.session
    if session.scalar(select(func.count()).select_from(Account)):
        raise click.ClickException("Cơ sở dữ liệu đã có tài khoản; dùng trang quản trị để thêm người dùng.")
    try:
        symbol = clean_symbol(symbol)
        agency_code = clean_agency_code(agency_code)
    except FieldError as error:
        raise click.ClickException(str(error)) from None
    org = Organisation(name=org_name.strip(), symbol=symbol, kind=OrgKind(kind), agency_code=agency_code)
    password = temporary_password()
    person = Person(full_name=admin_name.strip(), organisation=org)
    account = Account(
        person=person,
        username=admin_username.strip().lower(),
        password_hash=hash_password(password),
        must_change_password=True,
    )
    account.roles.append(RoleAssignment(organisation=org, role=Role.ADMINISTRATOR))
    session.add_all([org, person, account])
    session.flush()
    record(
        session,
        Actor(label=cli_actor_label()),
        "system.bootstrap",
        "organisation",
        org.id,
        {"organisation": org.name, "administrator": account.username},
    )
    session.commit()
    click.echo(f"Đã tạo {org.name} và tài khoản quản trị «{account.username}».")
    click.echo(f"Mật khẩu tạm thời (đổi ngay khi đăng nhập lần đầu): {password}")
