"""Alembic environment, run through Flask-Migrate (``certsvc db ...``) and the tests."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from certsvc.timeutil import UTCDateTime

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging_config"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Write the app's column types as plain SQLAlchemy types, so revisions never import the app (its models,
    types or settings); their only import from the package is the dependency-free :mod:`certsvc.db_guard`."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _options() -> dict:
    return {
        "target_metadata": target_db.metadata,
        "render_item": render_item,
        "compare_type": True,
        "render_as_batch": True,  # SQLite alters tables by copying them
    }


def run_migrations_offline() -> None:
    context.configure(url=str(target_db.engine.url), literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_revisions(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    with target_db.engine.connect() as connection:
        context.configure(connection=connection, process_revision_directives=skip_empty_revisions, **_options())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
