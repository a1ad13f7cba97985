"""The local stack starts services so that uvicorn never rewrites the client address from X-Forwarded-For."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.stack import ROOT  # (puts deploy/ on sys.path)

from localstack import Ports, Stack, StackError, free_port  # isort: skip

pytestmark = pytest.mark.unit


class _Recorder:
    """A process record that remembers the command it was asked to start and never runs it."""

    def __init__(self, logfile: Path) -> None:
        self.argv: list[str] = []
        self.logfile = logfile

    def pid(self) -> int | None:
        return None

    def start(self, argv: list[str], **_: object) -> None:
        self.argv = argv


def test_services_run_with_uvicorn_proxy_headers_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = Stack(tmp_path, Ports(services={"identity": free_port()}))
    recorder = _Recorder(tmp_path / "identity.log")
    monkeypatch.setattr(stack, "proc", lambda _name: recorder)
    monkeypatch.setattr(stack, "service_env", lambda _service: {})
    with pytest.raises(StackError):  # the recorder "exits" at once
        stack.start_service("identity", timeout=1)
    assert "shared.serve" in recorder.argv and "--no-proxy-headers" in recorder.argv
    entrypoint = (ROOT / "deploy" / "docker" / "entrypoint.sh").read_text()
    assert "--no-proxy-headers" in entrypoint.splitlines()[-1]
