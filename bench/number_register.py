"""Benchmark: 16 clerks taking numbers from one issuing body's register at once, on PostgreSQL (issue 12).

Each of 16 threads, with its own connection, takes ``ROUNDS`` numbers, one transaction each, through
:func:`certsvc.documents.register.next_number` (the counter row's ``UPDATE … RETURNING``, which makes concurrent
takers wait for each other). Baseline, in the same run and with the same threads: as many transactions that each
update a row of their own (no waiting on one another). Printed: numbers per second beside the baseline's
transactions per second, the longest wait for one number, and the check that matters — the numbers given are
exactly 1..N, with no duplicate and no gap.

The database is a temporary one on ``CERTSVC_BENCH_PG_URL`` (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
built by the migrations and dropped at the end. Run: .venv/bin/python bench/number_register.py
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable

from custody_common import temporary_folder
from requests_list import migrate, postgresql_database
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from certsvc.documents.models import Series
from certsvc.documents.register import next_number
from certsvc.orgs.models import Organisation, OrgKind

CLERKS, ROUNDS, YEAR = 16, 50, 2026


def _body(engine: Engine) -> int:
    with Session(engine) as session:
        body = Organisation(name="UBND huyện Văn Quan", symbol="UBND", kind=OrgKind.DISTRICT_COMMITTEE)
        session.add(body)
        session.commit()
        return body.id


def _run(engine: Engine, work: Callable[[Session, int], int | None]) -> tuple[float, list[float], list[int]]:
    """Every clerk does ``work`` ROUNDS times, one transaction each, all started together: (seconds, the time
    of each transaction, the numbers given)."""
    start = threading.Barrier(CLERKS)
    lock = threading.Lock()
    waits: list[float] = []
    given: list[int] = []

    def clerk(index: int) -> None:
        with Session(engine) as session:
            start.wait()
            for _ in range(ROUNDS):
                began = time.perf_counter()
                number = work(session, index)
                session.commit()
                took = time.perf_counter() - began
                with lock:
                    waits.append(took)
                    if number is not None:
                        given.append(number)

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(CLERKS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, waits, given


def main() -> None:
    with temporary_folder() as folder, postgresql_database() as url:
        migrate(url, folder)
        engine = create_engine(url, pool_size=CLERKS, max_overflow=0)
        body_id = _body(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_own_row (id int PRIMARY KEY, n int NOT NULL)"))
            conn.execute(text("INSERT INTO bench_own_row SELECT g, 0 FROM generate_series(0, :n) g"), {"n": CLERKS})

        def own_row(session: Session, index: int) -> None:
            session.execute(text("UPDATE bench_own_row SET n = n + 1 WHERE id = :id"), {"id": index})

        def take(session: Session, _index: int) -> int:
            return next_number(session, body_id, YEAR, Series.OUTGOING)

        base_seconds, base_waits, _ = _run(engine, own_row)
        seconds, waits, given = _run(engine, take)
        total = CLERKS * ROUNDS
        print(f"{CLERKS} clerks × {ROUNDS} numbers each, one transaction per number, PostgreSQL:")
        base_rate, base_longest = total / base_seconds, max(base_waits) * 1000
        print(f"  baseline (own rows)   {base_rate:8.0f} transactions/s   longest {base_longest:6.1f} ms")
        print(
            f"  register (one row)    {total / seconds:8.0f} numbers/s        longest {max(waits) * 1000:6.1f} ms"
            f"   median {statistics.median(waits) * 1000:.1f} ms"
        )
        print(f"  ratio                 {seconds / base_seconds:8.2f}× the baseline's time")
        duplicates = len(given) - len(set(given))
        missing = sorted(set(range(1, total + 1)) - set(given))
        print(f"  numbers given: {len(given)}, duplicates: {duplicates}, gaps: {len(missing)}")
        if duplicates or missing or len(given) != total:
            raise SystemExit("the register gave a duplicate or left a gap")
        engine.dispose()


if __name__ == "__main__":
    main()
