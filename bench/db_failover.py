"""Benchmark: the API while PostgreSQL drops every connection (a restart or a failover), as issue 10 item 22 saw it.

gunicorn with 2 workers on loopback; 4 API writers (unit officers drafting requests, each create sent with an
``Idempotency-Key`` and sent again with the same key when the answer is a 5xx or lost) and 2 readers (the request
list and /me). First 10 s without trouble (the baseline), then every connection of the service's database is
terminated (``pg_terminate_backend``) every 2 s for 30 s. Printed per phase: requests, 5xx answers, connections
lost, retries and replayed answers; at the end, acknowledged creates missing from the database (lost writes), the
requests written twice (duplicates) and whether the audit chain is intact.

The database is a temporary one on ``CERTSVC_BENCH_PG_URL`` (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
built by the migrations and dropped at the end. Run: .venv/bin/python bench/db_failover.py
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

os.environ.setdefault("CERTSVC_BENCH_WORKERS", "2 1")  # the deployment: 2 sync workers

from custody_common import temporary_folder
from requests_list import gunicorn, migrate, postgresql_database
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from certsvc.accounts.api_tokens import create_token
from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.accounts.passwords import hash_password
from certsvc.audit.service import verify_chain
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person
from certsvc.requests.models import CertificateRequest

WRITERS, READERS = 4, 2
BASELINE_SECONDS, FAILOVER_SECONDS, TERMINATE_EVERY = 10.0, 30.0, 2.0
MAX_ATTEMPTS = 5  # sends of one create, the first included
_cccd = itertools.count(1)


@dataclass
class Phase:
    requests: int = 0
    server_errors: int = 0
    connections_lost: int = 0
    retries: int = 0
    replayed: int = 0
    refused: Counter = field(default_factory=Counter)
    acknowledged: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def line(self, label: str) -> str:
        refused = ", ".join(f"{status}×{n}" for status, n in sorted(self.refused.items())) or "none"
        return (
            f"{label:<9} requests {self.requests:5d}  5xx {self.server_errors:3d}  connections lost "
            f"{self.connections_lost:3d}  retries {self.retries:3d}  replayed {self.replayed:3d}  "
            f"creates acknowledged {len(self.acknowledged):4d}  other refusals {refused}"
        )


def seed(url: str) -> tuple[int, list[str]]:
    """A district, its focal office and one commune with 6 unit officers; returns the commune and their tokens."""
    engine = create_engine(url)
    with Session(engine) as session:
        district = Organisation(name="UBND huyện Văn Quan", symbol="UBND", kind=OrgKind.DISTRICT_COMMITTEE)
        focal = Organisation(name="Phòng Văn hóa và Thông tin", symbol="VHTT", kind=OrgKind.OFFICE, parent=district)
        commune = Organisation(name="UBND xã Tân Đoàn", symbol="UBND", kind=OrgKind.COMMUNE_COMMITTEE, parent=district)
        session.add_all([district, focal, commune])
        session.flush()
        district.focal_office = focal
        password = hash_password(uuid.uuid4().hex)
        secrets = []
        for n in range(WRITERS + READERS):
            person = Person(full_name=f"Cán bộ số {n}", organisation=commune, position="Chuyên viên")
            account = Account(person=person, username=f"canbo{n}", password_hash=password)
            account.roles.append(RoleAssignment(role=Role.UNIT_OFFICER, organisation=commune))
            session.add(account)
            session.flush()
            secrets.append(create_token(session, account, {"name": "bench"})[1])
        session.commit()
        commune_id = commune.id
    engine.dispose()
    return commune_id, secrets


def send(
    port: int, method: str, path: str, secret: str, body: str | None = None, key: str | None = None
) -> tuple[int, dict, bool]:
    """(status, JSON answer, replayed); OSError when the connection is lost."""
    headers = {"Authorization": f"Bearer {secret}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = key
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        replayed = response.getheader("Idempotent-Replayed") == "true"
    finally:
        conn.close()
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = {}
    return response.status, answer, replayed


def _draft(commune_id: int) -> str:
    n = next(_cccd)
    cccd = f"0201{n:08d}"
    return json.dumps(
        {
            "organisation_id": commune_id,
            "type": "new_individual",
            "fields": {
                "full_name": f"Nguyễn Văn Số {n}",
                "cccd": cccd,
                "cccd_issued_on": "2021-05-10",
                "cccd_issued_by": "Cục Cảnh sát QLHC về TTXH",
                "position": "Công chức",
                "unit_name": "UBND xã Tân Đoàn",
                "email": f"canbo{n}@langson.gov.vn",
                "phone": "0912345678",
                "validity_years": 5,
            },
        }
    )


def writer(port: int, secret: str, commune_id: int, phase: list[Phase], stop: threading.Event) -> None:
    while not stop.is_set():
        body, key = _draft(commune_id), uuid.uuid4().hex
        for attempt in range(MAX_ATTEMPTS):
            try:
                status, answer, replayed = send(port, "POST", "/api/v1/requests", secret, body, key)
            except OSError:
                status, answer, replayed = None, {}, False
            current = phase[0]  # the phase the answer came in
            with current.lock:
                current.requests += 1
                current.retries += attempt > 0
                if status is None:
                    current.connections_lost += 1
                elif status >= 500:
                    current.server_errors += 1
                elif status == 201:
                    current.acknowledged.append(answer["id"])
                    current.replayed += replayed
                else:
                    current.refused[status] += 1
            if status is not None and status < 500:
                break
            time.sleep(0.1)


def reader(port: int, secret: str, phase: list[Phase], stop: threading.Event) -> None:
    for path in itertools.cycle(["/api/v1/requests?per_page=20", "/api/v1/me"]):
        if stop.is_set():
            return
        try:
            status = send(port, "GET", path, secret)[0]
        except OSError:
            status = None
        current = phase[0]
        with current.lock:
            current.requests += 1
            if status is None:
                current.connections_lost += 1
            elif status >= 500:
                current.server_errors += 1
            elif status != 200:
                current.refused[status] += 1


def terminate_all(url: str, seconds: float) -> int:
    """Terminate every connection of the database every TERMINATE_EVERY seconds; returns how many."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    killed = 0
    end = time.monotonic() + seconds
    with engine.connect() as conn:
        while time.monotonic() < end:
            killed += conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
            time.sleep(min(TERMINATE_EVERY, max(0.0, end - time.monotonic())))
    engine.dispose()
    return killed


