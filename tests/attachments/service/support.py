"""Helpers of the attachments service tests: principals, tokens, uploads, waiting for verdicts and events."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from attachments.checker import Checker
from attachments.config import AttachmentsSettings
from attachments.main import create_app
from shared.auth import APPLICANT_ROLE, OFFICER_ROLE, Principal, TokenSigner
from shared.events import ApplicationDraftCreated, Event, Recipient
from tests.attachments.checks.attachment_check_factories import Files
from tests.support.apps import Infra, eventually, running
from tests.support.kafka import produce, read_topic


async def publish(bootstrap: str, event: Event) -> None:
    """Publish an applications-service event as that service would."""
    await produce(bootstrap, event.topic(), event.model_dump_json().encode(), key=event.key().encode())


def padded_pdf(files: Files, size: int) -> bytes:
    """A valid one-page PDF of about ``size`` bytes (a long comment in its uncompressed page content)."""
    pdf = files.text_pdf(pages=1)
    pdf.pages[0].Contents = pdf.make_stream(b"%" + b"x" * size + b"\nBT ET")
    return files.plain_bytes(pdf)


def applicant(category: str = "foreign_national", acts_for: frozenset[uuid.UUID] = frozenset()) -> Principal:
    """A new signed-in member of the public."""
    return Principal(
        user_id=uuid.uuid4(), roles=frozenset({APPLICANT_ROLE}), category=category, acts_for=acts_for
    )


def officer(bureau: str = "tokyo") -> Principal:
    """A new bureau officer."""
    return Principal(user_id=uuid.uuid4(), roles=frozenset({OFFICER_ROLE}), bureau=bureau)


@dataclass
class AttachmentsStack:
    """The running app (with its HTTP client) and what the tests need to talk to it."""

    client: httpx.AsyncClient
    settings: AttachmentsSettings
    signer: TokenSigner
    bootstrap: str
    app: FastAPI | None = None
    checker: Checker | None = None

    async def start_checker(self) -> None:
        """Start an in-process checker (the session's stack starts with one)."""
        if self.checker is None:
            checker = Checker(self.settings)
            await checker.start()
            self.checker = checker

    async def stop_checker(self) -> None:
        """Stop the in-process checker (e.g. while separate checker processes do the work)."""
        checker, self.checker = self.checker, None
        if checker is not None:
            await checker.stop()

    def auth(self, principal: Principal) -> dict[str, str]:
        """The Authorization header of a fresh token for the principal."""
        return {"Authorization": f"Bearer {self.signer.sign(principal)}"}

    async def draft(
        self,
        filer: Principal,
        *,
        applicant_id: uuid.UUID | None = None,
        bureau: str = "tokyo",
        email: str | None = None,
        filer_email: str | None = None,
        application_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """Announce a new draft as the applications service does (application-draft-created); wait till known."""
        application_id = application_id or uuid.uuid4()
        owner = applicant_id or filer.user_id
        recipients = [Recipient(email=email or f"applicant-{owner.hex[:8]}@example.jp", locale="ja")]
        if filer_email:
            recipients.append(Recipient(email=filer_email, locale="en", role="filer"))
        await publish(
            self.bootstrap,
            ApplicationDraftCreated(
                application_id=application_id,
                applicant_id=owner,
                filer_user_id=filer.user_id,
                filers=[owner, filer.user_id],
                bureau=bureau,
                procedures=["extension"],
                recipients=recipients,
            ),
        )
        await self.known(filer, application_id)
        return application_id

    async def known(self, principal: Principal, application_id: uuid.UUID) -> None:
        """Wait until the service has consumed the application's announcement."""

        async def seen() -> bool:
            response = await self.client.get(
                f"/api/attachments/applications/{application_id}", headers=self.auth(principal)
            )
            return response.status_code == 200

        await eventually(seen, timeout=60, interval=0.1)

    async def upload(
        self,
        principal: Principal,
        application_id: uuid.UUID,
        body: bytes | AsyncIterable[bytes],
        *,
        kind: str = "document",
        filename: str = "documents.pdf",
        headers: dict[str, str] | None = None,
        **params: str,
    ) -> httpx.Response:
        """POST one file as the raw request body."""
        return await self.client.post(
            f"/api/attachments/applications/{application_id}/attachments",
            params={"kind": kind, "filename": filename, **params},
            content=body,
            headers={**self.auth(principal), **(headers or {})},
        )

    async def attachment(self, principal: Principal, attachment_id: str | uuid.UUID) -> dict[str, Any]:
        """GET one attachment."""
        response = await self.client.get(
            f"/api/attachments/attachments/{attachment_id}", headers=self.auth(principal)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def verdict(
        self, principal: Principal, attachment_id: str | uuid.UUID, timeout: float = 90
    ) -> dict[str, Any]:
        """Wait until the attachment is no longer "checking"; return it."""

        async def decided() -> dict[str, Any] | None:
            body = await self.attachment(principal, attachment_id)
            return body if body["state"] != "checking" else None

        result: dict[str, Any] = await eventually(decided, timeout=timeout, interval=0.2)
        return result

    async def application(self, principal: Principal, application_id: uuid.UUID) -> dict[str, Any]:
        """GET the application's rounds and attachments."""
        response = await self.client.get(
            f"/api/attachments/applications/{application_id}", headers=self.auth(principal)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def events_for(
    bootstrap: str,
    event_type: type[Event],
    attachment_id: str | uuid.UUID,
    *,
    count: int = 1,
    timeout: float = 60,
) -> list[dict[str, Any]]:
    """Read the event type's topic until ``count`` events of the attachment are there; return them all."""
    wanted = str(attachment_id)

    def mine(records: list[Any]) -> list[dict[str, Any]]:
        found = []
        for record in records:
            body = json.loads(record.value or b"{}")
            if body.get("attachment_id") == wanted:
                found.append(body)
        return found

    records = await read_topic(
        bootstrap, event_type.topic(), until=lambda r: len(mine(r)) >= count, timeout=timeout
    )
    return mine(records)


@asynccontextmanager
async def run_stack(
    settings: AttachmentsSettings, infra: Infra, *, checker: bool = True
) -> AsyncIterator[AttachmentsStack]:
    """Run the app and (unless told not to) a checker in this event loop."""
    app = create_app(settings)
    async with running(app) as client:
        stack = AttachmentsStack(
            client=client,
            settings=settings,
            signer=TokenSigner(infra.private_key),
            bootstrap=infra.stack.kafka_bootstrap,
            app=app,
        )
        if checker:
            await stack.start_checker()
        try:
            yield stack
        finally:
            await stack.stop_checker()
