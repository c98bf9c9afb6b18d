"""Shared set-up of the custody benchmarks: a migrated SQLite database with one unit, keeper and seal token."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from certsvc import create_app
from certsvc.extensions import db
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person
from certsvc.registry.models import Token, TokenKind


def database(folder: str) -> tuple[str, int, int]:
    """A migrated SQLite database in ``folder``; returns its URL, the token id and the keeper id."""
    url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": folder})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    engine = create_engine(url)
    with Session(engine) as session:
        unit = Organisation(name="UBND xã Tân Đoàn", symbol="UBND", kind=OrgKind.COMMUNE_COMMITTEE)
        keeper = Person(full_name="Hoàng Thị Thu", organisation=unit)
        token = Token(serial="540101A1B2C3", kind=TokenKind.ORGANISATION, organisation=unit, is_secret=True)
        session.add_all([unit, keeper, token])
        session.commit()
        ids = token.id, keeper.id
    engine.dispose()
    return (url, *ids)


def temporary_folder(where: str | None = None) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="certsvc-bench-", dir=where)


def median_seconds(run: Callable[[], object], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)
