"""The local stack never mistakes another program on its port for its own process."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support.stack import ROOT  # noqa: F401  (puts deploy/ on sys.path)

from localstack import Proc, StackError  # isort: skip

pytestmark = pytest.mark.unit


def test_a_process_is_not_started_when_another_program_already_listens_on_its_port(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        proc = Proc("smtp", tmp_path / "run", tmp_path / "log")
        with pytest.raises(StackError, match=f"port {port} is already in use"):
            proc.start(["sleep", "30"], port=port)
    assert proc.pid() is None
    assert not proc.pidfile.exists()
