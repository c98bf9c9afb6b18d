"""The demo district, loaded once per test process and copied for each test marked ``demo``.

Loading the demo makes SoftHSM tokens and signs documents with them (several seconds); a test marked
``@pytest.mark.demo`` gets a database already holding it, copied as the empty one is (``database_url``), and
finds the demo's tokens, images and root certificate in ``demo_template.instance / TOKENS_FOLDER``. The tests
share that folder: they sign with the tokens and never change them. The marker also groups the tests
(``xdist_group("demo")``) and marks them ``pkcs11``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import make_url

from certsvc.demo import load_demo_data
from certsvc.extensions import db
from certsvc.registry.service import RegistrySettings
from tests.conftest import PG_URL, DatabaseSupply, make_test_app


@dataclass(frozen=True)
class DemoTemplate:
    #: What ``copied_database`` copies: ``("sqlite", path)`` or ``("postgresql", supply)``.
    database: tuple[str, object]
    #: The instance folder the demo was loaded with (its tokens are under ``TOKENS_FOLDER``).
    instance: Path


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "demo: the test's database holds the demo district (tests/support/demo.py)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items) -> None:
    """Before xdist reads the groups: a demo test is a SoftHSM test of the ``demo`` group."""
    for item in items:
        if item.get_closest_marker("demo"):
            item.add_marker(pytest.mark.pkcs11)
            item.add_marker(pytest.mark.xdist_group("demo"))


@pytest.fixture(scope="session")
def demo_template(template_database, tmp_path_factory):
    """A database with the demo loaded (by the same call as ``certsvc demo``), kept as a template."""
    folder = tmp_path_factory.mktemp("demo")
    kind, source = template_database
    if kind == "sqlite":
        path = folder / "demo.sqlite"
        shutil.copyfile(source, path)
        url = f"sqlite:///{path}"
    else:
        name = source.take()
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    app = make_test_app(url, folder / "instance")
    with app.app_context():
        assert load_demo_data(RegistrySettings.from_config(app.config))
        db.engine.dispose()  # a PostgreSQL template must have no connections
    if kind == "sqlite":
        yield DemoTemplate(("sqlite", path), folder / "instance")
        return
    supply = DatabaseSupply(name)
    yield DemoTemplate(("postgresql", supply), folder / "instance")
    supply.close()
    source.give_back(name)
