"""Who reaches which organisation: the scope rules of certsvc.policy."""

from sqlalchemy import text

from certsvc.accounts.models import Role
from certsvc.orgs.models import OrgKind
from certsvc.orgs.tree import OrgTree
from certsvc.policy import Permission, can, orgs_in_scope
from tests.conftest import add_account, add_org


def test_administrator_reaches_the_subtree_only(session, world):
    admin = world.account(Role.ADMINISTRATOR)
    scope = orgs_in_scope(session, admin, Permission.MANAGE_ORGS)
    assert world.orgs["commune"].id in scope and world.orgs["district"].id in scope
    assert world.orgs["province"].id not in scope


def test_focal_officer_reaches_the_units_it_serves(session, world):
    focal = world.account(Role.FOCAL_OFFICER)
    scope = orgs_in_scope(session, focal, Permission.VIEW_ORGS)
    served = {world.orgs[k].id for k in ("district", "focal", "office", "commune", "other_commune")}
    assert served <= scope
    assert world.orgs["province"].id not in scope
    assert not can(session, focal, Permission.MANAGE_ORGS, world.orgs["commune"].id)


def test_two_tier_structure_any_office_can_be_focal(session, world):
    # Since 1 July 2025: a commune directly under the province, served by a provincial department.
    province = world.orgs["province"]
    department = add_org(session, None, "dept", "Sở Khoa học và Công nghệ", "SKHCN", OrgKind.AGENCY, province)
    commune = add_org(
        session,
        None,
        "new",
        "UBND xã Văn Quan",
        "UBND",
        OrgKind.COMMUNE_COMMITTEE,
        province,
        focal_office_id=department.id,
    )
    officer = add_account(session, "chuyenvien", department, (Role.FOCAL_OFFICER, department))
    session.commit()
    tree = OrgTree.load(session)
    assert tree.effective_focal_office(commune.id) == department.id
    assert tree.effective_focal_office(world.orgs["commune"].id) == world.orgs["focal"].id
    scope = orgs_in_scope(session, officer, Permission.VIEW_ORGS)
    assert commune.id in scope and world.orgs["commune"].id not in scope


ADMINISTRATION = {
    Permission.VIEW_ORGS,
    Permission.MANAGE_ORGS,
    Permission.MANAGE_PEOPLE,
    Permission.VIEW_ACCOUNTS,
    Permission.MANAGE_ACCOUNTS,
    Permission.IMPORT_DATA,
    Permission.VIEW_AUDIT,
}


def test_unit_roles_have_no_administration(session, world):
    for role in (Role.UNIT_OFFICER, Role.UNIT_HEAD, Role.REVIEWER, Role.CLERK):
        account = world.account(role)
        assert not any(can(session, account, permission) for permission in ADMINISTRATION)


def test_custody_is_seen_only_by_head_clerk_focal_office_and_auditor(session, world):
    commune = world.orgs["commune"].id
    seeing = {role for role in Role if can(session, world.account(role), Permission.VIEW_CUSTODY, commune)}
    # The world's clerk works at the district office, not the commune: it does not see the commune's items.
    assert seeing == {Role.UNIT_HEAD, Role.FOCAL_OFFICER, Role.AUDITOR}
    office = world.orgs["office"].id
    assert can(session, world.account(Role.CLERK), Permission.VIEW_CUSTODY, office)
    assert not can(session, world.account(Role.ADMINISTRATOR), Permission.VIEW_CUSTODY, office)


def test_disabled_account_can_do_nothing(session, world):
    admin = world.account(Role.ADMINISTRATOR)
    admin.is_disabled = True
    assert not can(session, admin, Permission.VIEW_ORGS)
    assert orgs_in_scope(session, admin, Permission.VIEW_ORGS) == set()


def tree_version(session) -> str:
    return session.scalar(text("SELECT version FROM organisation_tree_version"))


def test_every_kind_of_change_to_the_organisations_renews_the_tree_version(session, world):
    # Triggers, not the service, renew it: these statements bypass the service entirely.
    seen = {tree_version(session)}
    district = world.orgs["district"].id
    for statement in (
        "INSERT INTO organisation (name, symbol, kind, parent_id, is_active, created_at) "
        "VALUES ('UBND xã Thử Nghiệm Phiên Bản', 'UBND', 'commune_committee', :district, true, CURRENT_TIMESTAMP)",
        "UPDATE organisation SET name = 'UBND xã Thử Nghiệm Phiên Bản mới' WHERE name = 'UBND xã Thử Nghiệm Phiên Bản'",
        "DELETE FROM organisation WHERE name = 'UBND xã Thử Nghiệm Phiên Bản mới'",
    ):
        session.execute(text(statement), {"district": district} if ":district" in statement else {})
        session.commit()
        seen.add(tree_version(session))
    assert len(seen) == 4


def test_a_change_made_outside_the_service_reaches_the_next_transaction(session, world):
    commune = world.orgs["commune"].id
    before = OrgTree.load(session)
    session.rollback()
    assert OrgTree.load(session) is before  # kept by the process: the same tree, not read again
    session.rollback()
    engine = session.get_bind()
    with engine.begin() as connection:
        connection.execute(text("UPDATE organisation SET name = 'UBND xã Đồng Giáp' WHERE id = :id"), {"id": commune})
    after = OrgTree.load(session)
    assert after.name[commune] == "UBND xã Đồng Giáp"
    assert before.name[commune] != after.name[commune]


def test_a_transaction_sees_its_own_change_to_the_tree_and_a_rollback_forgets_it(session, world):
    commune, office = world.orgs["commune"], world.orgs["office"]
    assert OrgTree.load(session).effective_focal_office(commune.id) == world.orgs["focal"].id
    commune.focal_office_id = office.id
    session.flush()
    assert OrgTree.load(session).effective_focal_office(commune.id) == office.id
    session.rollback()
    assert OrgTree.load(session).effective_focal_office(commune.id) == world.orgs["focal"].id
