"""Facts from the record for legal representatives and relatives, and who may keep seeing a filed application.

A representative's right to file comes from the representation recorded at identity (carried here by
representation-registered): the applicant's date of birth, the relationship and the basis. What the draft says is
checked against it, never trusted instead of it. The representation in force when an application was filed governs
that application to its end: its filer keeps it after the child's 16th or 18th birthday (``docs/representation.md``).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from applications.adapters.repository import ApplicationRecord
from applications.adapters.representations import RecordedRepresentation, find_representation
from applications.domain.states import ApplicationState
from applications.domain.values import Filer
from shared.auth import Principal
from shared.errors import AppError
from shared.vocabulary import RepresentationBasis


def representation_not_recorded() -> AppError:
    """409: applications has no representation record for this filer and applicant (yet)."""
    return AppError(
        409,
        "application.representation_not_recorded",
        "この申請人についての代理の登録がまだ反映されていません。しばらくしてからもう一度お試しください。"
        "解決しない場合は、利用者情報の申請人の登録を確認してください。",
        "Your representation of this applicant is not on record here yet. Try again in a moment; if it persists, "
        "check the applicant recorded in your account.",
    )


def date_of_birth_not_as_recorded(recorded: date) -> AppError:
    """422: the draft's date of birth differs from the one recorded with the representation."""
    return AppError(
        422,
        "application.date_of_birth_not_as_recorded",
        f"申請人の生年月日が、利用者情報登録で申告された生年月日（{recorded.isoformat()}）と一致しません。"
        "登録内容が誤っている場合は、証明資料を添えて申請人の登録をやり直してください。",
        f"The applicant's date of birth differs from the one recorded with your representation "
        f"({recorded.isoformat()}). If the record is wrong, record the applicant again with the proof.",
        extra={"recorded_date_of_birth": recorded.isoformat()},
    )


async def recorded_representation(
    session: AsyncSession, *, filer_user_id: uuid.UUID, applicant_id: uuid.UUID
) -> RecordedRepresentation:
    """Return the representation on record (with the applicant's date of birth), or raise 409."""
    rep = await find_representation(session, filer_user_id=filer_user_id, applicant_id=applicant_id)
    if rep is None or rep.applicant_date_of_birth is None:
        raise representation_not_recorded()
    return rep


def filer_from_record(
    principal: Principal, category: str, rep: RecordedRepresentation, typed_date_of_birth: date | None
) -> tuple[Filer, date]:
    """Return the filer and the applicant's date of birth as recorded; refuse a typed date that differs."""
    recorded = rep.applicant_date_of_birth
    assert recorded is not None  # recorded_representation guarantees it
    if typed_date_of_birth is not None and typed_date_of_birth != recorded:
        raise date_of_birth_not_as_recorded(recorded)
    filer = Filer(
        user_id=str(principal.user_id),
        category=category,
        relationship=rep.relationship,
        illness_declared=rep.basis == RepresentationBasis.ILLNESS,
        basis=rep.basis,
    )
    return filer, recorded


def may_see(principal: Principal, record: ApplicationRecord) -> bool:
    """Return whether the caller may see and act on an application as its applicant or filer.

    The applicant and those acting for them today may; so may the person who filed it, for as long as it lives:
    the representation in force at filing governs that application even after it ends (a child's birthday).
    """
    if principal.may_act_for(record.applicant_id):
        return True
    return record.filer_user_id == principal.user_id and record.application.state != ApplicationState.DRAFT