def main() -> None:
    with postgresql_database() as url, temporary_folder() as folder:
        migrate(url, folder)
        commune_id, secrets = seed(url)
        with gunicorn(url, folder) as (port, _pid):
            baseline, failover = Phase(), Phase()
            phase, stop = [baseline], threading.Event()
            threads = [
                threading.Thread(target=writer, args=(port, secret, commune_id, phase, stop))
                for secret in secrets[:WRITERS]
            ]
            threads += [
                threading.Thread(target=reader, args=(port, secret, phase, stop)) for secret in secrets[WRITERS:]
            ]
            for thread in threads:
                thread.start()
            time.sleep(BASELINE_SECONDS)
            phase[0] = failover
            killed = terminate_all(url, FAILOVER_SECONDS)
            stop.set()
            for thread in threads:
                thread.join(60)
        print(
            f"PostgreSQL, gunicorn 2 workers, {WRITERS} writers + {READERS} readers; "
            f"{killed} connections terminated in {FAILOVER_SECONDS:.0f} s"
        )
        print(baseline.line("baseline"))
        print(failover.line("failover"))
        acknowledged = set(baseline.acknowledged + failover.acknowledged)
        engine = create_engine(url)
        with Session(engine) as session:
            stored = set(session.scalars(select(CertificateRequest.id)))
            rows = session.scalar(select(func.count()).select_from(CertificateRequest))
            people = session.scalar(select(func.count(func.distinct(CertificateRequest.subject_key))))
            chain = verify_chain(session)
        engine.dispose()
        print(
            f"creates acknowledged {len(acknowledged)}, requests stored {rows}: lost {len(acknowledged - stored)}, "
            f"duplicates {rows - people}, stored but never acknowledged {len(stored - acknowledged)}; "
            f"audit chain {'intact' if chain.ok else 'FAULT'} ({chain.entries} entries)"
        )


if __name__ == "__main__":
    main()
