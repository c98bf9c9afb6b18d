"""Account and role administration: list, details, new accounts, and the actions on them.

Thin views: each checks the permission first (403), then finds the records (404),
then validates the input (400), then calls the service, which checks again and
writes the audit entry. A refused action changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from certsvc.accounts import administration
from certsvc.accounts.admin_forms import (
    AccountFilterForm,
    GrantRoleForm,
    NewAccountForm,
    person_choices,
)
from certsvc.accounts.forms import entered
from certsvc.accounts.models import Account
from certsvc.accounts.views import sign_in
from certsvc.core.records import to_id
from certsvc.errors import Conflict, ValidationFailed
from certsvc.extensions import db
from certsvc.orgs.forms import org_choices
from certsvc.orgs.service import get_organisation, list_in_tree_order
from certsvc.people.models import Person
from certsvc.people.views import PEOPLE_PAGES
from certsvc.policy import Permission, can, ensure, orgs_in_scope
from certsvc.timeutil import utcnow
from certsvc.ui.forms import apply_field_errors
from certsvc.ui.navigation import NavLink
from certsvc.ui.parts import PageParts

bp = Blueprint("accounts_admin", __name__, url_prefix="/admin/accounts")
NAV_LINKS = (NavLink("Tài khoản", "accounts_admin.list_accounts", Permission.VIEW_ACCOUNTS, "Tài khoản và phân quyền"),)
#: What capabilities above accounts show on an account's page (its paired signing agents), given the account
#: and whether the viewer manages it.
ACCOUNT_PAGE = PageParts()


@PEOPLE_PAGES.add
def _accounts_of_people(people: list[Person]) -> dict[str, object]:
    return {"accounts": administration.accounts_of(db.session, people)}


_RACE_MESSAGE = "Dữ liệu vừa được người khác thay đổi. Vui lòng tải lại trang và thử lại."


def _me() -> Account:
    return current_user._get_current_object()


def _scoped_orgs(permission: Permission):
    return list_in_tree_order(db.session, orgs_in_scope(db.session, _me(), permission))


def _account_for(permission: Permission, account_id: int) -> Account:
    """The account, once the user is known to hold ``permission`` somewhere (403), the
    account exists (404) and its person's unit is in the user's scope (403)."""
    ensure(db.session, _me(), permission)
    account = administration.get_account(db.session, account_id)
    ensure(db.session, _me(), permission, account.person.organisation_id)
    return account


def _grant_form() -> GrantRoleForm:
    form = GrantRoleForm()
    form.organisation_id.choices = org_choices(_scoped_orgs(Permission.MANAGE_ACCOUNTS), "— Chọn tổ chức —")
    return form


def _account_page(account: Account, grant_form: GrantRoleForm | None = None, status: int = 200):
    me = _me()
    manages = can(db.session, me, Permission.MANAGE_ACCOUNTS, account.person.organisation_id)
    return render_template(
        "accounts/view.html",
        account=account,
        manages=manages,
        manageable=orgs_in_scope(db.session, me, Permission.MANAGE_ACCOUNTS) if manages else set(),
        grant_form=(grant_form or _grant_form()) if manages else None,
        locked=administration.is_locked(account),
        now=utcnow(),
        **ACCOUNT_PAGE.values(account, manages),
    ), status


def _one_time_password_page(account: Account, password: str, created: bool):
    """The only place the password is ever shown: this response (never cached, see web.py)."""
    return render_template("accounts/password.html", account=account, password=password, created=created)


def _act(account_id: int, action: Callable[[], object], done: str, category: str = "success"):
    """Run a service action; commit and say ``done``, or roll back and say why not."""
    try:
        action()
    except Conflict as conflict:
        db.session.rollback()
        flash(conflict.message, "error")
    except IntegrityError:
        db.session.rollback()
        flash(_RACE_MESSAGE, "error")
    else:
        db.session.commit()
        flash(done, category)
    return redirect(url_for(".view_account", account_id=account_id))


@bp.get("/")
@login_required
def list_accounts():
    ensure(db.session, _me(), Permission.VIEW_ACCOUNTS)
    form = AccountFilterForm(formdata=request.args)
    form.organisation_id.choices = org_choices(_scoped_orgs(Permission.VIEW_ACCOUNTS), "Mọi tổ chức")
    if not form.validate():
        return render_template("accounts/list.html", form=form, result=None, filters={}), 400
    result = administration.find_accounts(
        db.session,
        _me(),
        org_id=form.organisation_id.data,
        state=form.state.data,
        page=request.args.get("page", 1, type=int),
    )
    filters = {name: request.args[name] for name in ("organisation_id", "state") if request.args.get(name)}
    return render_template("accounts/list.html", form=form, result=result, filters=filters, now=utcnow())


@bp.get("/<int:account_id>")
@login_required
def view_account(account_id: int):
    return _account_page(_account_for(Permission.VIEW_ACCOUNTS, account_id))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_account():
    me = _me()
    ensure(db.session, me, Permission.MANAGE_ACCOUNTS)
    people = {person.id: person for person in administration.people_without_account(db.session, me)}
    form = NewAccountForm()
    form.person_id.choices = person_choices(people.values())
    notice = None
    if request.method == "GET":
        wanted = request.args.get("person_id")
        if wanted and to_id(wanted) in people:
            form.person_id.data = to_id(wanted)
        elif wanted:
            notice = (
                "Cán bộ được chọn đã có tài khoản hoặc không thuộc phạm vi bạn quản lý. Vui lòng chọn trong danh sách."
            )
        return render_template("accounts/new.html", form=form, notice=notice, has_people=bool(people))
    if form.validate_on_submit():
        try:
            account, password = administration.create_account(
                db.session, me, people[form.person_id.data], entered(form.username)
            )
        except ValidationFailed as failure:
            db.session.rollback()
            apply_field_errors(form, failure)
        except IntegrityError:
            db.session.rollback()
            form.form_errors.append(_RACE_MESSAGE)
        else:
            db.session.commit()
            return _one_time_password_page(account, password, created=True)
    return render_template("accounts/new.html", form=form, notice=None, has_people=bool(people)), 400


@bp.post("/<int:account_id>/reset-password")
@login_required
def reset_password(account_id: int):
    account = _account_for(Permission.MANAGE_ACCOUNTS, account_id)
    password = administration.reset_password(db.session, _me(), account)
    if account.id == _me().id:
        sign_in(account)  # every session ended: this browser gets a new one, which must change the password
    db.session.commit()
    return _one_time_password_page(account, password, created=False)


def _set_disabled(account_id: int, disabled: bool):
    account = _account_for(Permission.MANAGE_ACCOUNTS, account_id)
    if account.is_disabled == disabled:
        done, category = "Tài khoản đã ở trạng thái này từ trước; không có gì thay đổi.", "info"
    elif disabled:
        done = (
            f"Đã vô hiệu hóa tài khoản {account.username}. Mọi phiên đăng nhập và khóa API của tài khoản đã kết thúc."
        )
        category = "success"
    else:
        done, category = f"Đã kích hoạt lại tài khoản {account.username}.", "success"
    return _act(account_id, lambda: administration.set_disabled(db.session, _me(), account, disabled), done, category)


@bp.post("/<int:account_id>/disable")
@login_required
def disable(account_id: int):
    return _set_disabled(account_id, True)


@bp.post("/<int:account_id>/enable")
@login_required
def enable(account_id: int):
    return _set_disabled(account_id, False)


@bp.post("/<int:account_id>/unlock")
@login_required
def unlock(account_id: int):
    account = _account_for(Permission.MANAGE_ACCOUNTS, account_id)
    if account.locked_until is None and account.failed_login_count == 0:
        done, category = "Tài khoản không bị khóa; không có gì thay đổi.", "info"
    else:
        done, category = f"Đã mở khóa tài khoản {account.username}.", "success"
    return _act(account_id, lambda: administration.unlock(db.session, _me(), account), done, category)


@bp.post("/<int:account_id>/roles")
@login_required
def grant_role(account_id: int):
    account = _account_for(Permission.MANAGE_ACCOUNTS, account_id)
    form = _grant_form()
    if not form.validate_on_submit():
        return _account_page(account, form, 400)
    org, role = get_organisation(db.session, form.organisation_id.data), form.role.data
    return _act(
        account_id,
        lambda: administration.grant_role(db.session, _me(), account, org.id, role),
        f"Đã giao vai trò {role.label} tại {org.name} cho tài khoản {account.username}.",
    )


@bp.post("/<int:account_id>/roles/<int:assignment_id>/revoke")
@login_required
def revoke_role(account_id: int, assignment_id: int):
    account = _account_for(Permission.MANAGE_ACCOUNTS, account_id)
    assignment = administration.get_assignment(db.session, account, assignment_id)
    return _act(
        account_id,
        lambda: administration.revoke_role(db.session, _me(), assignment),
        f"Đã thu hồi vai trò {assignment.role.label} tại {assignment.organisation.name} "
        f"của tài khoản {account.username}.",
    )
