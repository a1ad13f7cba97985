"""Fees due when review is completed (online rate, from the fee table in force), and what the applicant sends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from applications.domain.values import ProcedureRequest
from applications.reference.models import ReferenceSnapshot, Text


@dataclass(frozen=True)
class FeeLine:
    """The fee of one procedure of the application, in yen."""

    procedure: str
    variant: str | None
    amount: int
    name: Text


@dataclass(frozen=True)
class FeeAssessment:
    """The fee due for an application filed online, per the fee table in force from ``table_effective_from``."""

    lines: tuple[FeeLine, ...]
    table_effective_from: date
    channel: str = "online"

    @property
    def total(self) -> int:
        """Return the total due in yen."""
        return sum(line.amount for line in self.lines)


@dataclass(frozen=True)
class SendItemDue:
    """Something the applicant must send after review is completed."""

    code: str
    name: Text


def assess_fee(procedures: Sequence[ProcedureRequest], *, snapshot: ReferenceSnapshot) -> FeeAssessment:
    """Return the online fee of each procedure (re-entry by single / multiple) from the snapshot's fee table."""
    lines = []
    for req in procedures:
        fee = snapshot.fee(req.code, req.variant)
        proc = snapshot.procedure(req.code)
        if fee is None or proc is None:
            raise LookupError(
                f"no fee for procedure {req.code!r} variant {req.variant!r} on {snapshot.effective_from}"
            )
        lines.append(FeeLine(procedure=req.code, variant=req.variant, amount=fee.online, name=proc.name))
    return FeeAssessment(lines=tuple(lines), table_effective_from=snapshot.effective_from)


def items_to_send(
    procedures: Sequence[ProcedureRequest], fee: FeeAssessment, *, snapshot: ReferenceSnapshot
) -> tuple[SendItemDue, ...]:
    """Return what the review-completed notice asks for (fee form only when a fee is due)."""
    codes = {p.code for p in procedures}
    due = []
    for item in snapshot.send_items:
        if item.only_if_fee_due and fee.total == 0:
            continue
        if item.procedures is not None and not codes & set(item.procedures):
            continue
        due.append(SendItemDue(code=item.code, name=item.name))
    return tuple(due)
