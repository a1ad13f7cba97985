"""Runs checks in child processes with memory, CPU, file-size and wall-clock limits, and kills them on overrun.

qpdf's C++ code cannot be interrupted from Python and decoders can be made to allocate gigabytes, so an untrusted
file is only ever opened in a child: ``python -m attachments.checks._worker`` reads one JSON request on stdin,
applies ``setrlimit`` to itself, checks the file and writes the verdict as JSON to its original stdout. A killed or
over-limit child becomes a ``check.timeout`` / ``check.memory`` / ``check.crashed`` rejection, never an exception.

Memory is limited twice: ``RLIMIT_AS`` on the worker (inherited by every program it starts, such as ``jbig2dec``),
and, for the check as a whole, the parent sums the resident memory of the worker and all its descendants every few
milliseconds and kills the process group when the sum passes ``SandboxLimits.total_rss_bytes``. The highest sum
seen (or the worker's own peak, whichever is higher) is reported as ``Verdict.peak_memory_mb``.
``SandboxPool`` keeps workers started (interpreter and pikepdf already imported) to save about 0.1 s per file;
each worker still checks exactly one file, so nothing leaks from one file to the next, and the replacement worker
is started after the answer, so its start-up never competes with a check.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, ValidationError

from attachments.checks._report import Report
from attachments.checks.codes import Code
from attachments.checks.models import MB, CheckPolicy, Kind, SandboxLimits, Verdict

EXIT_MEMORY = 3
EXIT_CRASH = 4
POLL_SECONDS = 0.01
_PAGE = os.sysconf("SC_PAGE_SIZE")
_WORKER_ARGS: list[str] = ["-m", "attachments.checks._worker"]
FD_CHANNEL_ENV = "ATTACHMENTS_CHECK_FD_CHANNEL"
_MEMORY_HINTS = (b"MemoryError", b"bad_alloc", b"Cannot allocate memory", b"out of memory")


class CheckRequest(BaseModel):
    """What the parent sends a worker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    kind: Kind
    policy: CheckPolicy
    limits: SandboxLimits
    handed_file: bool = False  # the open file comes over the worker's FD channel; ``path`` only names it


def check_file(
    path: Path | str, kind: Kind, policy: CheckPolicy | None = None, handle: BinaryIO | None = None
) -> Verdict:
    """Check a file in this process (no sandbox): dispatch on ``kind``; ``handle``, if given, is the file, open."""
    from attachments.checks.pdf import check_pdf, check_pdf_file
    from attachments.checks.photo import check_photo

    if kind == "pdf":
        return check_pdf(path, policy) if handle is None else check_pdf_file(handle, Path(path), policy)
    return check_photo(path, policy)


def check_file_sandboxed(
    path: Path | str, kind: Kind, policy: CheckPolicy | None = None, limits: SandboxLimits | None = None
) -> Verdict:
    """Check a file in a fresh limited child process; over-limit or killed children become rejections."""
    policy = policy or CheckPolicy()
    if _over_size(path, kind, policy):
        return check_file(path, kind, policy)  # rejected on size alone, without starting a child
    worker = _Worker.start()
    try:
        return worker.run(path, kind, policy or CheckPolicy(), limits or SandboxLimits())
    finally:
        worker.dispose()


class SandboxPool:
    """Pre-started sandbox workers, one file per worker; thread-safe, call ``check`` from a thread pool."""

    def __init__(self, size: int = 2, limits: SandboxLimits | None = None) -> None:
        self.size = size
        self.limits = limits or SandboxLimits()
        self._idle: deque[_Worker] = deque()
        self._lock = threading.Lock()
        self._closed = False
        self._fill()

    def check(self, path: Path | str, kind: Kind, policy: CheckPolicy | None = None) -> Verdict:
        """Check one file in a pre-started worker, then start its replacement in the background."""
        with self._lock:
            if self._closed:
                raise RuntimeError("SandboxPool is closed")
            worker = self._idle.popleft() if self._idle else None
        if worker is None or worker.process.poll() is not None:
            if worker is not None:
                worker.dispose()
            worker = _Worker.start()
        try:
            return worker.run(path, kind, policy or CheckPolicy(), self.limits)
        finally:
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()

    def _replace(self, used: _Worker) -> None:
        used.dispose()
        self._fill()

    def close(self) -> None:
        """Stop the idle workers."""
        with self._lock:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
        for worker in idle:
            worker.dispose()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _fill(self) -> None:
        with self._lock:
            while not self._closed and len(self._idle) < self.size:
                self._idle.append(_Worker.start())


