"""A private pcscd for the integration tests: started with our own reader.conf.d copy so we can tell it is ours."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SYSTEM_CONF = Path("/etc/reader.conf.d")
STATE_DIR = Path("/tmp/ras-card-gateway-tests-pcscd")
CONF_DIR = STATE_DIR / "reader.conf.d"
VPCD_PORTS = (35963, 35964)


@dataclass
class Pcscd:
    """The pcscd the tests use and whether this session started it."""

    pid: int
    started_here: bool
    log_file: Path
    process: subprocess.Popen[bytes] | None = None


def vpcd_configs() -> list[Path]:
    """Return the reader.conf.d files that load vsmartcard's vpcd driver."""
    if not SYSTEM_CONF.is_dir():
        return []
    return [
        p
        for p in sorted(SYSTEM_CONF.iterdir())
        if p.is_file() and "libifdvpcd" in p.read_text(errors="replace")
    ]


def running_pcscd() -> list[tuple[int, str]]:
    """Return (pid, command line) of every live pcscd process (zombies ignored)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "pcscd":
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z":
            found.append((int(entry.name), cmdline))
    return found


def is_ours(cmdline: str) -> bool:
    """Return whether a pcscd command line uses our private configuration folder."""
    return str(CONF_DIR) in cmdline


def start_pcscd() -> Pcscd:
    """Reuse our own pcscd if one runs, refuse to touch a foreign one, otherwise start ours in the foreground."""
    others = running_pcscd()
    ours = [pid for pid, cmd in others if is_ours(cmd)]
    foreign = [(pid, cmd) for pid, cmd in others if not is_ours(cmd)]
    log_file = STATE_DIR / "pcscd.log"
    if foreign:
        raise RuntimeError(
            f"another pcscd is running ({foreign}); stop it (e.g. systemctl stop pcscd.socket pcscd) to run these tests"
        )
    if ours:
        return Pcscd(pid=ours[0], started_here=False, log_file=log_file)
    configs = vpcd_configs()
    if not configs:
        raise RuntimeError(f"vsmartcard-vpcd is not configured under {SYSTEM_CONF} (install vsmartcard-vpcd)")
    shutil.rmtree(CONF_DIR, ignore_errors=True)
    CONF_DIR.mkdir(parents=True)
    for config in configs:
        shutil.copy(config, CONF_DIR / config.name)
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            ["pcscd", "--foreground", "--error", "-c", str(CONF_DIR)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Pcscd(pid=process.pid, started_here=True, log_file=log_file, process=process)


def stop_pcscd(pcscd: Pcscd, *, timeout_s: float = 10.0) -> None:
    """Stop our pcscd (it carries vpcd, which listens on all interfaces) and check nothing is left listening."""
    if pcscd.process is not None:
        pcscd.process.terminate()
        try:
            pcscd.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pcscd.process.kill()
            pcscd.process.wait()
        return
    try:
        os.kill(pcscd.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up and any(pid == pcscd.pid for pid, _ in running_pcscd()):
        time.sleep(0.1)
    if any(pid == pcscd.pid for pid, _ in running_pcscd()):
        os.kill(pcscd.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # reap it when it is our child
        os.waitpid(pcscd.pid, 0)


def listening(port: int) -> bool:
    """Return whether anything accepts TCP connections on the port (only call after pcscd stopped)."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
