"""The local stack's supervisor restarts a service process that died, gives up after its restart limit, and
``down()`` leaves no process behind (the supervisor included). The code is deploy/localstack.py's, on test ports:
the identity service (it has no consumer group to disturb) against the session's PostgreSQL and Kafka."""

from __future__ import annotations

import os
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.apps import Infra
from tests.support.stack import Ports, Stack, free_port, port_open

from localstack import SUPERVISOR, RestartPolicy, wait_until  # isort: skip

pytestmark = pytest.mark.integration


def alive(port: int) -> bool:
    """Return True when the service answers /alive."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/alive", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def kill9(stack: Stack, name: str) -> int:
    """Kill the process with SIGKILL as a crash would, and wait until it is gone; return its pid."""
    pid = stack.proc(name).pid()
    assert pid is not None, f"{name} is not running"
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: stack.proc(name).pid() != pid, 30, f"{name} to die")
    return pid


def test_the_supervisor_restarts_a_killed_service_gives_up_after_its_limit_and_down_leaves_nothing(
    infra: Infra, tmp_path: Path
) -> None:
    port = free_port()
    ports = Ports(
        kafka=infra.stack.ports.kafka,
        kafka_controller=infra.stack.ports.kafka_controller,
        postgres=infra.stack.ports.postgres,
        smtp=infra.stack.ports.smtp,
        services={"identity": port},
        card_gateway=free_port(),
        ocsp=free_port(),
        mynaportal=free_port(),
        gateway=free_port(),
        gateway_tls=free_port(),
        web=free_port(),
        checkers=0,
    )
    stack = Stack(tmp_path / "var", ports)
    stack.create_database("ras_identity", fresh=True)
    stack.migrate("identity")
    pids: set[int] = set()
    try:
        stack.start_service("identity")
        wait_until(lambda: alive(port), 60, "identity to answer")
        stack.start_supervisor(policy=RestartPolicy(interval_s=0.2, backoff_base_s=0.2, max_restarts=1))
        supervisor = stack.proc(SUPERVISOR).pid()
        assert supervisor is not None
        pids.add(supervisor)

        first = kill9(stack, "identity")
        pids.add(first)
        wait_until(lambda: stack.proc("identity").pid() not in (None, first) and alive(port), 90, "a restart")
        second = stack.proc("identity").pid()
        assert second is not None
        pids.add(second)
        log = stack.proc(SUPERVISOR).logfile
        assert "identity is not running: restarting it" in log.read_text()

        kill9(stack, "identity")  # a second crash within the window: over the limit of one restart
        wait_until(lambda: "giving up" in log.read_text(), 30, "the supervisor to give up")
        assert stack.proc("identity").pid() is None, "no restart beyond the limit"
        assert stack.proc(SUPERVISOR).pid() == supervisor, "the supervisor itself keeps running"
    finally:
        stack.down()
    assert {n: p for n, p in stack.status().items() if p is not None} == {}
    left = [pid for pid in pids if _running(pid)]
    assert left == [], f"processes left after down(): {left}"
    assert not port_open(port)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")
