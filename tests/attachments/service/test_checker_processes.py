"""The checker scales by running more processes: two ``python -m attachments.checker`` share the uploads."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiokafka.partitioner import murmur2

from shared.events import AttachmentAccepted, AttachmentUploaded
from tests.attachments.checks.attachment_check_factories import Files
from tests.attachments.service.support import AttachmentsStack, applicant, events_for
from tests.support.apps import Infra, eventually

pytestmark = pytest.mark.integration

PARTITIONS = 3
_ASSIGNED = re.compile(r"assigned to partitions: \((.*)\)")


def checker_env(stack: AttachmentsStack, infra: Infra) -> dict[str, str]:
    """The ATTACHMENTS_* environment of a checker process on the test infrastructure (as deploy/localstack.py)."""
    settings = stack.settings
    return {
        **os.environ,
        "ATTACHMENTS_DATABASE_URL": settings.database_url,
        "ATTACHMENTS_KAFKA__BOOTSTRAP_SERVERS": infra.stack.kafka_bootstrap,
        "ATTACHMENTS_AUTH__PUBLIC_KEY_PEM": infra.public_key,
        "ATTACHMENTS_BLOB_DIR": str(settings.blob_dir),
        "ATTACHMENTS_MESSAGING__OUTBOX_POLL_INTERVAL_S": "0.2",
        "ATTACHMENTS_CHECKER__SANDBOX__CPU_SECONDS": "3",
        "ATTACHMENTS_CHECKER__SANDBOX__WALL_SECONDS": "12",
        "ATTACHMENTS_TELEMETRY__JSON_LOGS": "true",
    }


@contextmanager
def checker_processes(count: int, env: dict[str, str], logs: Path) -> Iterator[list[Path]]:
    """Start ``count`` checker processes; yield their log files; stop them with SIGTERM."""
    processes: list[subprocess.Popen[bytes]] = []
    paths = [logs / f"checker-{i}.log" for i in range(count)]
    try:
        for path in paths:
            with path.open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "attachments.checker"], env=env, stdout=log, stderr=log
                    )
                )
        yield paths
        for process in processes:
            assert process.poll() is None, "a checker process died"
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                assert process.wait(timeout=30) == 0, "a checker did not stop cleanly on SIGTERM"
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise


def partitions_held(path: Path) -> int | None:
    """How many partitions the process's consumer holds now (from its latest assignment log line)."""
    found = _ASSIGNED.findall(path.read_text(errors="replace"))
    return found[-1].count("TopicPartition(") if found else None


def keys_on_every_partition(per_partition: int) -> list[uuid.UUID]:
    """Application ids whose messages land on each partition ``per_partition`` times (Kafka's default hash)."""
    buckets: dict[int, list[uuid.UUID]] = {p: [] for p in range(PARTITIONS)}
    while any(len(b) < per_partition for b in buckets.values()):
        key = uuid.uuid4()
        bucket = buckets[(murmur2(str(key).encode()) & 0x7FFFFFFF) % PARTITIONS]
        if len(bucket) < per_partition:
            bucket.append(key)
    return [k for b in buckets.values() for k in b]


async def test_two_checker_processes_share_the_uploads_and_publish_each_verdict_once(
    stack: AttachmentsStack, infra: Infra, files: Files, tmp_path: Path
) -> None:
    await stack.stop_checker()
    try:
        with checker_processes(2, checker_env(stack, infra), tmp_path) as logs:

            def balanced() -> bool:
                held = [partitions_held(p) or 0 for p in logs]
                return all(0 < h < PARTITIONS for h in held) and sum(held) == PARTITIONS

            await eventually(balanced, timeout=90, interval=0.3)
            person = applicant()
            uploads = []
            for application_id in keys_on_every_partition(2):
                await stack.draft(person, application_id=application_id)
                response = await stack.upload(person, application_id, files.plain_bytes(files.text_pdf()))
                assert response.status_code == 202, response.text
                uploads.append(response.json()["attachment_id"])
            for attachment_id in uploads:
                assert (await stack.verdict(person, attachment_id))["state"] == "accepted"
            for attachment_id in uploads:
                published = await events_for(stack.bootstrap, AttachmentAccepted, attachment_id)
                assert len(published) == 1, f"{attachment_id} was announced {len(published)} times"
                assert len(await events_for(stack.bootstrap, AttachmentUploaded, attachment_id)) == 1
            worked = [{a for a in uploads if a in path.read_text(errors="replace")} for path in logs]
            assert all(worked), f"each process checks its share: {[len(w) for w in worked]}"
            assert not worked[0] & worked[1], "no upload was checked by both processes"
            assert worked[0] | worked[1] == set(uploads)
            for path in logs:
                for line in path.read_text(errors="replace").splitlines():
                    if line.startswith("{"):
                        assert json.loads(line).get("level") != "ERROR", line
    finally:
        await stack.start_checker()
