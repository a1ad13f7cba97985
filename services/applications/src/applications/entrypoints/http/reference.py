"""Read-only reference data for the UI: procedures, statuses, forms, required attachments, fees (as of a date)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from applications.domain.clock import SystemClock, japan_today
from applications.domain.eligibility import required_attachments
from applications.domain.errors import ReferenceDataNotInForce
from applications.domain.states import TRANSITIONS, ApplicationState
from applications.domain.values import Applicant, Filer, FilingCase, ProcedureRequest, StatusSelection
from applications.entrypoints.http.deps import ReferenceDep
from applications.entrypoints.http.errors import responses
from applications.reference.loader import ReferenceData
from applications.reference.models import (
    AttachmentRequirement,
    FormDef,
    ReferenceSnapshot,
    StatusOfResidence,
)
from shared.errors import AppError

router = APIRouter(prefix="/api/applications/reference", tags=["reference data"])

AsOf = Annotated[
    date | None, Query(description="The day (Japan date) the data must be in force; default today.")
]
NOT_IN_FORCE = responses((404, "reference.not_in_force"), (422, "request.invalid"))


def snapshot_of(reference: ReferenceData, as_of: date | None) -> ReferenceSnapshot:
    """Return the snapshot in force on a day (today in Japan by default); 404 before the first version."""
    try:
        return reference.as_of(as_of or japan_today(SystemClock()))
    except ReferenceDataNotInForce as exc:
        raise AppError(404, "reference.not_in_force", exc.message_ja, exc.message_en) from exc


@router.get("", responses=NOT_IN_FORCE)
async def read_reference_versions(reference: ReferenceDep, as_of: AsOf = None) -> dict[str, Any]:
    """The effective dates of every version and the files of the one in force."""
    snapshot = snapshot_of(reference, as_of)
    return {
        "effective_dates": [d.isoformat() for d in reference.effective_dates],
        "in_force": {
            "effective_from": snapshot.effective_from.isoformat(),
            "sources": list(snapshot.sources),
        },
        "policy": snapshot.policy.model_dump(mode="json"),
    }


@router.get("/procedures", responses=NOT_IN_FORCE)
async def read_procedures(reference: ReferenceDep, as_of: AsOf = None) -> dict[str, Any]:
    """Procedures (those not online with their explanation), allowed combinations, and who may file what."""
    snapshot = snapshot_of(reference, as_of)
    return {
        "effective_from": snapshot.effective_from.isoformat(),
        "procedures": [p.model_dump(mode="json") for p in snapshot.procedures],
        "combinations": snapshot.combinations.model_dump(mode="json"),
        "filing": snapshot.filing.model_dump(mode="json"),
    }


@router.get("/statuses", response_model=list[StatusOfResidence], responses=NOT_IN_FORCE)
async def read_statuses(reference: ReferenceDep, as_of: AsOf = None) -> tuple[StatusOfResidence, ...]:
    """Statuses of residence, in scope or not (with the explanation), 特定技能 fields and 特定活動 告示 numbers."""
    return snapshot_of(reference, as_of).statuses


@router.get("/application-states")
async def read_application_states() -> list[dict[str, Any]]:
    """The states of an application (domain.md §6) with their names and the actions that leave each."""
    return [
        {
            "state": s.value,
            "label": {"ja": s.label_ja, "en": s.label_en},
            "actions": [
                {"action": a.value, "label": {"ja": a.label_ja, "en": a.label_en}, "to": t.value}
                for (src, a), t in TRANSITIONS.items()
                if src == s
            ],
        }
        for s in ApplicationState
    ]


@router.get("/forms", response_model=list[FormDef], responses=NOT_IN_FORCE)
async def read_forms(
    reference: ReferenceDep,
    as_of: AsOf = None,
    procedure: Annotated[str | None, Query(max_length=60)] = None,
    status: Annotated[
        str | None, Query(max_length=60, description="With procedure: the form for it.")
    ] = None,
) -> list[FormDef]:
    """Form definitions; with ``procedure`` (and ``status``) the one form that applies."""
    snapshot = snapshot_of(reference, as_of)
    if procedure is None:
        return list(snapshot.forms)
    form = snapshot.form_for(procedure, status)
    return [form] if form is not None else []


@router.get("/required-attachments", response_model=list[AttachmentRequirement], responses=NOT_IN_FORCE)
async def read_required_attachments(
    reference: ReferenceDep,
    procedure: Annotated[list[str], Query(min_length=1, description="Repeat for add-on procedures.")],
    category: Annotated[
        str, Query(max_length=40, description="self | legal_representative | relative")
    ] = "self",
    current_status: Annotated[str | None, Query(max_length=60)] = None,
    requested_status: Annotated[str | None, Query(max_length=60)] = None,
    as_of: AsOf = None,
) -> tuple[AttachmentRequirement, ...]:
    """The attachments a case needs (the checklist shown before submission)."""
    snapshot = snapshot_of(reference, as_of)
    case = FilingCase(
        filer=Filer(user_id="-", category=category),
        applicant=Applicant(
            date_of_birth=date(2000, 1, 1),
            current_status=StatusSelection(current_status) if current_status else None,
        ),
        procedures=tuple(ProcedureRequest(p) for p in procedure),
        requested_status=StatusSelection(requested_status) if requested_status else None,
    )
    return required_attachments(case, snapshot)


@router.get("/fees", responses=NOT_IN_FORCE)
async def read_fees(reference: ReferenceDep, as_of: AsOf = None) -> dict[str, Any]:
    """The fee table in force (online and counter, yen) and what is sent after review is completed."""
    snapshot = snapshot_of(reference, as_of)
    return {
        "effective_from": snapshot.effective_from.isoformat(),
        "fees": [f.model_dump(mode="json") for f in snapshot.fees],
        "send_items": [i.model_dump(mode="json") for i in snapshot.send_items],
    }
