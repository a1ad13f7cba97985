"""Run every benchmark on this machine and write ``bench/report.md`` and ``bench/out/report.json``.

Each benchmark brings up what it needs on the benchmark stack (its own ports, under ``var/bench``) and measures
against a named baseline in the same run. Benchmarks measure; they never assert.

Ctrl-C or SIGTERM stops the running benchmark, which stops its stack; whatever is still left of the benchmark
stack is then stopped here, so an interrupted run leaves no process behind.

    .venv/bin/python bench/run.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
BENCHES = ["attachments_check", "outbox_relay", "api_throughput", "e2e_latency"]


#: How long an interrupted benchmark may take to stop its stack before it is killed.
STOP_TIMEOUT_S = 120.0


def run_child(argv: list[str], *, stop_timeout_s: float = STOP_TIMEOUT_S) -> int:
    """Run one benchmark process and return its exit code.

    On an interrupt the child is given ``stop_timeout_s`` to stop its stack before it is killed, then
    KeyboardInterrupt goes on (``subprocess.run`` would kill it after a quarter of a second, in the middle of its
    clean-up). A terminal's Ctrl-C reaches the child as well, so it is signalled only if it is still running a
    few seconds later; after SIGTERM or SIGHUP to this process alone it is signalled at once.
    """
    child = subprocess.Popen(argv)
    try:
        return child.wait()
    except KeyboardInterrupt as interrupt:
        from_terminal = not str(interrupt).startswith("signal ")
        with signals_ignored():
            try:
                child.wait(timeout=5 if from_terminal else 0.01)
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGINT)
                try:
                    child.wait(timeout=stop_timeout_s)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        raise


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    """Ignore further Ctrl-C and SIGTERM while the benchmark stops (a second Ctrl-C must not cut it short)."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_all(quick: bool) -> dict[str, Any]:
    """Run each benchmark as its own process; collect their JSON."""
    results: dict[str, Any] = {}
    for name in BENCHES:
        argv = [sys.executable, str(HERE / f"{name}.py"), *(["--quick"] if quick else [])]
        print(f"== {name}", flush=True)
        started = time.monotonic()
        code = run_child(argv)
        out = OUT / f"{name}.json"
        if code == 0 and out.exists():
            results[name] = json.loads(out.read_text())
        else:
            results[name] = {"error": f"exit code {code}"}
        results[name]["wall_s"] = round(time.monotonic() - started, 1)
    return results


