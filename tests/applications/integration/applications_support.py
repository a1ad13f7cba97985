"""Helpers of the applications integration tests: tokens, request bodies, simulated attachment verdicts, topics."""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import httpx

from applications.config import ApplicationsSettings, ReceiptJobSettings
from applications.domain.clock import Clock, SystemClock, japan_today
from applications.main import create_app
from shared.auth import APPLICANT_ROLE, OFFICER_ROLE, OPERATOR_ROLE, Principal, TokenSigner
from shared.events import AttachmentAccepted, AttachmentRejected, Event, Finding, RepresentationRegistered
from tests.applications.unit.applications_builders import extension_form
from tests.support.apps import Infra, eventually, running
from tests.support.kafka import produce, read_topic

SELF_EXTENSION_KINDS = (
    "face_photo",
    "supporting_documents_pdf",
    "host_organisation_form",
    "form19_supplementary",
)


def random_bureau() -> str:
    """Return a bureau code of this test alone (queues are shared across the session)."""
    return "Q" + "".join(random.choices(string.ascii_uppercase + string.digits, k=5))


def today() -> date:
    """Return today in Japan."""
    return japan_today(SystemClock())


def settings(infra: Infra, **overrides: Any) -> ApplicationsSettings:
    """Return the service's settings on the test infrastructure, with the nightly job off."""
    values: dict[str, Any] = {
        **infra.common("applications"),
        "receipt_job": ReceiptJobSettings(enabled=False),
    }
    return ApplicationsSettings(**(values | overrides))


@asynccontextmanager
async def applications_client(
    infra: Infra, *, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the applications service in-process (broker, relay, consumers) and yield an HTTP client."""
    async with running(create_app(settings(infra, **overrides), clock=clock)) as client:
        yield client


class People:
    """Signs tokens for the people of a test."""

    def __init__(self, infra: Infra) -> None:
        """Use the session's token key."""
        self.signer = TokenSigner(infra.private_key)

    def headers(self, principal: Principal, **extra: str) -> dict[str, str]:
        """Return the Authorization header (and any extra headers) of a principal."""
        return {"Authorization": f"Bearer {self.signer.sign(principal)}", **extra}

    @staticmethod
    def applicant(user_id: uuid.UUID | None = None) -> Principal:
        """Return a foreign national filing for themself."""
        return Principal(
            user_id=user_id or uuid.uuid4(), roles=frozenset({APPLICANT_ROLE}), category="foreign_national"
        )

    @staticmethod
    def representative(*applicants: uuid.UUID, category: str = "legal_representative") -> Principal:
        """Return a legal representative (or relative) linked to the applicants."""
        return Principal(
            user_id=uuid.uuid4(),
            roles=frozenset({APPLICANT_ROLE}),
            category=category,
            acts_for=frozenset(applicants),
        )

    @staticmethod
    def officer(bureau: str) -> Principal:
        """Return an officer of a bureau."""
        return Principal(
            user_id=uuid.uuid4(), roles=frozenset({OFFICER_ROLE}), category="officer", bureau=bureau
        )

    @staticmethod
    def operator() -> Principal:
        """Return an operator."""
        return Principal(user_id=uuid.uuid4(), roles=frozenset({OPERATOR_ROLE}), category="operator")


def extension_draft(
    *,
    bureau: str,
    expires: date | None = None,
    born: str = "1995-05-01",
    email: str | None = None,
    applicant_id: uuid.UUID | None = None,
    status: str = "engineer_humanities_international",
    procedures: list[dict[str, Any]] | None = None,
    relationship: str | None = None,
) -> dict[str, Any]:
    """Return the body creating an extension draft (by default an adult engineer filing for themself)."""
    body: dict[str, Any] = {
        "procedures": procedures or [{"code": "extension"}],
        "applicant": {
            "date_of_birth": born,
            "current_status": {"code": status},
            "period_of_stay_expires_on": (expires or today() + timedelta(days=60)).isoformat(),
            "email": email or f"applicant-{uuid.uuid4().hex[:8]}@example.jp",
            "locale": "en",
        },
        "bureau": bureau,
    }
    if applicant_id is not None:
        body["applicant_id"] = str(applicant_id)
    if relationship is not None:
        body["relationship"] = relationship
    return body


def full_extension_form(expires: date) -> dict[str, Any]:
    """Return a complete extension form agreeing with ``extension_draft``'s defaults."""
    return extension_form(period_of_stay_expiry=expires.isoformat())


def etag_of(response: httpx.Response) -> dict[str, str]:
    """Return the If-Match header echoing a response's ETag."""
    return {"If-Match": response.headers["ETag"]}


async def publish(infra: Infra, event: Event, **extra: Any) -> None:
    """Publish an event as its producer would (``extra``: fields newer than the shared contract)."""
    payload = event.model_dump(mode="json") | extra
    await produce(
        infra.stack.kafka_bootstrap, event.topic(), json.dumps(payload).encode(), key=event.key().encode()
    )


async def accept(
    infra: Infra, application_id: uuid.UUID, *kinds: str, round_number: int = 1
) -> list[uuid.UUID]:
    """Simulate the attachments service accepting one file of each kind; return the attachment ids."""
    ids = []
    for kind in kinds:
        attachment_id = uuid.uuid4()
        coarse = "photo" if kind == "face_photo" else "document"
        await publish(
            infra,
            AttachmentAccepted(
                application_id=application_id,
                attachment_id=attachment_id,
                round_number=round_number,
                kind=coarse,
                document_type=kind,
            ),
        )
        ids.append(attachment_id)
    return ids


async def reject(infra: Infra, application_id: uuid.UUID, kind: str, *, round_number: int = 1) -> uuid.UUID:
    """Simulate the attachments service rejecting a PDF with a password."""
    attachment_id = uuid.uuid4()
    await publish(
        infra,
        AttachmentRejected(
            application_id=application_id,
            attachment_id=attachment_id,
            round_number=round_number,
            kind="document",
            document_type=kind,
            filename="documents.pdf",
            reasons=[
                Finding(
                    code="pdf.encrypted",
                    message_ja="パスワードを解除してください。",
                    message_en="Remove the password.",
                )
            ],
        ),
    )
    return attachment_id


async def wait_for_attachments(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], count: int
) -> dict[str, Any]:
    """Poll the application until it shows ``count`` attachments with a verdict; return it."""

    async def seen() -> dict[str, Any] | None:
        body: dict[str, Any] = (await client.get(path, headers=headers)).json()
        done = [a for a in body["attachments"] if a["state"] != "checking"]
        return body if len(done) >= count else None

    result: dict[str, Any] = await eventually(seen, timeout=60)
    return result


