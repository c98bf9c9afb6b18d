"""Foundation routes: sign-in, home, health, administration, import, audit."""

from certsvc.accounts.models import Role
from tests.conftest import add_account
from tests.matrix_roles import ADMIN, EVERYONE, ORG_READERS, PEOPLE_READERS, READERS

ROUTES = {
    "core.index": EVERYONE,
    "auth.change_password": EVERYONE,
    "auth.logout": EVERYONE,
    "auth.login": EVERYONE,
    "core.healthz": EVERYONE,
    "static": EVERYONE,
    "orgs.list_orgs": ORG_READERS,
    "orgs.view_org": ORG_READERS,
    "orgs.new_org": ADMIN,
    "orgs.edit_org": ADMIN,
    "people.list_people": PEOPLE_READERS,
    "people.view_person": PEOPLE_READERS,
    "people.new_person": ADMIN,
    "people.edit_person": ADMIN,
    "accounts_admin.list_accounts": READERS,
    "accounts_admin.view_account": READERS,
    "accounts_admin.new_account": ADMIN,
    "accounts_admin.reset_password": ADMIN,
    "accounts_admin.disable": ADMIN,
    "accounts_admin.enable": ADMIN,
    "accounts_admin.unlock": ADMIN,
    "accounts_admin.grant_role": ADMIN,
    "accounts_admin.revoke_role": ADMIN,
    "imports.upload": ADMIN,
    "imports.sample": ADMIN,
    "audit.list_entries": READERS,
    "audit.export_csv": READERS,
}


def targets(session, world) -> dict:
    """Records in a commune, owned by nobody who signs in during the test."""
    commune = world.orgs["commune"]
    victim = add_account(session, "nannhan", commune, (Role.UNIT_OFFICER, commune))
    session.commit()
    return {
        "org_id": commune.id,
        "person_id": victim.person_id,
        "account_id": victim.id,
        "assignment_id": victim.roles[0].id,
        "name": "to_chuc",
        "filename": "app.css",
    }
