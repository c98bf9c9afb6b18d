"""The agent's pairings with certsvc servers: which origins it works for, and its credential at each.

A pairing is made once per PC and account (``token-agent pair URL CODE``, docs/agent-protocol.md §1) and kept in
the pairing file in the agent's home: ``~/.config/token-agent/pairings.json`` (mode 0600) on POSIX systems,
``%APPDATA%\\token-agent\\pairings.json`` on Windows, or under ``$TOKEN_AGENT_HOME`` when that is set. The file is
JSON ``{origin: {credential, agent_id, username, full_name, paired_at}}``, always replaced whole and atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .certsvc_client import CertsvcClient
from .errors import ServerUnreachableError, TokenAgentError

__all__ = [
    "HOME_ENV",
    "PAIRINGS_FILE",
    "Pairing",
    "agent_home",
    "normalise_origin",
    "load_pairings",
    "save_pairing",
    "remove_pairing",
    "pair",
]

HOME_ENV = "TOKEN_AGENT_HOME"
"""Environment variable naming the agent's home directory (pairings, config.json) instead of the default."""

PAIRINGS_FILE = "pairings.json"
_WINDOWS = os.name == "nt"


@dataclass(frozen=True)
class Pairing:
    """The agent's pairing with one certsvc server: its origin, the credential and whose account it acts for."""

    origin: str
    credential: str = field(repr=False)
    agent_id: int
    username: str
    full_name: str
    paired_at: dt.datetime

    @property
    def account(self) -> str:
        """``Nguyễn Văn An (chutich)``: whose account the agent signs for there."""
        return f"{self.full_name or self.username} ({self.username})"


def agent_home() -> Path:
    """The directory of the agent's own files: ``$TOKEN_AGENT_HOME``, else the user's configuration folder."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured)
    if _WINDOWS:
        appdata = os.environ.get("APPDATA")
        return (Path(appdata) if appdata else Path.home() / "AppData" / "Roaming") / "token-agent"
    return Path.home() / ".config" / "token-agent"


def normalise_origin(url: str) -> str:
    """``HTTPS://CertSvc.Huyen.gov.vn:443/x`` → ``https://certsvc.huyen.gov.vn``: the origin a browser sends."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise TokenAgentError(
            f"«{url}» không phải địa chỉ máy chủ certsvc (ví dụ https://certsvc.huyen.gov.vn).", code="bad_server_url"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise TokenAgentError(f"Cổng trong địa chỉ «{url}» không hợp lệ.", code="bad_server_url") from exc
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def _path(home: Path | None) -> Path:
    return (home or agent_home()) / PAIRINGS_FILE


def _parse(origin: str, entry: dict) -> Pairing:
    return Pairing(
        origin=origin,
        credential=str(entry["credential"]),
        agent_id=int(entry["agent_id"]),
        username=str(entry.get("username", "")),
        full_name=str(entry.get("full_name", "")),
        paired_at=dt.datetime.fromisoformat(entry["paired_at"]),
    )


def load_pairings(home: Path | None = None) -> dict[str, Pairing]:
    """Every pairing by origin; none when the file does not exist."""
    path = _path(home)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {origin: _parse(origin, entry) for origin, entry in raw.items()}
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TokenAgentError(
            f"Tệp ghép nối {path} bị hỏng: hãy xóa tệp và ghép nối lại.", code="pairings_unreadable"
        ) from exc


def _write(path: Path, pairings: dict[str, Pairing]) -> None:
    """Replace the file atomically with a new one readable by the user only (POSIX mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not _WINDOWS:  # Windows: the user's profile folder is private already
        path.parent.chmod(0o700)
    document = {
        p.origin: {
            "credential": p.credential,
            "agent_id": p.agent_id,
            "username": p.username,
            "full_name": p.full_name,
            "paired_at": p.paired_at.isoformat(),
        }
        for p in pairings.values()
    }
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def save_pairing(pairing: Pairing, home: Path | None = None) -> None:
    """Add the pairing, replacing an earlier one with the same origin."""
    pairings = load_pairings(home)
    pairings[pairing.origin] = pairing
    _write(_path(home), pairings)


def remove_pairing(origin: str, home: Path | None = None) -> bool:
    """Forget the pairing with ``origin``; whether there was one."""
    pairings = load_pairings(home)
    if pairings.pop(normalise_origin(origin), None) is None:
        return False
    _write(_path(home), pairings)
    return True


def pair(url: str, code: str, device_name: str, home: Path | None = None) -> Pairing:
    """Pair with the certsvc server at ``url`` using the one-time ``code`` shown in "Thiết bị ký số của tôi",
    and keep the pairing (§1.2)."""
    origin = normalise_origin(url)
    answer = CertsvcClient(origin).pair(code.strip()[:20], device_name.strip()[:100])
    given = answer.get("account")
    account: dict = given if isinstance(given, dict) else {}
    try:
        pairing = Pairing(
            origin=origin,
            credential=answer["credential"],
            agent_id=int(answer.get("agent_id", 0)),
            username=str(account.get("username", "")),
            full_name=str(account.get("full_name", "")),
            paired_at=dt.datetime.now(dt.UTC),
        )
    except (TypeError, ValueError) as exc:
        raise ServerUnreachableError(f"Máy chủ {origin} trả lời ghép nối không đúng giao thức.") from exc
    save_pairing(pairing, home)
    return pairing
