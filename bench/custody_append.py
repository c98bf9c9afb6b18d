"""Benchmark: append custody entries on SQLite, one transaction each as the service does (target: at least
500 per second), beside the baseline of committing plain rows of the same size to a table without chain or
head in the same run. Run: .venv/bin/python bench/custody_append.py
"""

from __future__ import annotations

from custody_common import database, median_seconds, temporary_folder
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from certsvc.audit.service import Actor
from certsvc.custody.chain import append_event, verify_register
from certsvc.custody.models import CustodyEventKind
from certsvc.registry.models import Token

APPENDS = 2_000
ROUNDS = 3
DETAILS = {"condition": "Kiểm kê định kỳ: nguyên vẹn", "seal_numbers": "NP-0001, NP-0002"}


def measure(where: str | None) -> tuple[float, float]:
    """Appends per second, chained and plain, with the database in ``where`` (None: the system's temp folder)."""
    with temporary_folder(where) as folder:
        url, token_id, keeper_id = database(folder)
        engine = create_engine(url)
        with Session(engine) as session:
            session.execute(text("CREATE TABLE bench_plain (id INTEGER PRIMARY KEY, details TEXT, hash TEXT)"))
            session.commit()
            token = session.get(Token, token_id)
            actor = Actor(label="bench", account_id=None)

            def chained() -> None:
                for _ in range(APPENDS):
                    append_event(session, actor, token, CustodyEventKind.INVENTORY, keeper_id, DETAILS)
                    session.commit()

            def plain() -> None:
                for number in range(APPENDS):
                    session.execute(
                        text("INSERT INTO bench_plain (details, hash) VALUES (:d, :h)"),
                        {"d": str(DETAILS), "h": f"{number:064d}"},
                    )
                    session.commit()

            chain = median_seconds(chained, ROUNDS)
            base = median_seconds(plain, ROUNDS)
            assert verify_register(session).ok
        engine.dispose()
    return APPENDS / chain, APPENDS / base


def main() -> None:
    print(f"Append {APPENDS:,} custody entries, one commit each (SQLite), median of {ROUNDS}:")
    for label, where in (("disk (temp folder)", None), ("memory (/dev/shm)", "/dev/shm")):
        chain, base = measure(where)
        print(f"  {label}:")
        print(
            f"    {'append_event':<24} {chain:8.0f} /s   (target: at least 500 /s)"
            f"  {'PASS' if chain >= 500 else 'FAIL'}"
        )
        print(f"    {'baseline: plain insert':<24} {base:8.0f} /s   (chained at {chain / base:.0%} of it)")
    print("  On disk every commit waits for fsync; the baseline shows what the disk itself allows.")


if __name__ == "__main__":
    main()
