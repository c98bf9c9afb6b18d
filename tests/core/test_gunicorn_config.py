"""gunicorn started from the checkout, as README deploys it, reads the service's gunicorn.conf.py: its workers
freeze what start-up built, so that a full garbage collection does not stall a page."""

from __future__ import annotations

import gc
import os
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorn_started_from_the_checkout_uses_the_services_worker_hook():
    gunicorn = Path(sys.executable).with_name("gunicorn")
    printed = subprocess.run(
        [str(gunicorn), "--print-config", "certsvc:create_app()"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "CERTSVC_SECRET_KEY": "tests-only"},
        timeout=60,
        check=True,
    ).stdout
    hook = next(line for line in printed.splitlines() if line.startswith("post_worker_init"))
    assert hook.split("=", 1)[1].strip() == "<post_worker_init()>"  # gunicorn's own is PostWorkerInit's


def test_the_worker_hook_freezes_what_start_up_built():
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        hooks["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
