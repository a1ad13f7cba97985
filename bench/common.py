"""Shared pieces of the benchmarks: the benchmark stack, statistics, wrk, resident memory."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "deploy"))

from localstack import Ports, Stack, raise_on_termination  # noqa: E402

__all__ = ["OUT", "ROOT", "bench_stack", "raise_on_termination", "rss_mb", "running_stack", "summary", "wrk"]

# How services (and the bare baseline) are served: the same as deploy/localstack.py's start_service.
# The services run through shared.serve with shared.http.uvicorn_limits(); the bare baseline gets the same.
PYTHON_ARGS = [
    "--host",
    "127.0.0.1",
    "--no-access-log",
    "--http",
    "h11",
    "--h11-max-incomplete-event-size",
    "16384",
    "--timeout-keep-alive",
    "5",
]


def bench_stack(*, fresh: bool = False) -> Stack:
    """Return the benchmarks' own stack, on ports apart from the developer stack and the tests.

    ``fresh`` stops it and removes its data first, so that no earlier run's backlog is measured.
    ``RAS_BENCH_PORT_OFFSET`` moves it (ports + offset, folder ``var/bench-<offset>``), as the tests' offset does.
    """
    if fresh:
        old = bench_stack()
        old.down()
        shutil.rmtree(old.var, ignore_errors=True)
    off = int(os.environ.get("RAS_BENCH_PORT_OFFSET", "0"))
    return Stack(
        ROOT / "var" / (f"bench-{off}" if off else "bench"),
        Ports(
            kafka=39092 + off,
            kafka_controller=39093 + off,
            postgres=35432 + off,
            smtp=3525 + off,
            services={
                "identity": 38101 + off,
                "applications": 38102 + off,
                "attachments": 38103 + off,
                "notifications": 38104 + off,
            },
            card_gateway=38105 + off,
            ocsp=38110 + off,
            mynaportal=38199 + off,
        ),
    )


@contextlib.contextmanager
def running_stack(stack: Stack, *, keep: bool = False) -> Iterator[Stack]:
    """Yield ``stack``; when the block ends — normally, by an error, Ctrl-C or SIGTERM — stop every process of it.

    Start the stack's parts inside the block: an interrupt half-way through a start stops what already runs.
    ``keep`` leaves it running on a normal end (for a look afterwards), never on an interrupt.
    """
    raise_on_termination()
    interrupted = False
    try:
        yield stack
    except BaseException:
        interrupted = True
        raise
    finally:
        if interrupted or not keep:
            stack.down()


def summary(values: list[float], *, digits: int = 4) -> dict[str, float]:
    """Return median, min, max and the relative spread (max-min over median) of repeated measurements."""
    median = statistics.median(values)
    return {
        "median": round(median, digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "spread": round((max(values) - min(values)) / median, 3) if median else 0.0,
        "runs": len(values),
    }


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    seconds: int = 10,
    connections: int = 32,
    threads: int = 2,
) -> dict[str, Any]:
    """Run wrk against ``url`` and return requests/s, latency percentiles (ms) and errors."""
    script = None
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if headers:
        lines = [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write("\n".join(lines) + "\n")
        script.close()
        argv += ["-s", script.name]
    output = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    if script:
        Path(script.name).unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "requests_per_s": rps,
        "p50_ms": percentiles.get("50"),
        "p99_ms": percentiles.get("99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def rss_mb(pid: int) -> float:
    """Return the resident set size of a process and its children, in MiB."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return round(total / 1024, 1)