def stop_leftovers() -> None:
    """Stop whatever is left of the benchmark stack (after an interrupt)."""
    sys.path.insert(0, str(HERE))
    from common import bench_stack

    with signals_ignored():
        bench_stack().down()


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(results: dict[str, Any], quick: bool) -> str:
    """Render the Markdown report."""
    lines = [
        "# Benchmark report",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({platform.machine()}, "
        f"{__import__('os').cpu_count()} cores), Python {platform.python_version()}"
        f"{' — QUICK mode (smoke sizes; figures are indicative only)' if quick else ''}.",
        "Every figure is a median over repeated runs with its spread, against a baseline measured in the same run.",
        "",
    ]
    a = results.get("attachments_check", {})
    if "results" in a:
        lines += [
            "## 1. Attachment checks (target ≤ 1.5× bare `open` + `check_pdf_syntax()`)",
            "",
            "| file | MB | pages | sandboxed pool s | fresh child s | baseline s | pool ratio | fresh ratio |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in a["results"]:
            st = f["stats"]
            r = f["ratio_to_baseline"]
            lines.append(
                f"| {f['file']} | {f['size_mb']} | {f['pages']} | {st['sandboxed_pool']['median_s']:.3f} | "
                f"{st['sandboxed_fresh_child']['median_s']:.3f} | "
                f"{st['baseline_pikepdf_open_check_pdf_syntax']['median_s']:.3f} | {r['sandboxed_pool']}× | "
                f"{r['sandboxed_fresh_child']}× |"
            )
        worst = max(f["ratio_to_baseline"]["sandboxed_pool"] or 0 for f in a["results"])
        big = [f["ratio_to_baseline"]["sandboxed_pool"] or 0 for f in a["results"] if f["size_mb"] >= 4]
        lines += [
            "",
            f"Worst pool ratio {worst}× (files of about 5–10 MB: up to {max(big) if big else '-'}×) — "
            f"target {_verdict(worst <= 1.5)}.",
            "What limits it: the verdict does more than the baseline — encryption and rights-management "
            "inspection, our own structure checks beyond `check_pdf_syntax()` (a raw scan for references to "
            "missing objects, the page tree's `/Count`, header and `%%EOF`) and the placement walk that gives "
            "every image's effective dpi — and it runs in a sandboxed worker process (a hand-off of tens of "
            "milliseconds; about 0.1 s more for a fresh child). On small files that fixed cost dominates: the "
            "worst ratio is a one-page scan whose whole check takes a few tens of milliseconds. What would fix "
            "it: one pass over the parsed objects for the missing-object scan and the dpi walk instead of two, "
            "and handing the warm worker an open file descriptor instead of a path. Per-MB figures are in "
            "`bench/out/attachments_check.json`.",
            "",
        ]
    e = results.get("e2e_latency", {})
    if "steps" in e:
        lines += [
            "## 2. End-to-end latency: submit → receipt e-mail accepted by the SMTP server",
            "",
            "| rate/s | seconds | receipts | p50 ms | p95 ms | p99 ms | max ms | held |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for s in e["steps"]:
            lines.append(
                f"| {s['rate_per_s']} | {s['seconds']} | {s['receipts']}/{s['submitted']} | {s['p50_ms']} | "
                f"{s['p95_ms']} | {s['p99_ms']} | {s['max_ms']} | {s['held']} |"
            )
        at50 = [s for s in e["steps"] if s["rate_per_s"] == 50.0]
        if at50:
            lines += [
                "",
                f"Target p99 ≤ 500 ms at 50/s: {_verdict(at50[0]['p99_ms'] <= 500 and at50[0]['held'])}.",
            ]
        lines += [
            f"Highest rate held: {e['highest_rate_held_per_s']}/s (every receipt arrived and latency did not "
            "grow over the run). Above it latency grows during the run: a backlog builds in front of "
            "single-process services on a 2-core machine that also runs Kafka, PostgreSQL, the SMTP server and "
            "the load generator. Which stage saturates first (the submit handler, the outbox relay, the "
            "notifications consumer or its SMTP worker) is not yet profiled; a second process per service is the "
            "obvious next measurement.",
            "",
        ]
    api = results.get("api_throughput", {})
    if "authenticated_application_read" in api:
        app, bare = api["authenticated_application_read"], api["baseline_bare_fastapi"]
        ok = app["requests_per_s"] >= 1000 and api["ratio_to_baseline"] >= 0.25
        lines += [
            "## 3. API throughput (wrk -t2 -c32): authenticated application read vs bare FastAPI",
            "",
            "| endpoint | req/s | p50 ms | p99 ms | spread |",
            "|---|---|---|---|---|",
            f"| GET /api/applications/{{id}} (token, DB) | {app['requests_per_s']} | {app['p50_ms']} | "
            f"{app['p99_ms']} | {app['spread']} |",
            f"| bare FastAPI, fixed JSON | {bare['requests_per_s']} | {bare['p50_ms']} | {bare['p99_ms']} | "
            f"{bare['spread']} |",
            "",
            f"Ratio {api['ratio_to_baseline']}× — target (≥ 1,000/s and ≥ 0.25×) {_verdict(ok)}.",
            "What limits it: each read is one Python process doing token verification (cached per token), two "
            "PostgreSQL round trips (application row, attachment summary), OpenTelemetry HTTP instrumentation "
            "and response validation — about 1 ms of CPU per request on a 2-core machine shared with wrk and "
            "PostgreSQL, while the bare endpoint does none of it. What would fix it: several uvicorn workers "
            "per service on real hardware, one query for the read model, conditional GETs (the ETag exists, "
            "so `If-None-Match` → 304 without rendering), and a read-model cache invalidated by version.",
            "",
        ]
    o = results.get("outbox_relay", {})
    if "relay" in o:
        lines += [
            "## 4. Outbox relay vs bare aiokafka producer (same settings, same broker)",
            "",
            "| | events/s (median) | min | max |",
            "|---|---|---|---|",
            f"| outbox relay (DB read + publish + mark sent) | {o['relay']['median_per_s']} | "
            f"{o['relay']['min_per_s']} | {o['relay']['max_per_s']} |",
            f"| bare AIOKafkaProducer | {o['baseline_bare_aiokafka_producer']['median_per_s']} | "
            f"{o['baseline_bare_aiokafka_producer']['min_per_s']} | "
            f"{o['baseline_bare_aiokafka_producer']['max_per_s']} |",
            "",
            f"Ratio {o['ratio_to_baseline']}× — target ≥ 0.5× {_verdict(o['ratio_to_baseline'] >= 0.5)}.",
            "The relay reads a batch of up to 1,000 rows with `FOR UPDATE SKIP LOCKED`, sends them all before "
            "waiting for the acknowledgements, and marks them sent in the same transaction; the payload is "
            "taken as stored JSON text (no parse and re-serialise). The gap to the bare producer is the two "
            "statements per batch and the wait for the broker before the next batch is read; pipelining the "
            "next read with the current acknowledgements would close most of it.",
            "",
        ]
    mem_rows = []
    if "memory_mb" in api:
        mem_rows.append(
            f"| applications | {api['memory_mb']['applications_idle']} | "
            f"{api['memory_mb']['applications_under_load']} (API load) |"
        )
    for service, m in e.get("memory", {}).items():
        mem_rows.append(
            f"| {service} | {m.get('idle_mb')} | {m.get('after_load_mb')} (after the latency run) |"
        )
    if mem_rows:
        lines += [
            "## 5. Memory (resident set size, MiB)",
            "",
            "| service | idle | under load |",
            "|---|---|---|",
            *mem_rows,
            "",
        ]
    peak = e.get("national_peak")
    if peak:
        lines += [
            "## 6. National peak",
            "",
            f"ISA handled about {peak['yearly_applications']:,} residence applications a year. Assuming "
            f"{int(peak['assumptions']['jan_mar_share'] * 100)} % of them fall in January–March "
            f"({peak['assumptions']['working_days']} working days) and the busiest hour carries "
            f"{int(peak['assumptions']['busiest_hour_share'] * 100)} % of a day: "
            f"{peak['peak_day_submissions']:,} submissions on a peak day, "
            f"{peak['peak_hour_rate_per_s']}/s in its busiest hour.",
            f"One 2-core machine running everything held {peak['highest_rate_held_per_s']}/s: headroom "
            f"{peak['headroom']}× over the busiest hour; a whole peak day's submissions compressed into "
            f"{peak['peak_day_compressed_minutes']} minutes.",
            "",
        ]
    lines += [
        "Raw figures: `bench/out/*.json`. Run again with `make bench` (or `.venv/bin/python bench/run.py --quick`).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from bench/out/*.json")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        results = {
            n: json.loads((OUT / f"{n}.json").read_text()) for n in BENCHES if (OUT / f"{n}.json").exists()
        }
    else:
        sys.path.insert(0, str(HERE))
        from common import raise_on_termination

        raise_on_termination()
        try:
            results = run_all(args.quick)
        except KeyboardInterrupt:
            print("bench: interrupted; stopping the benchmark stack", file=sys.stderr, flush=True)
            stop_leftovers()
            sys.exit(130)
    (OUT / "report.json").write_text(json.dumps(results, indent=2))
    text = report(results, args.quick)
    (HERE / "report.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
