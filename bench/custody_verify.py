"""Benchmark: verify a custody register of 100,000 entries on SQLite (target: at most 1 s), beside the
baseline of only reading the same rows in the same run. Run: .venv/bin/python bench/custody_verify.py
"""

from __future__ import annotations

from datetime import timedelta

from custody_common import database, median_seconds, temporary_folder
from sqlalchemy import create_engine, insert, select, update
from sqlalchemy.orm import Session

from certsvc.core.hashchain import GENESIS_HASH, canonical_json
from certsvc.custody.chain import HASHED_COLUMNS, entry_hash, verify_register
from certsvc.custody.models import CustodyEvent, CustodyEventKind, CustodyHead
from certsvc.timeutil import utcnow

ENTRIES = 100_000
ROUNDS = 5


def fill(session: Session, token_id: int, organisation_id: int, keeper_id: int) -> None:
    """100,000 chained entries written directly (the append path is measured by custody_append.py)."""
    start, prev_hash, rows = utcnow() - timedelta(days=365), GENESIS_HASH, []
    for seq in range(1, ENTRIES + 1):
        row = dict(
            seq=seq,
            occurred_at=start + timedelta(seconds=seq),
            token_id=token_id,
            organisation_id=organisation_id,
            kind=CustodyEventKind.INVENTORY,
            keeper_id=keeper_id,
            actor_id=None,
            actor_label="bench",
            details=canonical_json({"condition": f"Kiểm kê lần {seq}: nguyên vẹn", "seal_numbers": f"NP-{seq}"}),
            prev_hash=prev_hash,
        )
        row["hash"] = prev_hash = entry_hash(**row)
        rows.append(row)
    session.execute(insert(CustodyEvent), rows)
    session.execute(update(CustodyHead).values(last_seq=ENTRIES, last_hash=prev_hash))
    session.commit()


def main() -> None:
    with temporary_folder() as folder:
        url, token_id, keeper_id = database(folder)
        engine = create_engine(url)
        with Session(engine) as session:
            organisation_id = session.scalar(select(CustodyEvent.organisation_id).limit(1)) or 1
            fill(session, token_id, organisation_id, keeper_id)
            report = verify_register(session)
            assert report.ok and report.entries == ENTRIES, report.fault
            verify = median_seconds(lambda: verify_register(session), ROUNDS)
            columns = [getattr(CustodyEvent, name) for name in (*HASHED_COLUMNS, "hash")]
            read = median_seconds(lambda: session.execute(select(*columns).order_by(CustodyEvent.seq)).all(), ROUNDS)
        engine.dispose()
    print(f"Verify a custody register of {ENTRIES:,} entries (SQLite), median of {ROUNDS}:")
    print(f"  {'verify':<22} {verify * 1000:8.1f} ms   (target: at most 1000 ms)")
    print(f"  {'baseline: ORM select':<22} {read * 1000:8.1f} ms   (reading the same rows as typed SQLAlchemy rows)")
    print("  result:", "PASS" if verify <= 1.0 else "FAIL")


if __name__ == "__main__":
    main()
