"""The verdict of one uploaded file: run the sandboxed check, record it, announce it (same transaction).

Runs in the checker process (``attachments.checker``) for each AttachmentUploaded, inside the inbox transaction, so
a redelivered event has no second effect. Whatever happens to the check (crash, timeout, memory, missing blob) ends
as a rejection with a reason; only a database or broker failure raises (and is retried, then dead-lettered).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from attachments.adapters.blobstore import BlobNotFoundError, BlobStore
from attachments.adapters.orm import application, attachment
from attachments.checks import Code, Kind, Verdict, make_finding
from attachments.checks import Finding as CheckFinding
from attachments.domain.model import AttachmentState, check_kind, merge_recipients
from attachments.service_layer.rounds import now
from shared.events import AttachmentAccepted, AttachmentRejected, AttachmentUploaded, Finding, Recipient
from shared.messaging.outbox import add_event

log = logging.getLogger(__name__)

RunCheck = Callable[[Path, Kind], Awaitable[Verdict]]


def _failure(kind: Kind, code: Code, detail: str) -> Verdict:
    return Verdict(kind=kind, accepted=False, reasons=[make_finding(code, detail=detail)])


def _wire(findings: list[CheckFinding]) -> list[Finding]:
    return [Finding(code=f.code.value, message_ja=f.message_ja, message_en=f.message_en) for f in findings]


def _stored(findings: list[CheckFinding]) -> list[dict[str, Any]]:
    return [f.model_dump(mode="json") for f in findings]


async def recipients_of(session: AsyncSession, row: Mapping[Any, Any]) -> list[Recipient]:
    """Who hears about a verdict: only the addresses on record that the applications service announced."""
    known = await session.scalar(
        select(application.c.recipients).where(application.c.application_id == row["application_id"])
    )
    return [Recipient.model_validate(r) for r in merge_recipients(known or [])]


async def run_safely(run_check: RunCheck, blobs: BlobStore, sha256: str, kind: Kind) -> Verdict:
    """Check the blob; a missing blob or a failing sandbox becomes a rejection, never an exception."""
    started = time.perf_counter()
    try:
        async with blobs.local_file(sha256) as path:
            verdict = await run_check(path, kind)
    except BlobNotFoundError:
        log.error("blob %s is missing; the attachment is rejected as unchecked", sha256)
        verdict = _failure(kind, Code.CHECK_UNAVAILABLE, detail="stored file missing")
    except Exception as exc:
        log.exception("the sandbox failed on blob %s", sha256)
        verdict = _failure(kind, Code.CHECK_UNAVAILABLE, detail=type(exc).__name__)
    if verdict.elapsed_ms is None:
        verdict = verdict.model_copy(update={"elapsed_ms": round((time.perf_counter() - started) * 1000, 1)})
    return verdict


async def check_uploaded(
    session: AsyncSession, event: AttachmentUploaded, *, blobs: BlobStore, run_check: RunCheck
) -> Verdict | None:
    """Check an uploaded attachment once, record the verdict and publish it; None when there was nothing to do."""
    row = (
        (
            await session.execute(
                select(attachment).where(attachment.c.attachment_id == event.attachment_id).with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        log.warning("attachment %s is unknown here; nothing to check", event.attachment_id)
        return None
    if row["state"] != AttachmentState.CHECKING.value:
        log.info("attachment %s already has its verdict (%s)", event.attachment_id, row["state"])
        return None
    if row["kind"] not in ("document", "photo"):
        return None
    kind = check_kind(row["kind"])
    verdict = await run_safely(run_check, blobs, row["sha256"], kind)
    state = AttachmentState.ACCEPTED if verdict.accepted else AttachmentState.REJECTED
    facts = verdict.facts.model_dump(mode="json") if verdict.facts is not None else {}
    await session.execute(
        update(attachment)
        .where(attachment.c.attachment_id == event.attachment_id)
        .values(
            state=state.value,
            reasons=_stored(verdict.reasons),
            warnings=_stored(verdict.warnings),
            facts=facts,
            checked_at=now(),
            check_ms=int(verdict.elapsed_ms or 0),
        )
    )
    recipients = await recipients_of(session, row)
    common: dict[str, Any] = {
        "application_id": row["application_id"],
        "attachment_id": row["attachment_id"],
        "round_number": row["round_number"],
        "kind": row["kind"],
        "warnings": _wire(verdict.warnings),
        "recipients": recipients,
        "document_type": row["document_type"],
        **event.caused(),
    }
    if verdict.accepted:
        summary = {k: facts[k] for k in ("page_count", "min_dpi", "width_px", "height_px") if k in facts}
        await add_event(session, AttachmentAccepted(**common, facts=summary, filename=row["filename"]))
    else:
        await add_event(
            session,
            AttachmentRejected(**common, filename=row["filename"], reasons=_wire(verdict.reasons)),
        )
    log.info(
        "attachment %s %s (%s) in %.0f ms",
        event.attachment_id,
        state.value,
        ", ".join(verdict.codes) or "no findings",
        verdict.elapsed_ms or 0,
    )
    return verdict


def _findings(stored: list[dict[str, Any]]) -> list[Finding]:
    return [Finding(code=f["code"], message_ja=f["message_ja"], message_en=f["message_en"]) for f in stored]


async def announce_late_verdicts(session: AsyncSession, application_id: uuid.UUID) -> int:
    """Publish again, now with the addresses on record, the verdicts given before the draft was announced.

    A draft recorded from a synchronous read of applications has no addresses yet, so verdicts given meanwhile
    reached nobody; consumers are idempotent, so the second announcement only adds the mail. Return how many.
    """
    recipients = await recipients_of(session, {"application_id": application_id})
    if not recipients:
        return 0
    rows = (
        (
            await session.execute(
                select(attachment).where(
                    attachment.c.application_id == application_id,
                    attachment.c.kind.in_(("document", "photo")),
                    attachment.c.state != AttachmentState.CHECKING.value,
                )
            )
        )
        .mappings()
        .all()
    )
    for row in rows:
        common: dict[str, Any] = {
            "application_id": row["application_id"],
            "attachment_id": row["attachment_id"],
            "round_number": row["round_number"],
            "kind": row["kind"],
            "warnings": _findings(row["warnings"]),
            "recipients": recipients,
            "document_type": row["document_type"],
            "filename": row["filename"],
        }
        if row["state"] == AttachmentState.ACCEPTED.value:
            facts = row["facts"] or {}
            summary = {k: facts[k] for k in ("page_count", "min_dpi", "width_px", "height_px") if k in facts}
            await add_event(session, AttachmentAccepted(**common, facts=summary))
        else:
            await add_event(session, AttachmentRejected(**common, reasons=_findings(row["reasons"])))
    return len(rows)
