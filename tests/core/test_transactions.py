"""A request that only read ends its transaction with COMMIT, so that psycopg keeps the statements it
prepared; whatever a request changed and did not commit itself is still thrown away."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text, update

from certsvc.extensions import db
from certsvc.orgs.models import Organisation
from tests.requests.test_requests_pages import signed_in


def ends_of_transactions(app, send) -> list[str]:
    """How the transactions of the requests ``send()`` makes end: "commit" or "rollback", in order."""
    with app.app_context():
        engine = db.engine
    ends: list[str] = []
    listeners = {"commit": lambda conn: ends.append("commit"), "rollback": lambda conn: ends.append("rollback")}
    for name, listener in listeners.items():
        event.listen(engine, name, listener)
    try:
        send()
    finally:
        for name, listener in listeners.items():
            event.remove(engine, name, listener)
    return ends


def test_a_page_that_only_reads_ends_with_commit(app, make_browser, world):
    focal = signed_in(make_browser, "focalofficer")
    ends = ends_of_transactions(app, lambda: focal.get("/requests/queue"))
    assert ends == ["commit"]


@pytest.mark.parametrize("way", ["flushed", "pending", "core", "connection"])
def test_a_change_a_request_did_not_commit_is_rolled_back(make_app, session, world, way):
    app = make_app()
    commune_id = world.orgs["commune"].id

    @app.get("/test-only/rename")
    def rename():
        if way == "core":
            db.session.execute(update(Organisation).where(Organisation.id == commune_id).values(name="Tên chưa lưu"))
        elif way == "connection":
            db.session.connection().execute(
                text("UPDATE organisation SET name = 'Tên chưa lưu' WHERE id = :id"), {"id": commune_id}
            )
        else:
            org = db.session.get(Organisation, commune_id)
            org.name = "Tên chưa lưu"
            if way == "flushed":
                db.session.flush()
        return "ok"

    ends = ends_of_transactions(app, lambda: app.test_client().get("/test-only/rename"))
    assert ends == ["rollback"]
    assert session.scalar(select(Organisation.name).where(Organisation.id == commune_id)) == "UBND xã Tân Đoàn"


def test_postgresql_keeps_the_lists_prepared_statements_between_pages(app, make_browser, world):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("prepared statements are PostgreSQL's")
    focal = signed_in(make_browser, "focalofficer")
    for _ in range(8):  # psycopg prepares a statement after its fifth run on a connection
        assert focal.get("/requests/queue?status=").status_code == 200
    with app.app_context():
        prepared = db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("FROM certificate_request" in statement for statement in prepared)
