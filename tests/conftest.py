"""Fixtures: a real database built by the migrations, the app, a browser-like client.

Each test gets its own database. SQLite: a copy of a file migrated once per run.
PostgreSQL (when ``CERTSVC_TEST_DATABASE_URL`` is set): a database created from a
template that was migrated once per run, dropped after the test. Creating and dropping are the server's disk
work: both run in a background thread, the next test's database made while the current test runs.
"""

from __future__ import annotations

import concurrent.futures
import functools
import itertools
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from certsvc import create_app
from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.accounts.passwords import hash_password
from certsvc.extensions import db
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person

PASSWORD = "Mat-khau-thu-2026"
PG_URL = os.environ.get("CERTSVC_TEST_DATABASE_URL")
#: The SoftHSM tokens and the documents world their tests sign in (``tokens``, ``dw``); the demo district.
pytest_plugins = ["tests.support.signing", "tests.support.demo"]

_counter = itertools.count()


def make_test_app(database_url: str, instance_path, **overrides):
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "tests-only-secret",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path),
    }
    config.update(overrides)
    return create_app(config)


def _migrate(database_url: str, instance_path) -> None:
    from flask_migrate import upgrade

    app = make_test_app(database_url, instance_path)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@functools.cache
def _admin_engine():
    """One pooled connection set per worker for creating and dropping databases."""
    return create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")


def _drop_database(name: str) -> None:
    with _admin_engine().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _create_database(name: str, template: str) -> str:
    with _admin_engine().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        # A test's database is thrown away: its commits need not wait for the disk.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    return name


class DatabaseSupply:
    """Databases copied from the template one test ahead, and dropped after their test, in background threads.

    Dropping a database makes PostgreSQL take a checkpoint, seconds when the tests have written much; drops
    that wait at the same moment share one, so many run at once (a dozen), and none holds up the next copy."""

    def __init__(self, template: str) -> None:
        self._template = template
        self._maker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="create-database")
        self._dropper = concurrent.futures.ThreadPoolExecutor(max_workers=12, thread_name_prefix="drop-database")
        self._next = self._order()

    def _order(self) -> concurrent.futures.Future[str]:
        name = f"certsvc_t_{os.getpid()}_{next(_counter)}"
        return self._maker.submit(_create_database, name, self._template)

    def take(self) -> str:
        """A new database of its own for the caller; the next one starts being made."""
        name, self._next = self._next.result(), self._order()
        return name

    def give_back(self, name: str) -> None:
        self._dropper.submit(_drop_database, name)

    def close(self) -> None:
        self.give_back(self._next.result())
        self._maker.shutdown(wait=True)
        self._dropper.shutdown(wait=True)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """A migrated database that every test's database is copied from: a SQLite file, or a PostgreSQL template
    with the supply of its copies."""
    instance = tmp_path_factory.mktemp("instance")
    if PG_URL is None:
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        url = f"sqlite:///{path}"
        _migrate(url, instance)
        yield ("sqlite", path)
        return
    name = f"certsvc_tmpl_{uuid.uuid4().hex[:10]}"
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    _migrate(make_url(PG_URL).set(database=name).render_as_string(hide_password=False), instance)
    supply = DatabaseSupply(name)
    yield ("postgresql", supply)
    supply.close()
    _drop_database(name)
    engine.dispose()


def copied_database(template, tmp_path) -> Iterator[str]:
    """The URL of a new copy of ``template`` (as :func:`template_database` yields it), for the length of a
    test; thrown away after."""
    kind, source = template
    if kind == "sqlite":
        path = tmp_path / "certsvc.sqlite"
        shutil.copyfile(source, path)
        yield f"sqlite:///{path}"
        return
    name = source.take()
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    source.give_back(name)


@pytest.fixture
def database_url(request, template_database, tmp_path):
    """The test's own database: migrated and empty, or holding the demo district for a test marked ``demo``
    (:mod:`tests.support.demo`)."""
    if request.node.get_closest_marker("demo"):
        template = request.getfixturevalue("demo_template").database
    else:
        template = template_database
    yield from copied_database(template, tmp_path)


@pytest.fixture
def app(database_url, tmp_path):
    """The application. No app context stays pushed: each request gets its own, as in production."""
    app = make_test_app(database_url, tmp_path / "instance")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build another app on the test's database with config ``overrides``; the environment counts as it is
    when called (``monkeypatch.setenv`` first). For settings the default ``app`` does not have."""
    apps = []

    def make(**overrides):
        apps.append(make_test_app(database_url, tmp_path / "instance", **overrides))
        return apps[-1]

    yield make
    for built in apps:
        with built.app_context():
            db.engine.dispose()


@pytest.fixture
def session(database_url):
    """A session of the test's own, on its own connection, to arrange data and check results."""
    engine = create_engine(database_url)
    with Session(engine) as test_session:
        yield test_session
    engine.dispose()


