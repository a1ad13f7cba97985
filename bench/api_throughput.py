"""API throughput: authenticated reads of an application, driven by wrk, against a bare FastAPI endpoint served
the same way (one uvicorn process each, same options), measured in the same run. Also the resident memory of the
applications process idle and under this load.

    .venv/bin/python bench/api_throughput.py [--seconds 10] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import OUT, PYTHON_ARGS, bench_stack, rss_mb, running_stack, wrk
from localstack import PYTHON, Stack, port_open, wait_until
from shared.auth import APPLICANT_ROLE, Principal, TokenSigner
from tests.applications.integration.applications_support import extension_draft

BARE_PORT = 38198


def start_bare(stack: Stack) -> None:
    """Serve bench/bare_app.py exactly as the services are served."""
    proc = stack.proc("bare-app")
    proc.start([PYTHON, "-m", "uvicorn", *PYTHON_ARGS, "bench.bare_app:app", "--port", str(BARE_PORT)])
    wait_until(lambda: port_open(BARE_PORT), 30, "the bare app")


async def create_application(stack: Stack, headers: dict[str, str]) -> str:
    """Create one draft application and return its URL."""
    base = f"http://127.0.0.1:{stack.ports.services['applications']}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        created = await client.post("/api/applications", json=extension_draft(bureau="TKY"), headers=headers)
        created.raise_for_status()
        return f"{base}/api/applications/{created.json()['id']}"


def measure_with_memory(
    url: str, pid: int, *, headers: dict[str, str] | None, seconds: int
) -> dict[str, Any]:
    """Run wrk and sample the process's resident memory meanwhile; return wrk's figures and the peak RSS."""
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.5)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        result = wrk(url, headers=headers, seconds=seconds)
    finally:
        done.set()
        thread.join()
    return {**result, "rss_peak_mb": peak[0]}


def run(stack: Stack, *, seconds: int, rounds: int) -> dict[str, Any]:
    """Measure both endpoints in alternating rounds."""
    signer = TokenSigner((stack.keys_dir / "token_private.pem").read_text())
    applicant = Principal(
        user_id=uuid.uuid4(), roles=frozenset({APPLICANT_ROLE}), category="foreign_national"
    )
    headers = {"Authorization": f"Bearer {signer.sign(applicant, ttl=timedelta(hours=2))}"}
    app_url = asyncio.run(create_application(stack, headers))
    app_pid = stack.proc("applications").pid()
    bare_pid = stack.proc("bare-app").pid()
    assert app_pid and bare_pid
    idle = rss_mb(app_pid)
    wrk(app_url, headers=headers, seconds=2)  # warm-up
    wrk(f"http://127.0.0.1:{BARE_PORT}/bare", seconds=2)
    app_runs, bare_runs = [], []
    for _ in range(rounds):
        app_runs.append(measure_with_memory(app_url, app_pid, headers=headers, seconds=seconds))
        bare_runs.append(
            measure_with_memory(f"http://127.0.0.1:{BARE_PORT}/bare", bare_pid, headers=None, seconds=seconds)
        )

    def med(runs: list[dict[str, Any]], key: str) -> float:
        return round(float(statistics.median(float(r[key]) for r in runs)), 2)

    app = {k: med(app_runs, k) for k in ("requests_per_s", "p50_ms", "p99_ms")}
    bare = {k: med(bare_runs, k) for k in ("requests_per_s", "p50_ms", "p99_ms")}
    app["spread"] = round(
        (max(r["requests_per_s"] for r in app_runs) - min(r["requests_per_s"] for r in app_runs))
        / app["requests_per_s"],
        3,
    )
    bare["spread"] = round(
        (max(r["requests_per_s"] for r in bare_runs) - min(r["requests_per_s"] for r in bare_runs))
        / bare["requests_per_s"],
        3,
    )
    return {
        "benchmark": "api_throughput",
        "tool": "wrk -t2 -c32",
        "seconds_per_run": seconds,
        "rounds": rounds,
        "authenticated_application_read": app,
        "baseline_bare_fastapi": bare,
        "ratio_to_baseline": round(app["requests_per_s"] / bare["requests_per_s"], 2),
        "errors": sum(r["non_2xx"] + r["socket_errors"] for r in app_runs),
        "memory_mb": {
            "applications_idle": idle,
            "applications_under_load": max(r["rss_peak_mb"] for r in app_runs),
        },
        "target": ">= 1000 reads/s and >= 0.25x the bare endpoint",
    }


def main() -> None:
    """Command line: brings up the benchmark stack's infrastructure and the applications service, then measures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 3, 1
    with running_stack(bench_stack(fresh=True)) as stack:  # stops everything, the bare app included
        stack.infra_up()
        stack.start_service("applications")
        start_bare(stack)
        result = run(stack, seconds=args.seconds, rounds=args.rounds)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "api_throughput.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
