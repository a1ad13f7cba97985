"""The Application aggregate to and from the JSON document stored in ``application.document``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from applications.domain.application import Application, AttachmentRound, HistoryEntry, ReviewOutcome
from applications.domain.fees import FeeAssessment, FeeLine, SendItemDue
from applications.domain.states import ApplicationState
from applications.domain.values import (
    Applicant,
    Filer,
    FilingCase,
    ProcedureRequest,
    RequestedDocument,
    StatusSelection,
)
from applications.reference.models import Text

DOCUMENT_VERSION = 1


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _to_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _to_day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _status(value: StatusSelection | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "code": value.code,
        "specified_skill_field": value.specified_skill_field,
        "designated_activity_notice": value.designated_activity_notice,
    }


def _to_status(value: dict[str, Any] | None) -> StatusSelection | None:
    return StatusSelection(**value) if value is not None else None


def _text(value: Text) -> dict[str, str]:
    return {"ja": value.ja, "en": value.en}


def dump_case(case: FilingCase) -> dict[str, Any]:
    """Return a filing case as JSON-ready data."""
    a = case.applicant
    return {
        "filer": {
            "user_id": case.filer.user_id,
            "category": case.filer.category,
            "relationship": case.filer.relationship,
            "illness_declared": case.filer.illness_declared,
            "basis": case.filer.basis,
        },
        "applicant": {
            "date_of_birth": a.date_of_birth.isoformat(),
            "current_status": _status(a.current_status),
            "period_of_stay_expires_on": _day(a.period_of_stay_expires_on),
            "period_of_stay_months": a.period_of_stay_months,
            "person_id": a.person_id,
            "email": a.email,
            "locale": a.locale,
        },
        "procedures": [{"code": p.code, "variant": p.variant} for p in case.procedures],
        "requested_status": _status(case.requested_status),
    }


def load_case(data: dict[str, Any]) -> FilingCase:
    """Return the filing case stored by ``dump_case``."""
    a = data["applicant"]
    birth = _to_day(a["date_of_birth"])
    assert birth is not None
    return FilingCase(
        filer=Filer(**data["filer"]),
        applicant=Applicant(
            date_of_birth=birth,
            current_status=_to_status(a["current_status"]),
            period_of_stay_expires_on=_to_day(a["period_of_stay_expires_on"]),
            period_of_stay_months=a.get("period_of_stay_months"),
            person_id=a["person_id"],
            email=a["email"],
            locale=a.get("locale"),
        ),
        procedures=tuple(ProcedureRequest(**p) for p in data["procedures"]),
        requested_status=_to_status(data["requested_status"]),
    )


def _dump_outcome(outcome: ReviewOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    fee = outcome.fee
    return {
        "fee": {
            "lines": [
                {"procedure": x.procedure, "variant": x.variant, "amount": x.amount, "name": _text(x.name)}
                for x in fee.lines
            ],
            "table_effective_from": fee.table_effective_from.isoformat(),
            "channel": fee.channel,
        },
        "items_to_send": [{"code": i.code, "name": _text(i.name)} for i in outcome.items_to_send],
    }


def _load_outcome(data: dict[str, Any] | None) -> ReviewOutcome | None:
    if data is None:
        return None
    fee = data["fee"]
    return ReviewOutcome(
        fee=FeeAssessment(
            lines=tuple(
                FeeLine(
                    procedure=x["procedure"],
                    variant=x["variant"],
                    amount=x["amount"],
                    name=Text(**x["name"]),
                )
                for x in fee["lines"]
            ),
            table_effective_from=date.fromisoformat(fee["table_effective_from"]),
            channel=fee["channel"],
        ),
        items_to_send=tuple(
            SendItemDue(code=i["code"], name=Text(**i["name"])) for i in data["items_to_send"]
        ),
    )


def dump_application(app: Application) -> dict[str, Any]:
    """Return the aggregate as the JSON document stored with it (events are not part of it)."""
    return {
        "document_version": DOCUMENT_VERSION,
        "id": app.id,
        "case": dump_case(app.case),
        "state": app.state.value,
        "created_at": _dt(app.created_at),
        "form_values": app.form_values,
        "provisional_receipt_number": app.provisional_receipt_number,
        "receipt_number": app.receipt_number,
        "submitted_at": _dt(app.submitted_at),
        "over_10mb_declared": app.over_10mb_declared,
        "filers": app.filer_set(),
        "review_outcome": _dump_outcome(app.review_outcome),
        "history": [
            {
                "state": h.state.value,
                "at": _dt(h.at),
                "actor_id": h.actor_id,
                "note": h.note,
                **({"channel": h.channel} if h.channel else {}),
            }
            for h in app.history
        ],
        "rounds": [
            {
                "number": r.number,
                "opened_at": _dt(r.opened_at),
                "closed_at": _dt(r.closed_at),
                "requested_documents": [
                    {"description": d.description, "kind": d.kind} for d in r.requested_documents
                ],
                **({"deadline": r.deadline.isoformat()} if r.deadline else {}),
            }
            for r in app.rounds
        ],
    }


def load_application(data: dict[str, Any]) -> Application:
    """Return the aggregate stored by ``dump_application``."""
    created = _to_dt(data["created_at"])
    assert created is not None
    history = []
    for h in data["history"]:
        at = _to_dt(h["at"])
        assert at is not None
        history.append(
            HistoryEntry(
                state=ApplicationState(h["state"]),
                at=at,
                actor_id=h["actor_id"],
                note=h["note"],
                channel=h.get("channel"),
            )
        )
    rounds = []
    for r in data["rounds"]:
        opened = _to_dt(r["opened_at"])
        assert opened is not None
        rounds.append(
            AttachmentRound(
                number=r["number"],
                opened_at=opened,
                closed_at=_to_dt(r["closed_at"]),
                requested_documents=tuple(RequestedDocument(**d) for d in r["requested_documents"]),
                deadline=date.fromisoformat(r["deadline"]) if r.get("deadline") else None,
            )
        )
    return Application(
        id=data["id"],
        case=load_case(data["case"]),
        state=ApplicationState(data["state"]),
        created_at=created,
        form_values=data["form_values"],
        provisional_receipt_number=data["provisional_receipt_number"],
        receipt_number=data["receipt_number"],
        submitted_at=_to_dt(data["submitted_at"]),
        over_10mb_declared=data.get("over_10mb_declared", False),
        review_outcome=_load_outcome(data["review_outcome"]),
        history=history,
        rounds=rounds,
        filers=list(data.get("filers", [])),
    )
