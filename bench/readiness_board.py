"""Benchmark: the readiness board with 500 units and 5,000 holders of valid certificates, 16 concurrent clients
against gunicorn, on SQLite and on PostgreSQL (target: p95 at most 100 ms, no errors).

Each unit has a head (an account), an organisation token and the head's token, both checked (most pass with a
verified test signature, some fail, some never checked), and 10 holders of personal certificates. The server,
the database set-up, the sign-in and the load are those of bench/requests_list.py; its static stylesheet and
/healthz are measured in the same run as baselines.
Run: .venv/bin/python bench/readiness_board.py [sqlite] [postgresql] (both when CERTSVC_TEST_DATABASE_URL is
set; the PostgreSQL server is requests_list's CERTSVC_BENCH_PG_URL, by default the tests' one).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from datetime import timedelta

from custody_common import temporary_folder
from requests_list import (
    CLIENTS,
    GUNICORN,
    PASSWORD,
    PER_CLIENT,
    TARGET_MS,
    USERNAME,
    gunicorn,
    load,
    log_in,
    migrate,
    postgresql_database,
    sqlite_database,
)
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.accounts.passwords import hash_password
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person
from certsvc.readiness.models import CheckedToken, CheckReport, CheckStatus, ReportSource
from certsvc.registry.models import Certificate, Token, TokenKind, TokenState
from certsvc.timeutil import utcnow

UNITS = 500
HOLDERS_PER_UNIT = 10  # 5,000 holders in all
PIN_LOCKED = {"id": "pin.locked", "status": "FAIL", "message": "Mã PIN đã bị khóa.", "hint": ""}


def _certificate(n: int, unit: int, kind: TokenKind, holder: int | None, token: int, now) -> dict:
    digest = hashlib.sha256(f"bench-{n}".encode()).hexdigest()
    return dict(
        serial_hex=f"{n:016x}",
        subject_dn=f"CN=Bench {n}",
        subject_cn=f"Bench {n}",
        issuer_dn="CN=Bench CA",
        not_before=now - timedelta(days=100),
        # Some heads' certificates expire within the warning period.
        not_after=now + timedelta(days=20 if n % 37 == 0 else 600),
        sha1=digest[:40],
        sha256=digest,
        der=b"0",
        kind=kind,
        organisation_id=unit,
        holder_id=holder,
        token_id=token,
        created_at=now,
    )


def fill(url: str) -> None:
    """The district, its focal office and officer, 500 communes with their heads, holders, tokens, checks."""
    engine = create_engine(url)
    now = utcnow()
    with Session(engine) as session:
        district = Organisation(name="UBND huyện Văn Quan", symbol="UBND", kind=OrgKind.DISTRICT_COMMITTEE)
        focal = Organisation(name="Phòng Văn hóa và Thông tin", symbol="VHTT", kind=OrgKind.OFFICE, parent=district)
        units = [
            Organisation(name=f"UBND xã số {n:03d}", symbol="UBND", kind=OrgKind.COMMUNE_COMMITTEE, parent=district)
            for n in range(1, UNITS + 1)
        ]
        session.add_all([district, focal, *units])
        session.flush()
        district.focal_office = focal
        password = hash_password(PASSWORD)
        officer = Account(
            person=Person(full_name="Lương Thị Hoa", organisation=focal, position="Chuyên viên"),
            username=USERNAME,
            password_hash=password,
        )
        officer.roles.append(RoleAssignment(role=Role.FOCAL_OFFICER, organisation=focal))
        session.add(officer)
        session.flush()
        unit_ids = [unit.id for unit in units]
        session.execute(
            insert(Person),
            [
                dict(full_name=f"Cán bộ {u}-{h}", organisation_id=unit, position="Công chức", created_at=now)
                for u, unit in enumerate(unit_ids)
                for h in range(HOLDERS_PER_UNIT + 1)  # the first of each unit is its head
            ],
        )
        people = session.execute(select(Person.id, Person.organisation_id).order_by(Person.id)).all()
        by_unit: dict[int, list[int]] = {}
        for person_id, unit in people:
            by_unit.setdefault(unit, []).append(person_id)
        heads = {unit: by_unit[unit][0] for unit in unit_ids}
        session.execute(
            insert(Account),
            [dict(person_id=heads[unit], username=f"thutruong{unit}", password_hash=password) for unit in unit_ids],
        )
        accounts = dict(session.execute(select(Account.person_id, Account.id)).all())
        session.execute(
            insert(RoleAssignment),
            [dict(account_id=accounts[heads[unit]], organisation_id=unit, role=Role.UNIT_HEAD) for unit in unit_ids],
        )
        tokens, n = [], 0
        for unit in unit_ids:
            for person in [None, *by_unit[unit]]:
                n += 1
                kind = TokenKind.ORGANISATION if person is None else TokenKind.PERSONAL
                tokens.append(
                    dict(
                        serial=f"BENCH{n:08d}",
                        kind=kind,
                        organisation_id=unit,
                        holder_id=person,
                        state=TokenState.ACTIVE,
                        is_secret=person is None,
                        recoveries=0,
                        replacements=0,
                        created_at=now,
                    )
                )
        session.execute(insert(Token), tokens)
        token_ids = dict(session.execute(select(Token.serial, Token.id)).all())
        token_rows = session.execute(select(Token.id, Token.organisation_id, Token.holder_id, Token.kind)).all()
        certificates = [
            _certificate(token_id, unit, kind, holder, token_id, now) for token_id, unit, holder, kind in token_rows
        ]
        session.execute(insert(Certificate), certificates)
        certificate_of = dict(session.execute(select(Certificate.token_id, Certificate.id)).all())
        # One report per unit, checking its organisation token and its head's; a twentieth of the units fail one,
        # a tenth never checked the head's token.
        reports, checked = [], []
        for number, unit in enumerate(unit_ids):
            raw = json.dumps({"schema": "token-agent.check/1", "unit": unit})
            reports.append(
                dict(
                    raw=raw,
                    sha256=hashlib.sha256(raw.encode()).hexdigest(),
                    schema="token-agent.check/1",
                    checked_at=now - timedelta(days=number % 20),
                    received_at=now,
                    uploaded_by_id=officer.id,
                    organisation_id=unit,
                    source=ReportSource.UPLOAD,
                    status=CheckStatus.PASS,
                    test_signature_verified=True,
                )
            )
        session.execute(insert(CheckReport), reports)
        report_of = dict(session.execute(select(CheckReport.organisation_id, CheckReport.id)).all())
        for number, unit in enumerate(unit_ids):
            organisation_token = next(t for t, u, h, k in token_rows if u == unit and k is TokenKind.ORGANISATION)
            head_token = token_ids[f"BENCH{number * (HOLDERS_PER_UNIT + 2) + 2:08d}"]
            checked_tokens = [organisation_token] + ([] if number % 10 == 3 else [head_token])
            for position, token in enumerate(checked_tokens):
                failing = number % 20 == 7 and position == 0
                checked.append(
                    dict(
                        report_id=report_of[unit],
                        position=position,
                        token_serial=f"T{token}",
                        token_label="BENCH",
                        token_id=token,
                        certificate_sha256=None,
                        certificate_id=certificate_of[token],
                        status=CheckStatus.FAIL if failing else CheckStatus.PASS,
                        failing_checks=[PIN_LOCKED] if failing else [],
                        flagged_unknown=False,
                        test_signature_ok=not failing,
                    )
                )
        session.execute(insert(CheckedToken), checked)
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def scenarios() -> dict[str, list[str]]:
    board = "/readiness/"
    return {
        "board, first page": [board],
        "board, pages 2-50": [f"{board}?page={n}" for n in (2, 5, 10, 25, 50)],
        "board, filters": [f"{board}?state=failing", f"{board}?state=ready&page=3", f"{board}?check=pin.locked"],
    }


def run(kind: str) -> bool:
    with temporary_folder() as folder, sqlite_database() if kind == "sqlite" else postgresql_database() as url:
        started = time.perf_counter()
        migrate(url, folder)
        fill(url)
        print(
            f"{kind}: {UNITS} units, {UNITS * HOLDERS_PER_UNIT:,} holders loaded in "
            f"{time.perf_counter() - started:.1f} s; {CLIENTS} clients x {PER_CLIENT} GETs per scenario, "
            f"gunicorn {' '.join(GUNICORN[1:5])}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        with gunicorn(url, folder) as (port, master):
            cookie = log_in(port)
            load(port, master, cookie, ["/readiness/"], "")  # warm-up: connections, templates, caches
            passed = True
            for label, path in (
                ("baseline: GET /static/app.css", "/static/app.css"),
                ("baseline: GET /healthz", "/healthz"),
            ):
                baseline = load(port, master, cookie, [path], "")
                print(baseline.line(label))
                passed &= baseline.errors == 0
            for label, paths in scenarios().items():
                figures = load(port, master, cookie, paths, "Sẵn sàng ký số của các đơn vị")
                print(figures.line(label))
                passed &= figures.errors == 0 and figures.p95 <= TARGET_MS
    print(f"  result ({kind}):", "PASS" if passed else "FAIL", f"(target: p95 at most {TARGET_MS:.0f} ms, no errors)")
    return passed


def main() -> None:
    kinds = sys.argv[1:] or ["sqlite", *(["postgresql"] if os.environ.get("CERTSVC_TEST_DATABASE_URL") else [])]
    results = [run(kind) for kind in kinds]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
