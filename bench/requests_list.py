"""Benchmark: the focal office's request queue with 100,000 requests over 500 units, 16 concurrent
clients against gunicorn, on SQLite and on PostgreSQL (target: p95 at most 100 ms, no errors).

Each database is built by the migrations (SQLite: a file in a temporary folder; PostgreSQL: a
temporary database on ``CERTSVC_BENCH_PG_URL``, default postgresql+psycopg://postgres@127.0.0.1:5432/test,
dropped at the end). Beside the pages, the same server's static stylesheet and /healthz are measured in the
same run as baselines. Loopback only; every load is bounded in requests and time.
Run: .venv/bin/python bench/requests_list.py [sqlite] [postgresql]
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from custody_common import temporary_folder
from flask_migrate import upgrade
from sqlalchemy import create_engine, insert, make_url, text
from sqlalchemy.orm import Session

from certsvc import create_app
from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.accounts.passwords import hash_password
from certsvc.extensions import db
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person
from certsvc.requests.models import CertificateRequest, RequestStatus, RequestType
from certsvc.timeutil import utcnow

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("CERTSVC_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUESTS = 100_000
UNITS = 500
CLIENTS = 16
PER_CLIENT = 40  # requests each client sends per scenario
TIME_CAP = 60.0  # seconds per scenario, whatever is left
TARGET_MS = 100.0
USERNAME, PASSWORD = "daumoi", "Mat-khau-bench-2026"
#: Workers and threads per worker: README's deployment (one sync worker per core) unless overridden, e.g.
#: CERTSVC_BENCH_WORKERS="3 1". On 2 cores, a third worker and threads both measured slower for these pages.
WORKERS, THREADS = os.environ.get("CERTSVC_BENCH_WORKERS", f"{os.cpu_count() or 2} 1").split()
GUNICORN = [str(ROOT / ".venv/bin/gunicorn"), "--workers", WORKERS, "--threads", THREADS, "--log-level", "warning"]

#: The share of each status among the requests (the rest of 100 are done).
STATUS_SHARES = {
    RequestStatus.SUBMITTED: 10,
    RequestStatus.RETURNED: 3,
    RequestStatus.ACCEPTED: 5,
    RequestStatus.IN_BATCH: 2,
    RequestStatus.SENT: 5,
    RequestStatus.DRAFT: 5,
    RequestStatus.APPROVED: 2,
    RequestStatus.REJECTED: 2,
    RequestStatus.CANCELLED: 3,
}


# --- the database -----------------------------------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[str]:
    with temporary_folder() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.sqlite'}"


@contextmanager
def postgresql_database() -> Iterator[str]:
    name = f"certsvc_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(url: str, folder: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": folder})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _statuses() -> list[RequestStatus]:
    shares = [status for status, share in STATUS_SHARES.items() for _ in range(share)]
    return shares + [RequestStatus.DONE] * (100 - len(shares))


def fill(url: str) -> list[int]:
    """One district whose focal office serves 500 communes, its focal officer, 100,000 requests.

    Returns the units' ids.
    """
    engine = create_engine(url)
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
        person = Person(full_name="Lương Thị Hoa", organisation=focal, position="Chuyên viên")
        account = Account(person=person, username=USERNAME, password_hash=hash_password(PASSWORD))
        account.roles.append(RoleAssignment(role=Role.FOCAL_OFFICER, organisation=focal))
        session.add(account)
        session.commit()
        unit_ids = [unit.id for unit in units]
        statuses, kinds, now, rows = _statuses(), list(RequestType), utcnow(), []
        for n in range(REQUESTS):
            # Units take turns and each unit's requests go through every status, so that filtering by
            # unit and by status are independent (a unit's queue is not all of one status).
            unit = n % UNITS
            status = statuses[(n // UNITS) % len(statuses)]
            created = now - timedelta(days=365) + timedelta(seconds=n * 300)
            sent = status not in (RequestStatus.DRAFT, RequestStatus.APPROVED)
            cccd = f"0201{n:08d}"
            rows.append(
                dict(
                    request_type=RequestType.NEW_INDIVIDUAL if n % 3 else kinds[n % len(kinds)],
                    status=status,
                    organisation_id=unit_ids[unit],
                    subject_key=f"cccd:{cccd}",
                    data={
                        "full_name": f"Nguyễn Văn Số {n}",
                        "cccd": cccd,
                        "cccd_issued_on": "2021-05-10",
                        "cccd_issued_by": "Cục Cảnh sát QLHC về TTXH",
                        "position": "Công chức",
                        "unit_name": f"UBND xã số {unit + 1:03d}",
                        "email": f"canbo{n}@langson.gov.vn",
                        "phone": "0912345678",
                        "validity_years": 5,
                    },
                    created_at=created,
                    updated_at=created + timedelta(hours=2),
                    submitted_at=created + timedelta(hours=1) if sent else None,
                )
            )
            if len(rows) == 10_000:
                session.execute(insert(CertificateRequest), rows)
                rows = []
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return unit_ids


# --- the server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def workers_cpu_seconds(master: int) -> float:
    """CPU time (user + system) the gunicorn workers under ``master`` have used so far (Linux /proc)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    ticks = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def gunicorn(url: str, folder: str) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = {
        **os.environ,
        "CERTSVC_DATABASE_URL": url,
        "CERTSVC_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "CERTSVC_SECURE_COOKIES": "false",
        "CERTSVC_INSTANCE_PATH": folder,
        "CERTSVC_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen([*GUNICORN, "--bind", f"127.0.0.1:{port}", "certsvc:create_app()"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(port, "/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class Answer:
    status: int
    body: str
    cookies: dict[str, str] = field(default_factory=dict)


def get(
    port: int,
    path: str,
    cookie: str = "",
    *,
    method: str = "GET",
    body: str | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Answer:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    content = response.read().decode("utf-8", "replace")
    cookies = dict(
        value.split(";", 1)[0].split("=", 1) for name, value in response.getheaders() if name.lower() == "set-cookie"
    )
    if own:
        conn.close()
    return Answer(response.status, content, cookies)


def log_in(port: int) -> str:
    """The session cookie of the focal officer, signed in through the login form."""
    form = get(port, "/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', form.body).group(1)
    cookie = "; ".join(f"{k}={v}" for k, v in form.cookies.items())
    answer = get(
        port,
        "/login",
        cookie,
        method="POST",
        body=urlencode({"username": USERNAME, "password": PASSWORD, "csrf_token": token}),
    )
    if answer.status != 302:
        raise RuntimeError(f"login failed: {answer.status}")
    return "; ".join(f"{k}={v}" for k, v in {**form.cookies, **answer.cookies}.items())


# --- the load ---------------------------------------------------------------------------------------


@dataclass
class Figures:
    timings: list[float]
    errors: int
    seconds: float
    server_cpu: float = 0.0  # seconds of the workers' CPU time during the load

    def line(self, label: str) -> str:
        ms = sorted(t * 1000 for t in self.timings) or [float("nan")]
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        rate = len(ms) / self.seconds if self.seconds else 0
        cpu = self.server_cpu * 1000 / max(1, len(self.timings))
        return (
            f"  {label:<34} n={len(self.timings):4d}  p50 {statistics.median(ms):6.1f}  p95 {p95:6.1f}  "
            f"max {ms[-1]:6.1f} ms  {rate:5.1f}/s  server CPU {cpu:5.1f} ms/request  errors {self.errors}"
        )

    @property
    def p95(self) -> float:
        ms = sorted(self.timings)
        return ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))] * 1000 if ms else float("inf")