async def events_of(
    infra: Infra, event_type: type[Event], application_id: uuid.UUID, *, count: int = 1
) -> list[dict[str, Any]]:
    """Read an event type's topic until ``count`` events of the application are there; return their payloads."""
    key = str(application_id).encode()
    records = await read_topic(
        infra.stack.kafka_bootstrap,
        event_type.topic(),
        until=lambda recs: sum(1 for r in recs if r.key == key) >= count,
        timeout=60,
    )
    return [json.loads(r.value or b"") for r in records if r.key == key]


async def represent(
    infra: Infra,
    filer: Principal,
    applicant_id: uuid.UUID,
    *,
    born: date | str,
    basis: str = "parental_authority",
    relationship: str = "parent",
) -> None:
    """Publish the representation identity records for a representative (the record applications trusts)."""
    await publish(
        infra,
        RepresentationRegistered(
            user_id=filer.user_id,
            representation_id=uuid.uuid4(),
            applicant_id=applicant_id,
            basis=basis,
            relationship=relationship,
            applicant_date_of_birth=date.fromisoformat(born) if isinstance(born, str) else born,
            filer_category="relative" if filer.category == "relative" else "legal_representative",
        ),
    )


async def create_on_record(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    """Create a draft as a representative, retrying while the representation is still on its way to applications."""

    async def attempt() -> httpx.Response | None:
        response = await client.post("/api/applications", json=body, headers=headers)
        if (
            response.status_code == 409
            and response.json()["code"] == "application.representation_not_recorded"
        ):
            return None
        return response

    result: httpx.Response = await eventually(attempt, timeout=60)
    return result
