"""Mynaportal tax data (所得・個人住民税情報) for a 外国人本人: fetch, review, register as an electronic attachment.

Only the signed-in 外国人本人, only about themself (seed): the provider is asked for the card holder's own data
(``subject_id``), and once a person has registered tax data under a name, a fetch under another name is refused.
Applications counts the data only for an application its applicant filed for themself.

The fetched record is kept (not yet an attachment) so that the applicant can review it; registering it stores the
record as a content-addressed JSON blob, adds an accepted ``tax_info`` attachment to the open round and publishes
TaxInfoRegistered in the same transaction. No PDF check applies: the data comes from the provider.
"""

from __future__ import annotations

import json
import unicodedata
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attachments.adapters.blobstore import BlobStore, StoredBlob
from attachments.adapters.mynaportal import (
    MynaportalClient,
    PersonNotFoundError,
    ProviderUnavailableError,
    TaxRecord,
    YearNotAvailableError,
)
from attachments.adapters.orm import attachment, tax_info_fetch
from attachments.config import MynaportalSettings, UploadPolicy
from attachments.domain.errors import Refusal, application_not_found, round_closed, too_many_files
from attachments.domain.model import AttachmentState
from attachments.service_layer.access import application_row, require_attacher
from attachments.service_layer.rounds import latest_round_number, now, open_round, usage
from shared.auth import Principal
from shared.events import TaxInfoRegistered
from shared.messaging.outbox import add_event

FOREIGN_NATIONAL = "foreign_national"
DOCUMENT_TYPE = "tax_information"


def not_foreign_national() -> Refusal:
    """403: only the foreign national themself may fetch their tax data."""
    return Refusal(
        403,
        "mynaportal.not_foreign_national",
        "マイナポータルからの所得・個人住民税情報の取得は、外国人本人が申請する場合だけ利用できます。"
        "課税証明書などを PDF で添付してください。",
        "Fetching income and resident-tax data from Mynaportal is only available to foreign nationals filing "
        "for themselves. Attach a tax certificate as a PDF instead.",
    )


def not_own_application() -> Refusal:
    """403: the application belongs to someone else."""
    return Refusal(
        403,
        "mynaportal.not_own_application",
        "ご自身の申請にだけ、マイナポータルの情報を登録できます。",
        "You can register Mynaportal data only with your own application.",
    )


def person_not_found() -> Refusal:
    """404: the provider knows no such person."""
    return Refusal(
        404,
        "mynaportal.person_not_found",
        "指定された方の情報がマイナポータルにありません。氏名の表記（住民票の表記）を確認してください。",
        "Mynaportal has no information for that person. Check the name as written in the residence record.",
    )


def year_not_available() -> Refusal:
    """404: the provider has no data for the year."""
    return Refusal(
        404,
        "mynaportal.year_not_available",
        "指定された年度の情報はマイナポータルから取得できません。年度を確認してください。",
        "Mynaportal has no information for that fiscal year. Check the year.",
    )


def provider_unavailable(retry_after_s: int) -> Refusal:
    """503: the provider cannot be reached now; try again later."""
    return Refusal(
        503,
        "mynaportal.unavailable",
        f"マイナポータルに接続できません。約{max(1, retry_after_s // 60)}分後にもう一度お試しください。"
        "お急ぎの場合は、課税証明書などを PDF で添付することもできます。",
        f"Mynaportal cannot be reached right now. Please try again in about {retry_after_s} seconds, or attach a "
        "tax certificate as a PDF instead.",
        extra={"retry_after_s": retry_after_s},
        headers={"Retry-After": str(retry_after_s)},
    )


def fetch_not_found() -> Refusal:
    """404: no such fetched record for this caller and application."""
    return Refusal(
        404,
        "mynaportal.fetch_not_found",
        "取得した情報が見つかりません。もう一度マイナポータルから取得してください。",
        "The fetched information was not found. Fetch it from Mynaportal again.",
    )


def fetch_expired() -> Refusal:
    """410: the fetched record may no longer be registered."""
    return Refusal(
        410,
        "mynaportal.fetch_expired",
        "取得した情報の登録期限が過ぎました。もう一度マイナポータルから取得してください。",
        "The fetched information can no longer be registered. Fetch it from Mynaportal again.",
    )


def not_self(registered_name: str) -> Refusal:
    """403: the data asked for is about someone other than the person the caller registered before."""
    return Refusal(
        403,
        "mynaportal.not_self",
        f"マイナポータルから取得できるのは、ご本人（{registered_name}）の所得・個人住民税情報だけです。"
        "ご家族など他の方の情報は、課税証明書などを PDF で添付してください。",
        f"Mynaportal data can be fetched only about yourself ({registered_name}). For anyone else, such as a family "
        "member, attach a tax certificate as a PDF.",
        extra={"registered_name": registered_name},
    )


