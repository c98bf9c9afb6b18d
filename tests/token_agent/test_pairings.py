"""The agent's pairing file: where it is, who can read it, and what it keeps."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from token_agent import pairings
from token_agent.errors import TokenAgentError
from token_agent.pairings import Pairing

CREDENTIAL = "cag1_" + "s" * 43


def _pairing(origin: str = "https://certsvc.huyen.gov.vn", username: str = "chutich") -> Pairing:
    return Pairing(origin, CREDENTIAL, 7, username, "Nguyễn Văn An", dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.UTC))


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv(pairings.HOME_ENV, str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_the_pairing_file_is_readable_by_the_user_only(home):
    pairings.save_pairing(_pairing())
    path = home / pairings.PAIRINGS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    pairings.save_pairing(_pairing("http://127.0.0.1:5000"))  # replaced, still private
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in home.iterdir()] == [pairings.PAIRINGS_FILE]  # no temporary file left behind


def test_pairings_are_kept_per_origin_and_can_be_removed(home):
    pairings.save_pairing(_pairing())
    pairings.save_pairing(_pairing("http://127.0.0.1:5000", "vanthu"))
    pairings.save_pairing(_pairing(username="phochutich"))  # a new pairing with the same server replaces the old
    found = pairings.load_pairings()
    assert {o: p.username for o, p in found.items()} == {
        "https://certsvc.huyen.gov.vn": "phochutich",
        "http://127.0.0.1:5000": "vanthu",
    }
    assert found["http://127.0.0.1:5000"].credential == CREDENTIAL
    assert CREDENTIAL not in repr(found["http://127.0.0.1:5000"])
    assert pairings.remove_pairing("HTTPS://CertSvc.Huyen.gov.vn:443/") is True
    assert pairings.remove_pairing("https://certsvc.huyen.gov.vn") is False
    assert list(pairings.load_pairings()) == ["http://127.0.0.1:5000"]


def test_no_file_means_no_pairing_and_a_broken_file_says_so(home):
    assert pairings.load_pairings() == {}
    home.mkdir()
    (home / pairings.PAIRINGS_FILE).write_text("{not json")
    with pytest.raises(TokenAgentError) as raised:
        pairings.load_pairings()
    assert raised.value.code == "pairings_unreadable"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://CertSvc.Huyen.gov.vn/account/signing-agents", "https://certsvc.huyen.gov.vn"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
    ],
)
def test_origins_are_written_as_browsers_send_them(url, origin):
    assert pairings.normalise_origin(url) == origin


@pytest.mark.parametrize("url", ["ftp://certsvc", "certsvc.huyen.gov.vn", "https://user:pw@certsvc", "http://h:99999"])
def test_what_is_not_a_server_address_is_refused(url):
    with pytest.raises(TokenAgentError) as raised:
        pairings.normalise_origin(url)
    assert raised.value.code == "bad_server_url"


def test_home_is_in_appdata_on_windows(monkeypatch, tmp_path):
    monkeypatch.delenv(pairings.HOME_ENV, raising=False)
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setattr(pairings, "_WINDOWS", True)
    assert pairings.agent_home() == tmp_path / "Roaming" / "token-agent"
