"""Administration pages of the organisation tree: list, details, create, edit.

Thin: permissions come from :mod:`certsvc.policy`, rules from :mod:`certsvc.orgs.service`.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from certsvc.errors import PermissionDenied
from certsvc.extensions import db
from certsvc.orgs import service
from certsvc.orgs.forms import OrganisationForm, org_choices
from certsvc.orgs.models import DEFAULT_RECIPIENT, Organisation
from certsvc.orgs.tree import OrgTree
from certsvc.policy import Permission, can, ensure, orgs_in_scope
from certsvc.ui.forms import RecordEditor
from certsvc.ui.navigation import NavLink
from certsvc.ui.parts import PageParts

bp = Blueprint("orgs", __name__, url_prefix="/admin/orgs")
NAV_LINKS = (NavLink("Tổ chức", "orgs.list_orgs", Permission.VIEW_ORGS, "Cơ cấu tổ chức và cơ quan đầu mối"),)
#: What capabilities above orgs add to an organisation's page, from the organisation (people: its people).
ORG_PAGE = PageParts()


def _scope(permission: Permission) -> set[int]:
    return orgs_in_scope(db.session, current_user, permission)


@bp.get("/")
@login_required
def list_orgs():
    visible = _scope(Permission.VIEW_ORGS)
    if not visible:
        raise PermissionDenied()
    rows = service.list_in_tree_order(db.session, only=visible)
    return render_template(
        "orgs/list.html",
        rows=rows,
        focal=service.focal_offices(db.session, [org for org, _ in rows]),
        manageable=_scope(Permission.MANAGE_ORGS),
    )


@bp.get("/<int:org_id>")
@login_required
def view_org(org_id: int):
    org = service.get_organisation(db.session, org_id)
    ensure(db.session, current_user, Permission.VIEW_ORGS, org.id)
    visible = _scope(Permission.VIEW_ORGS)
    return render_template(
        "orgs/view.html",
        org=org,
        visible=visible,
        focal=service.focal_offices(db.session, [org])[org.id],
        children=[child for child in org.children if child.id in visible],
        served=[o for o in service.served_organisations(db.session, org.id) if o.id in visible],
        default_recipient=DEFAULT_RECIPIENT,
        can_edit=can(db.session, current_user, Permission.MANAGE_ORGS, org.id),
        **ORG_PAGE.values(org),
    )


def _prepare(form: OrganisationForm, org: Organisation | None) -> None:
    """Parents the user may attach to (never the organisation's own subtree); active focal offices."""
    if org is None and request.method == "GET":
        form.parent_id.data = request.args.get("parent_id", "")
    everything = service.list_in_tree_order(db.session)
    parents = _scope(Permission.MANAGE_ORGS)
    if org is not None:
        parents -= OrgTree.load(db.session).subtree(org.id)
        if org.parent_id is not None:
            parents.add(org.parent_id)
    is_root = org is not None and org.parent_id is None
    no_parent = "— Không có (cấp cao nhất) —" if is_root else "— Chọn cơ quan cấp trên —"
    form.parent_id.choices = org_choices(service.list_in_tree_order(db.session, only=parents), no_parent)
    current_focal = org.focal_office_id if org is not None else None
    form.focal_office_id.choices = org_choices(
        ((o, depth) for o, depth in everything if o.is_active or o.id == current_focal), "— Theo cơ quan cấp trên —"
    )


RecordEditor(
    form=OrganisationForm,
    template="orgs/form.html",
    record_name="org",
    noun="tổ chức",
    title_attr="name",
    permission=Permission.MANAGE_ORGS,
    load=service.get_organisation,
    org_of=lambda org: org.id,
    create=service.create_organisation,
    update=service.update_organisation,
    prepare=_prepare,
).register(bp)
