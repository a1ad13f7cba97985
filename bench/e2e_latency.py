"""End-to-end latency: from the submit request to the receipt e-mail accepted by the SMTP server.

Everything runs on this machine as real processes (PostgreSQL, Kafka, the applications and notifications
services, the SMTP catcher). Drafts are prepared first (not timed): created over HTTP, their forms filled, and the
attachments service's verdicts published as it would (attachment-accepted events). Then submissions are sent
open-loop at a steady rate; each latency is the time from sending the submit request to the moment the SMTP
server accepted the receipt mail (the catcher names each file with the acceptance time in nanoseconds).

A rate counts as *held* when every receipt arrived and the latency did not grow over the run (the median of the
last tenth is at most twice that of the first tenth, i.e. the consumers kept up).

    .venv/bin/python bench/e2e_latency.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import OUT, bench_stack, rss_mb, running_stack
from localstack import Stack
from shared.auth import APPLICANT_ROLE, Principal, TokenSigner
from shared.events import AttachmentAccepted
from tests.applications.integration.applications_support import (
    SELF_EXTENSION_KINDS,
    extension_draft,
    full_extension_form,
    today,
)

# ISA handled about 2.2 million residence applications in 2019 (domain.md §8).
YEARLY_APPLICATIONS = 2_200_000


def percentile(values: list[float], p: float) -> float:
    """Return the p-th percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class Bench:
    """Drafts ready to submit, and the clients to do it."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.base = f"http://127.0.0.1:{stack.ports.services['applications']}"
        self.signer = TokenSigner((stack.keys_dir / "token_private.pem").read_text())
        self.producer: AIOKafkaProducer | None = None

    async def prepare(self, client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
        """Create ``count`` complete drafts with accepted attachments; return their path, headers and address."""
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.stack.kafka_bootstrap, acks="all", linger_ms=5
        )
        await self.producer.start()
        gate = asyncio.Semaphore(16)
        expires = today() + timedelta(days=60)

        async def one() -> dict[str, Any]:
            async with gate:
                principal = Principal(
                    user_id=uuid.uuid4(), roles=frozenset({APPLICANT_ROLE}), category="foreign_national"
                )
                headers = {"Authorization": f"Bearer {self.signer.sign(principal, ttl=timedelta(hours=3))}"}
                address = f"bench-{uuid.uuid4().hex[:12]}@example.jp"
                created = await client.post(
                    "/api/applications",
                    json=extension_draft(bureau="TKY", expires=expires, email=address),
                    headers=headers,
                )
                created.raise_for_status()
                path = f"/api/applications/{created.json()['id']}"
                saved = await client.patch(
                    f"{path}/forms/extension",
                    json=full_extension_form(expires),
                    headers=headers | {"If-Match": created.headers["ETag"]},
                )
                saved.raise_for_status()
                application_id = uuid.UUID(created.json()["id"])
                assert self.producer is not None
                for kind in SELF_EXTENSION_KINDS:
                    event = AttachmentAccepted(
                        application_id=application_id,
                        attachment_id=uuid.uuid4(),
                        round_number=1,
                        kind="photo" if kind == "face_photo" else "document",
                        document_type=kind,
                    )
                    await self.producer.send(
                        event.topic(), event.model_dump_json().encode(), key=event.key().encode()
                    )
                return {"path": path, "headers": headers, "address": address}

        drafts = await asyncio.gather(*(one() for _ in range(count)))
        await self.producer.flush()

        async def ready(draft: dict[str, Any]) -> None:
            async with gate:
                for _ in range(600):
                    body = (await client.get(draft["path"], headers=draft["headers"])).json()
                    if sum(1 for a in body["attachments"] if a["state"] == "accepted") >= len(
                        SELF_EXTENSION_KINDS
                    ):
                        return
                    await asyncio.sleep(0.1)
                raise RuntimeError(f"attachments never showed as accepted on {draft['path']}")

        await asyncio.gather(*(ready(d) for d in drafts))
        await self.producer.stop()
        return list(drafts)

    async def submit_at(
        self, client: httpx.AsyncClient, drafts: list[dict[str, Any]], rate: float
    ) -> dict[str, float]:
        """Submit every draft open-loop at ``rate`` per second; return when each submit request was sent."""
        sent: dict[str, float] = {}
        start = time.time()

        async def one(index: int, draft: dict[str, Any]) -> None:
            delay = start + index / rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[draft["address"]] = time.time()
            response = await client.post(f"{draft['path']}/submit", headers=draft["headers"])
            response.raise_for_status()

        await asyncio.gather(*(one(i, d) for i, d in enumerate(drafts)))
        return sent


def receipt_times(mail_dir: Path, addresses: set[str]) -> dict[str, float]:
    """Return, per address, when the SMTP server accepted its receipt mail (epoch seconds)."""
    found: dict[str, float] = {}
    for path in mail_dir.glob("*.eml"):
        with open(path, "rb") as fh:
            head = fh.read(4096).decode(errors="replace")
        first = head.split("\r\n", 1)[0]
        if not first.startswith("X-Envelope-To: "):
            continue
        to = first.removeprefix("X-Envelope-To: ").strip()
        if to not in addresses or "X-RAS-Template: application_submitted" not in head:
            continue
        accepted = int(path.name.split("-", 1)[0]) / 1e9
        found[to] = min(found.get(to, accepted), accepted)
    return found


async def measure(stack: Stack, rate: float, seconds: int) -> dict[str, Any]:
    """Prepare, submit at ``rate`` for ``seconds``, wait for the receipts, and summarise the latencies."""
    bench = Bench(stack)
    count = int(rate * seconds)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=bench.base, timeout=60, limits=limits) as client:
        drafts = await bench.prepare(client, count)
        sent = await bench.submit_at(client, drafts, rate)
    addresses = set(sent)
    deadline = time.time() + 120
    received: dict[str, float] = {}
    while time.time() < deadline:
        received = receipt_times(stack.mail_dir, addresses)
        if len(received) == len(addresses):
            break
        await asyncio.sleep(0.5)
    ordered = sorted(sent, key=lambda a: sent[a])
    latencies = [(received[a] - sent[a]) * 1000 for a in ordered if a in received]
    tenth = max(1, len(latencies) // 10)
    first, last = statistics.median(latencies[:tenth]), statistics.median(latencies[-tenth:])
    return {
        "rate_per_s": rate,
        "seconds": seconds,
        "submitted": count,
        "receipts": len(received),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "first_tenth_median_ms": round(first, 1),
        "last_tenth_median_ms": round(last, 1),
        "held": len(received) == count and last <= 2 * max(first, 50.0),
    }


def national_peak(max_held_rate: float) -> dict[str, Any]:
    """Japan's yearly volume with the January–March peak, against the highest rate one machine held."""
    peak_share = 0.40  # assumption: 40 % of the year's filings fall in January–March
    peak_days = 61  # working days in January–March
    peak_hour_share = 0.15  # assumption: the busiest hour of a working day carries 15 % of that day
    per_day = YEARLY_APPLICATIONS * peak_share / peak_days
    peak_hour_rate = per_day * peak_hour_share / 3600
    return {
        "yearly_applications": YEARLY_APPLICATIONS,
        "assumptions": {
            "jan_mar_share": peak_share,
            "working_days": peak_days,
            "busiest_hour_share": peak_hour_share,
        },
        "peak_day_submissions": round(per_day),
        "peak_hour_rate_per_s": round(peak_hour_rate, 2),
        "highest_rate_held_per_s": max_held_rate,
        "headroom": round(max_held_rate / peak_hour_rate, 1) if peak_hour_rate else None,
        "peak_day_compressed_minutes": round(per_day / max_held_rate / 60, 1) if max_held_rate else None,
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one short step at 10/s")
    args = parser.parse_args()
    steps = [(10.0, 10)] if args.quick else [(25.0, 30), (50.0, 60), (75.0, 30)]
    services = ("identity", "applications", "attachments", "notifications")
    memory: dict[str, dict[str, Any]] = {}
    with running_stack(bench_stack(fresh=True)) as stack:
        stack.infra_up()
        for service in services:
            stack.start_service(service)
        for service in services:
            pid = stack.proc(service).pid()
            memory[service] = {"idle_mb": rss_mb(pid) if pid else 0.0}
        asyncio.run(measure(stack, 5.0, 4))  # warm-up (consumers joined, connections open); not reported
        results = []
        for rate, seconds in steps:
            results.append(asyncio.run(measure(stack, rate, seconds)))
            print(json.dumps(results[-1]), flush=True)
        for service in services:
            pid = stack.proc(service).pid()
            memory[service]["after_load_mb"] = rss_mb(pid) if pid else 0.0
            memory[service]["loaded"] = service in ("applications", "notifications")
    held = [r["rate_per_s"] for r in results if r["held"]]
    report = {
        "benchmark": "e2e_latency",
        "steps": results,
        "memory": memory,
        "highest_rate_held_per_s": max(held) if held else 0.0,
        "national_peak": national_peak(max(held) if held else 0.0),
        "target": "p99 <= 500 ms at 50 submissions/s",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "e2e_latency.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