class Browser:
    """A test client that signs in like a person and sends the CSRF token like a browser."""

    _TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')

    def __init__(self, client):
        self.client = client
        self.csrf_token: str | None = None

    def _refresh_token(self) -> str:
        # Any page carries the token; signed in, /login leads to the home or password page.
        page = self.client.get("/login", follow_redirects=True).get_data(as_text=True)
        self.csrf_token = self._TOKEN.search(page).group(1)
        return self.csrf_token

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, *, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token or self._refresh_token())
        return self.client.post(url, data=data, **kwargs)

    def login(self, username: str, password: str = PASSWORD):
        self.csrf_token = None
        response = self.post("/login", {"username": username, "password": password})
        self._refresh_token()
        return response

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def browser(app):
    return Browser(app.test_client())


@pytest.fixture
def make_browser(app):
    return lambda: Browser(app.test_client())


@dataclass
class World:
    """A small district: province → district → its focal office, an office, two communes;
    one account per role (username = role value) with password ``PASSWORD``."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)

    def account(self, role: Role | str) -> Account:
        return self.accounts[str(role)]


def add_org(
    session,
    key_world: World | None,
    key: str,
    name: str,
    symbol: str,
    kind: OrgKind,
    parent: Organisation | None = None,
    **fields,
) -> Organisation:
    org = Organisation(name=name, symbol=symbol, kind=kind, parent=parent, **fields)
    session.add(org)
    session.flush()
    if key_world is not None:
        key_world.orgs[key] = org
    return org


def add_account(
    session,
    username: str,
    org: Organisation,
    *roles: tuple[Role, Organisation],
    full_name: str | None = None,
    password: str = PASSWORD,
) -> Account:
    person = Person(full_name=full_name or f"Cán bộ {username}", organisation=org, position="Chuyên viên")
    account = Account(person=person, username=username, password_hash=_hashed(password))
    for role, where in roles:
        account.roles.append(RoleAssignment(role=role, organisation=where))
    session.add(account)
    session.flush()
    return account


@functools.cache
def _hashed(password: str) -> str:
    # scrypt is slow by design; hash each test password once per run.
    return hash_password(password)


@pytest.fixture
def world(session) -> World:
    w = World()
    province = add_org(
        session, w, "province", "UBND tỉnh Lạng Sơn", "UBND", OrgKind.PROVINCE_COMMITTEE, agency_code="000.00.00.H40"
    )
    district = add_org(
        session,
        w,
        "district",
        "UBND huyện Văn Quan",
        "UBND",
        OrgKind.DISTRICT_COMMITTEE,
        province,
        agency_code="000.00.12.H40",
    )
    focal = add_org(session, w, "focal", "Phòng Văn hóa và Thông tin", "VHTT", OrgKind.OFFICE, district)
    add_org(session, w, "office", "Văn phòng HĐND và UBND huyện", "VP", OrgKind.OFFICE, district)
    add_org(session, w, "commune", "UBND xã Tân Đoàn", "UBND", OrgKind.COMMUNE_COMMITTEE, district)
    add_org(session, w, "other_commune", "UBND xã Yên Phúc", "UBND", OrgKind.COMMUNE_COMMITTEE, district)
    district.focal_office = focal
    placement = {
        Role.ADMINISTRATOR: "district",
        Role.FOCAL_OFFICER: "focal",
        Role.UNIT_OFFICER: "commune",
        Role.UNIT_HEAD: "commune",
        Role.REVIEWER: "office",
        Role.CLERK: "office",
        Role.AUDITOR: "district",
    }
    for role, where in placement.items():
        org = w.orgs[where]
        w.accounts[role.value] = add_account(session, role.value.replace("_", ""), org, (role, org))
    session.commit()
    return w


@pytest.fixture
def admin(browser, world) -> Browser:
    """The district's administrator, signed in (the organisation and people pages)."""
    browser.login("administrator")
    return browser


@pytest.fixture
def seal(session, world):
    """The commune's seal token in the custody register (custody, actor-name and input tests)."""
    from tests.support.custody import make_seal  # imported here: that module imports this one

    return make_seal(session, world)
