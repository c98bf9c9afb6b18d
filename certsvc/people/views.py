"""Administration pages of people: list with filter and search, details, create, edit.

Thin: permissions come from :mod:`certsvc.policy`, rules from :mod:`certsvc.people.service`.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

# SelectChoice is in WTForms 3.3 but not in its stubs (types-WTForms 3.2).
from wtforms import SelectChoice  # type: ignore[attr-defined]

from certsvc.core.records import to_id
from certsvc.errors import PermissionDenied
from certsvc.extensions import db
from certsvc.orgs.forms import org_choices
from certsvc.orgs.models import Organisation
from certsvc.orgs.service import list_in_tree_order
from certsvc.orgs.views import ORG_PAGE
from certsvc.people import service
from certsvc.people.forms import PeopleFilterForm, PersonForm
from certsvc.people.models import Person
from certsvc.policy import Permission, can, ensure, orgs_in_scope
from certsvc.ui.forms import RecordEditor
from certsvc.ui.navigation import NavLink
from certsvc.ui.parts import PageParts

bp = Blueprint("people", __name__, url_prefix="/admin/people")
NAV_LINKS = (NavLink("Cán bộ", "people.list_people", Permission.VIEW_PEOPLE, "Danh sách cán bộ"),)

PER_PAGE = 50
#: What capabilities above people add to the people pages, from the people shown (accounts: their login
#: accounts, as ``accounts`` by person id).
PEOPLE_PAGES = PageParts()
#: What capabilities above people add to one person's page, from the person (requests: the requests the
#: person's certificates need after leaving or moving, as ``follow_ups``).
PERSON_PAGE = PageParts()


def _units(scope: set[int], placeholder: str) -> list[SelectChoice]:
    return org_choices(list_in_tree_order(db.session, only=scope), placeholder)


@bp.get("/")
@login_required
def list_people():
    visible = orgs_in_scope(db.session, current_user, Permission.VIEW_PEOPLE)
    if not visible:
        raise PermissionDenied()
    form = PeopleFilterForm(request.args)
    form.organisation_id.choices = _units(visible, "— Tất cả đơn vị —")
    status, selected, units = 200, None, visible
    if form.organisation_id.data:
        selected = to_id(form.organisation_id.data)
        if selected not in visible:
            form.organisation_id.errors = ["Đơn vị không có trong danh sách bạn được xem."]
            status, selected, units = 400, None, set()
        else:
            units = {selected}
    result = service.find_people(db.session, units, form.q.data or "", request.args.get("page", 1, type=int), PER_PAGE)
    return render_template(
        "people/list.html",
        form=form,
        result=result,
        people=result.people,
        **PEOPLE_PAGES.values(result.people),
        selected=selected,
        can_create=can(db.session, current_user, Permission.MANAGE_PEOPLE),
    ), status


@bp.get("/<int:person_id>")
@login_required
def view_person(person_id: int):
    person = service.get_person(db.session, person_id)
    ensure(db.session, current_user, Permission.VIEW_PEOPLE, person.organisation_id)
    return render_template(
        "people/view.html",
        person=person,
        account=PEOPLE_PAGES.values([person])["accounts"].get(person.id),
        **PERSON_PAGE.values(person),
        can_edit=can(db.session, current_user, Permission.MANAGE_PEOPLE, person.organisation_id),
        can_view_org=can(db.session, current_user, Permission.VIEW_ORGS, person.organisation_id),
    )


@ORG_PAGE.add
def _people_of_org(org: Organisation) -> dict[str, object]:
    """The organisation's people, for whoever may see them, and whether the user may add one."""
    people = (
        service.people_of(db.session, org.id) if can(db.session, current_user, Permission.VIEW_PEOPLE, org.id) else None
    )
    return {
        "people": people,
        "can_add_person": can(db.session, current_user, Permission.MANAGE_PEOPLE, org.id),
        **PEOPLE_PAGES.values(people or []),
    }


def _prepare(form: PersonForm, person: Person | None) -> None:
    """The units where the user manages people, and the person's current one."""
    scope = orgs_in_scope(db.session, current_user, Permission.MANAGE_PEOPLE)
    if person is not None:
        scope.add(person.organisation_id)
    elif request.method == "GET":
        form.organisation_id.data = request.args.get("organisation_id", "")
    form.organisation_id.choices = _units(scope, "— Chọn đơn vị —")


RecordEditor(
    form=PersonForm,
    template="people/form.html",
    record_name="person",
    noun="cán bộ",
    title_attr="full_name",
    permission=Permission.MANAGE_PEOPLE,
    load=service.get_person,
    org_of=lambda person: person.organisation_id,
    create=service.create_person,
    update=service.update_person,
    prepare=_prepare,
).register(bp)
