"""An interrupted benchmark, benchmark run or test session leaves no process behind.

Each test starts a process tree on free ports in a subprocess — a benchmark-like owner of PostgreSQL, the SMTP
catcher and the Mynaportal simulator (``tests/support/stack_owner.py``, through ``bench/common.running_stack``),
the same under ``bench/run.py``'s ``run_child``, or a pytest session with the ``infra`` fixture — interrupts it
as a terminal's Ctrl-C or a ``kill`` would, and checks that every process it started is gone.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.support.apps import Infra
from tests.support.stack import ROOT, Ports, free_port, port_open

pytestmark = pytest.mark.integration

BOUND_S = 120  # every wait is bounded
OWNED = {"postgres", "smtp", "mynaportal-simulator"}


def free_ports() -> Ports:
    """Ports nobody uses now, for every part."""
    return Ports(
        kafka=free_port(),
        kafka_controller=free_port(),
        postgres=free_port(),
        smtp=free_port(),
        services={},
        card_gateway=free_port(),
        ocsp=free_port(),
        mynaportal=free_port(),
        gateway=free_port(),
        gateway_tls=free_port(),
        web=free_port(),
        checkers=0,
    )


def wait_for_line(proc: subprocess.Popen[bytes], word: bytes) -> None:
    """Read the process's output until a line holds ``word`` (bounded)."""
    assert proc.stdout is not None
    seen = b""
    while True:
        ready, _, _ = select.select([proc.stdout], [], [], BOUND_S)
        assert ready, f"no {word!r} within {BOUND_S}s; output so far: {seen[-2000:]!r}"
        line = proc.stdout.readline()
        assert line, f"the process ended before {word!r} (code {proc.poll()}); output: {seen[-2000:]!r}"
        seen += line
        if word in line:
            return


def pids_under(run_dir: Path) -> dict[str, int]:
    """The pids the stack recorded."""
    return {p.stem: int(p.read_text()) for p in run_dir.glob("*.pid")}


def running(pid: int) -> bool:
    """Tell whether a process is alive (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def interrupt_and_check(
    proc: subprocess.Popen[bytes], sig: signal.Signals, *, group: bool, var: Path, expect: set[str]
) -> None:
    """Send ``sig`` (to the whole process group, as a terminal does, or to the process alone) and check that
    everything the stack under ``var`` started is gone once the process has ended."""
    started = pids_under(var / "run")
    assert expect <= set(started), started
    assert all(running(pid) for pid in started.values()), started
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    proc.wait(timeout=BOUND_S)
    left = {name: pid for name, pid in started.items() if running(pid)}
    assert left == {}, f"processes left behind after {sig.name}: {left}"
    assert list((var / "run").glob("*.pid")) == []


def owner_argv(var: Path, ports: Ports) -> list[str]:
    """The command line of the benchmark-like stack owner."""
    return [sys.executable, "-m", "tests.support.stack_owner", str(var), json.dumps(asdict(ports))]


Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def var() -> Iterator[Path]:
    """A stack folder under ``var/`` (PostgreSQL runs as the postgres user, who cannot enter pytest's tmp_path)."""
    path = ROOT / "var" / f"interrupt-{uuid.uuid4().hex[:8]}"
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start a command in a session of its own (so a signal to its group reaches no one else); whatever happens in
    the test, it is stopped at the end (SIGTERM, which stops what it started, then SIGKILL)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(argv: list[str], **env: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **env},
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=BOUND_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.parametrize(
    ("sig", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "kill"]
)
def test_an_interrupted_benchmark_stops_the_stack_it_started(
    var: Path, spawn: Spawn, sig: signal.Signals, group: bool
) -> None:
    ports = free_ports()
    proc = spawn(owner_argv(var, ports))
    wait_for_line(proc, b"STACK-OWNER-UP")
    interrupt_and_check(proc, sig, group=group, var=var, expect=OWNED)
    assert not any(port_open(p) for p in (ports.postgres, ports.smtp, ports.mynaportal))


@pytest.mark.parametrize(
    ("sig", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "kill"]
)
def test_an_interrupted_benchmark_run_lets_its_benchmark_stop_the_stack(
    var: Path, spawn: Spawn, sig: signal.Signals, group: bool
) -> None:
    ports = free_ports()
    runner = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT / "bench")!r})
        import run
        from common import raise_on_termination
        raise_on_termination()
        sys.exit(run.run_child({owner_argv(var, ports)!r}))
        """
    )
    proc = spawn([sys.executable, "-c", runner])
    wait_for_line(proc, b"STACK-OWNER-UP")
    interrupt_and_check(proc, sig, group=group, var=var, expect=OWNED)
    assert proc.returncode != 0


@pytest.mark.parametrize(
    ("sig", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "kill"]
)
def test_an_interrupted_test_session_stops_its_infrastructure(
    infra: Infra, tmp_path: Path, spawn: Spawn, sig: signal.Signals, group: bool
) -> None:
    offset = int(os.environ.get("RAS_TEST_PORT_OFFSET", "0")) + 47  # apart from this session's own ports
    var = ROOT / "var" / f"test-{offset}"
    child = tmp_path / "test_child_session.py"
    child.write_text(
        textwrap.dedent(
            """
            import time


            def test_waits_to_be_interrupted(infra):
                print("CHILD-SESSION-UP", flush=True)
                time.sleep(600)
            """
        )
    )
    argv = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT)]
    argv += ["-p", "tests.conftest", "-s", "-q", "-p", "no:cacheprovider", str(child)]
    # The session's Kafka is shared (starting a second broker is slow); PostgreSQL and SMTP are the child's own.
    proc = spawn(argv, RAS_TEST_PORT_OFFSET=str(offset), RAS_TEST_KAFKA_BOOTSTRAP=infra.stack.kafka_bootstrap)
    wait_for_line(proc, b"CHILD-SESSION-UP")
    interrupt_and_check(proc, sig, group=group, var=var, expect={"postgres", "smtp"})
    assert not port_open(25432 + offset) and not port_open(2525 + offset)
