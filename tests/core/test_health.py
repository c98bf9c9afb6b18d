"""``/healthz``: the database answers and the schema is at the newest migration."""

from sqlalchemy import text

from certsvc.ui.health import head_revisions
from tests.conftest import make_test_app


def test_healthy_service_reports_head(browser):
    response = browser.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["migrations"] == "head"
    assert body["revision"] == list(head_revisions())


def test_schema_behind_head_is_reported(browser, session):
    session.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    session.commit()
    response = browser.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["migrations"] == "behind"


def test_unreachable_database_is_reported(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path}/missing-dir/none.sqlite", tmp_path / "instance")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
