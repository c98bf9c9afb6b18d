"""certsvc: certificates, USB tokens and electronic document issuing for public offices."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from certsvc.config import PROJECT_ROOT, load_config
from certsvc.config import instance_path as default_instance_path

__all__ = ["create_app"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLite enforces foreign keys only when asked, per connection.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        # Write-ahead log: a commit is one fsync of the log (about 4 ms here, against 16-20 ms with the rollback
        # journal), and pages being read never hold up a writer. FULL keeps every committed record on disk.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
        # SQLite's lower() folds ASCII only: "QUYẾT" would not find "quyết". Python's folds every letter,
        # as PostgreSQL's does, so searches behave the same on both.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def create_app(overrides: dict | None = None, *, require_secret: bool = True) -> Flask:
    """Build the application. ``overrides`` replace environment settings (demo, tests); commands that do not
    serve pages build it without ``require_secret``."""
    overrides = dict(overrides or {})
    instance_path = Path(overrides.pop("INSTANCE_PATH", None) or default_instance_path())
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(instance_path, overrides, require_secret=require_secret))
    logging.getLogger("certsvc").setLevel(app.config["CERTSVC_LOG_LEVEL"])

    if app.config["CERTSVC_BEHIND_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Flask's documented way to add WSGI middleware replaces the wsgi_app method on the instance, which
        # Flask's typing (a method) cannot express.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    from certsvc.core.transactions import end_reading_transactions_with_commit
    from certsvc.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    end_reading_transactions_with_commit(app, db)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from certsvc import models  # noqa: F401  (registers every table on the metadata)
    from certsvc.web import register_web

    register_web(app)
    return app
