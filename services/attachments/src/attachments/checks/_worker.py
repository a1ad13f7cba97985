"""Sandbox worker: ``python -m attachments.checks._worker`` reads one request, limits itself, checks, answers."""

from __future__ import annotations

import math
import os
import resource
import socket
import sys
import traceback
from typing import BinaryIO

from attachments.checks.models import SandboxLimits
from attachments.checks.sandbox import EXIT_CRASH, EXIT_MEMORY, FD_CHANNEL_ENV, CheckRequest, check_file


def apply_limits(limits: SandboxLimits) -> None:
    """Limit this process (and the programs it starts, such as jbig2dec) with setrlimit."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(usage.ru_utime + usage.ru_stime) + limits.cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))


def receive_file() -> BinaryIO:
    """The file the parent opened and handed over the FD channel (the worker never opens the path itself)."""
    channel = socket.socket(fileno=int(os.environ[FD_CHANNEL_ENV]))
    _, fds, _, _ = socket.recv_fds(channel, 1, 1)
    channel.close()
    if not fds:
        raise RuntimeError("no file handed over")
    return os.fdopen(fds[0], "rb")


def peak_memory_mb() -> float:
    """The higher of this process's peak resident memory and that of the largest program it started and reaped."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)  # ru_maxrss is in KiB on Linux


def main() -> None:
    """Serve one request from stdin; the verdict goes to the original stdout, anything else to stderr."""
    result_fd = os.dup(1)
    os.dup2(2, 1)  # qpdf or Pillow writing to stdout must not corrupt the answer
    import pikepdf  # noqa: F401  # warm up before the request arrives
    import PIL.Image  # noqa: F401

    import attachments.checks.pdf
    import attachments.checks.photo  # noqa: F401

    raw = sys.stdin.buffer.read()
    if not raw:
        os._exit(0)
    try:
        request = CheckRequest.model_validate_json(raw)
        handle = receive_file() if request.handed_file else None
        apply_limits(request.limits)
        verdict = check_file(request.path, request.kind, request.policy, handle)
        verdict = verdict.model_copy(update={"peak_memory_mb": peak_memory_mb()})
        answer = verdict.model_dump_json().encode()
    except MemoryError:
        os.write(2, f"peak_memory_mb={peak_memory_mb()}\n".encode())
        os._exit(EXIT_MEMORY)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(EXIT_CRASH)
    view = memoryview(answer)
    while view:
        written = os.write(result_fd, view)
        view = view[written:]
    os._exit(0)


if __name__ == "__main__":
    main()