class _Worker:
    """One child process waiting for a single request."""

    def __init__(self, process: subprocess.Popen[bytes], workdir: str, channel: socket.socket) -> None:
        self.process = process
        self.workdir = workdir
        self.channel = channel  # hands the worker the open file (SCM_RIGHTS)

    @classmethod
    def start(cls) -> _Worker:
        workdir = tempfile.mkdtemp(prefix="attachments-check-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = {
            **os.environ,
            "TMPDIR": workdir,
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1",
            "MALLOC_ARENA_MAX": "2",
            FD_CHANNEL_ENV: str(theirs.fileno()),
        }
        try:
            process = subprocess.Popen(
                [sys.executable, *_WORKER_ARGS],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=workdir,
                env=env,
                start_new_session=True,
                close_fds=True,
                pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        return cls(process, workdir, ours)

    def run(self, path: Path | str, kind: Kind, policy: CheckPolicy, limits: SandboxLimits) -> Verdict:
        started = time.perf_counter()
        path = Path(path).resolve()
        if _over_size(path, kind, policy):
            return check_file(path, kind, policy)  # rejected on size alone, without reading the file
        request = CheckRequest(path=str(path), kind=kind, policy=policy, limits=limits, handed_file=True)
        answer: dict[str, tuple[bytes, bytes]] = {}
        payload = request.model_dump_json().encode()
        try:
            with path.open("rb") as handle:  # opened here once; the worker reads this very file
                socket.send_fds(self.channel, [b"F"], [handle.fileno()])
        except FileNotFoundError as exc:
            return _failure(kind, Code.CHECK_UNAVAILABLE, started, detail=f"file not found ({exc.strerror})")
        except OSError:
            pass  # only a worker that has died closes its end of the channel; its exit status says how

        def talk() -> None:
            answer["io"] = self.process.communicate(payload)

        talker = threading.Thread(target=talk, daemon=True)
        talker.start()
        deadline = started + limits.wall_seconds
        peak = 0
        while True:
            talker.join(POLL_SECONDS)
            if not talker.is_alive():
                break
            used = group_rss(self.process.pid)
            peak = max(peak, used)
            if used > limits.total_rss_bytes:
                self._kill(reap=False)
                talker.join(5)
                return _failure(kind, Code.CHECK_MEMORY, started, peak, limit_mb=limits.total_rss_bytes // MB)
            if time.perf_counter() > deadline:
                self._kill(reap=False)
                talker.join(5)
                return _failure(kind, Code.CHECK_TIMEOUT, started, peak, seconds=limits.wall_seconds)
        out, err = answer.get("io", (b"", b""))
        verdict = _interpret(kind, self.process.returncode, out, err, limits, started)
        peak_mb = max(verdict.peak_memory_mb or 0.0, round(peak / MB, 1))
        return verdict.model_copy(
            update={"elapsed_ms": round((time.perf_counter() - started) * 1000, 1), "peak_memory_mb": peak_mb}
        )

    def dispose(self) -> None:
        with contextlib.suppress(OSError):
            self.channel.close()
        if self.process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                if self.process.stdin:
                    self.process.stdin.close()
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._kill()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream:
                with contextlib.suppress(OSError):
                    stream.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _kill(self, *, reap: bool = True) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if reap:
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
                self.process.wait(timeout=5)


def _interpret(
    kind: Kind, returncode: int, out: bytes, err: bytes, limits: SandboxLimits, started: float
) -> Verdict:
    if returncode == 0:
        try:
            return Verdict.model_validate_json(out)
        except ValidationError:
            return _failure(kind, Code.CHECK_CRASHED, started, detail="unreadable result")
    if returncode == EXIT_MEMORY or any(hint in err for hint in _MEMORY_HINTS):
        peak = int(_peak_from(err) * MB)
        return _failure(kind, Code.CHECK_MEMORY, started, peak, limit_mb=limits.memory_bytes // MB)
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return _failure(kind, Code.CHECK_TIMEOUT, started, seconds=limits.cpu_seconds)
    detail = f"signal {signal.Signals(-returncode).name}" if returncode < 0 else f"exit status {returncode}"
    return _failure(kind, Code.CHECK_CRASHED, started, detail=detail)


def _failure(kind: Kind, code: Code, started: float, peak: int = 0, **params: str | int | float) -> Verdict:
    report = Report(kind)
    report.add(code, **params)
    verdict = report.verdict(None)
    update: dict[str, float | None] = {"elapsed_ms": round((time.perf_counter() - started) * 1000, 1)}
    if peak:
        update["peak_memory_mb"] = round(peak / MB, 1)
    return verdict.model_copy(update=update)


def _peak_from(err: bytes) -> float:
    """The worker's peak as it printed it before dying of memory exhaustion (0 when it could not)."""
    marker = err.rfind(b"peak_memory_mb=")
    if marker < 0:
        return 0.0
    try:
        return float(err[marker + 15 :].split()[0])
    except (ValueError, IndexError):
        return 0.0


def _over_size(path: Path | str, kind: Kind, policy: CheckPolicy) -> bool:
    max_bytes = policy.pdf.max_bytes if kind == "pdf" else policy.photo.max_bytes
    return Path(path).stat().st_size > max_bytes


def group_rss(pid: int) -> int:
    """Resident bytes of process ``pid`` and all its descendants (from /proc; 0 for processes already gone)."""
    total = 0
    pending = [pid]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * _PAGE
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", "rb") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total