def _same_person(a: str, b: str) -> bool:
    """Tell whether two names are the same once width, case and spacing are ignored."""

    def norm(name: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", name).casefold().split())

    return norm(a) == norm(b)


async def _require_self(session: AsyncSession, principal: Principal, person_name: str) -> None:
    """Refuse a name other than the one this person's registered tax data was about (the person on record)."""
    registered = (
        await session.execute(
            select(tax_info_fetch.c.person_name)
            .where(
                tax_info_fetch.c.fetched_by == principal.user_id, tax_info_fetch.c.attachment_id.is_not(None)
            )
            .order_by(tax_info_fetch.c.fetched_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if registered is not None and not _same_person(registered, person_name):
        raise not_self(registered)


def _require_foreign_national(principal: Principal) -> None:
    require_attacher(principal)
    if principal.category != FOREIGN_NATIONAL:
        raise not_foreign_national()


async def _open_round_number(session: AsyncSession, application_id: uuid.UUID, principal: Principal) -> int:
    row = await application_row(session, application_id, lock=True)
    if row is None or row["deleted_at"] is not None:
        raise application_not_found()
    if row["applicant_id"] != principal.user_id:
        raise not_own_application()
    current = await open_round(session, application_id)
    if current is None:
        raise round_closed(round_number=await latest_round_number(session, application_id))
    return int(current["round_number"])


async def fetch(
    sessions: async_sessionmaker[AsyncSession],
    client: MynaportalClient,
    settings: MynaportalSettings,
    principal: Principal,
    *,
    application_id: uuid.UUID,
    person_name: str,
    fiscal_year: int,
) -> Mapping[Any, Any]:
    """Fetch the record from the provider and keep it for review; return the fetch row."""
    _require_foreign_national(principal)
    async with sessions() as session, session.begin():
        await _open_round_number(session, application_id, principal)
        await _require_self(session, principal, person_name)
    try:
        record = await client.fetch_tax_information(
            subject_id=principal.user_id, person_name=person_name, fiscal_year=fiscal_year
        )
    except PersonNotFoundError as exc:
        raise person_not_found() from exc
    except YearNotAvailableError as exc:
        raise year_not_available() from exc
    except ProviderUnavailableError as exc:
        raise provider_unavailable(settings.retry_after_s) from exc
    fetch_id = uuid.uuid4()
    fetched_at = now()
    async with sessions() as session, session.begin():
        await session.execute(
            insert(tax_info_fetch).values(
                fetch_id=fetch_id,
                application_id=application_id,
                fetched_by=principal.user_id,
                person_name=record.person_name,
                fiscal_year=record.fiscal_year,
                data=record.model_dump(mode="json"),
                fetched_at=fetched_at,
                expires_at=fetched_at + timedelta(minutes=settings.fetch_valid_minutes),
            )
        )
        return (
            (await session.execute(select(tax_info_fetch).where(tax_info_fetch.c.fetch_id == fetch_id)))
            .mappings()
            .one()
        )


async def _store(blobs: BlobStore, record: TaxRecord) -> StoredBlob:
    data = json.dumps(record.model_dump(mode="json"), ensure_ascii=False, sort_keys=True).encode()
    writer = blobs.writer()
    try:
        await writer.write(data)
        return await writer.commit()
    except BaseException:
        await writer.abort()
        raise


async def register(
    sessions: async_sessionmaker[AsyncSession],
    blobs: BlobStore,
    policy: UploadPolicy,
    principal: Principal,
    *,
    application_id: uuid.UUID,
    fetch_id: uuid.UUID,
) -> Mapping[Any, Any]:
    """Register a reviewed record as an accepted tax_info attachment (again: the same attachment)."""
    _require_foreign_national(principal)
    async with sessions() as session:
        fetched = (
            (await session.execute(select(tax_info_fetch).where(tax_info_fetch.c.fetch_id == fetch_id)))
            .mappings()
            .first()
        )
    if (
        fetched is None
        or fetched["application_id"] != application_id
        or fetched["fetched_by"] != principal.user_id
    ):
        raise fetch_not_found()
    record = TaxRecord.model_validate(fetched["data"])
    stored = await _store(blobs, record)
    async with sessions() as session, session.begin():
        fetched = (
            (
                await session.execute(
                    select(tax_info_fetch).where(tax_info_fetch.c.fetch_id == fetch_id).with_for_update()
                )
            )
            .mappings()
            .one()
        )
        if fetched["attachment_id"] is not None:
            return (
                (
                    await session.execute(
                        select(attachment).where(attachment.c.attachment_id == fetched["attachment_id"])
                    )
                )
                .mappings()
                .one()
            )
        if fetched["expires_at"] < now():
            raise fetch_expired()
        round_number = await _open_round_number(session, application_id, principal)
        limit = policy.max_files_per_round.get("tax_info")
        files = (await usage(session, application_id, round_number)).files_by_kind.get("tax_info", 0)
        if limit is not None and files >= limit:
            raise too_many_files(kind="tax_info", limit=limit, round_number=round_number)
        attachment_id = uuid.uuid4()
        await session.execute(
            insert(attachment).values(
                attachment_id=attachment_id,
                application_id=application_id,
                round_number=round_number,
                kind="tax_info",
                document_type=DOCUMENT_TYPE,
                filename=f"mynaportal-tax-{record.fiscal_year}.json",
                content_type="application/json",
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                state=AttachmentState.ACCEPTED.value,
                facts={
                    "fiscal_year": record.fiscal_year,
                    "person_name": record.person_name,
                    "source": "mynaportal",
                },
                uploaded_by=principal.user_id,
                checked_at=now(),
                check_ms=0,
            )
        )
        await session.execute(
            update(tax_info_fetch)
            .where(tax_info_fetch.c.fetch_id == fetch_id)
            .values(attachment_id=attachment_id)
        )
        await add_event(
            session,
            TaxInfoRegistered(
                application_id=application_id,
                attachment_id=attachment_id,
                round_number=round_number,
                fiscal_year=record.fiscal_year,
                person_name=record.person_name,
                sha256=stored.sha256,
                registered_by=principal.user_id,
            ),
        )
        return (
            (await session.execute(select(attachment).where(attachment.c.attachment_id == attachment_id)))
            .mappings()
            .one()
        )