def load(port: int, master: int, cookie: str, paths: list[str], expect: str) -> Figures:
    """``CLIENTS`` threads, each sending ``PER_CLIENT`` GETs over its own keep-alive connection."""
    timings: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + TIME_CAP

    def client(number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for n in range(PER_CLIENT):
            if time.monotonic() > stop_at:
                break
            path = paths[(number + n) % len(paths)]
            start = time.perf_counter()
            try:
                answer = get(port, path, cookie, conn=conn)
                ok = answer.status == 200 and expect in answer.body
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            elapsed = time.perf_counter() - start
            with lock:
                timings.append(elapsed)
                errors[0] += not ok
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started, cpu = time.perf_counter(), workers_cpu_seconds(master)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Figures(timings, errors[0], time.perf_counter() - started, workers_cpu_seconds(master) - cpu)


def scenarios(unit_ids: list[int]) -> dict[str, list[str]]:
    q = "/requests/queue"
    return {
        "queue, first page (default filter)": [q],
        "queue, filter combinations": [
            f"{q}?status=",
            f"{q}?request_type=renewal",
            f"{q}?status=accepted&min_age_days=30",
            f"{q}?organisation_id={unit_ids[17]}&status=",
            f"{q}?request_type=new_individual&status=done",
        ],
        "queue, pages 2-200": [f"{q}?page={n}" for n in (2, 5, 20, 50, 100, 150, 200)],
    }


def run(kind: str) -> bool:
    with temporary_folder() as folder, sqlite_database() if kind == "sqlite" else postgresql_database() as url:
        started = time.perf_counter()
        migrate(url, folder)
        unit_ids = fill(url)
        print(
            f"{kind}: {REQUESTS:,} requests over {UNITS} units loaded in {time.perf_counter() - started:.1f} s; "
            f"{CLIENTS} clients x {PER_CLIENT} GETs per scenario, gunicorn {' '.join(GUNICORN[1:5])}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work skews every figure)"
        )
        with gunicorn(url, folder) as (port, master):
            cookie = log_in(port)
            load(port, master, cookie, ["/requests/queue"], "")  # warm-up: connections, templates, caches
            passed = True
            for label, path in (
                ("baseline: GET /static/app.css", "/static/app.css"),
                ("baseline: GET /healthz", "/healthz"),
            ):
                baseline = load(port, master, cookie, [path], "")
                print(baseline.line(label))
                passed &= baseline.errors == 0
            for label, paths in scenarios(unit_ids).items():
                figures = load(port, master, cookie, paths, "Tiếp nhận đề nghị")
                print(figures.line(label))
                passed &= figures.errors == 0 and figures.p95 <= TARGET_MS
    print(f"  result ({kind}):", "PASS" if passed else "FAIL", f"(target: p95 at most {TARGET_MS:.0f} ms, no errors)")
    return passed


def main() -> None:
    kinds = sys.argv[1:] or ["sqlite", "postgresql"]
    results = [run(kind) for kind in kinds]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
