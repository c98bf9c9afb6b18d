"""Flask extensions shared by every capability package."""

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session

# Stable constraint names, so that migrations generated on SQLite and PostgreSQL agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _Database(SQLAlchemy):
    if TYPE_CHECKING:
        # The scoped session forwards every call to the current request's Session, so code typed against
        # Session takes it as one; this one declaration keeps that fact out of every signature.
        session: Session  # type: ignore[assignment]


db = _Database(model_class=Base)

# The base of every model. Flask-SQLAlchemy builds db.Model at run time, which a type checker cannot
# follow; it is the declarative Base with a table name and a query property added.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
