"""Rules from the record and from data: the representation in force, filing windows, 特定活動 notices, photos.

Each function returns every refusal it finds (empty when the case passes); :mod:`applications.domain.eligibility`
adds them to its own. Dates are Japan dates; the reference data is the snapshot in force on that date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from applications.domain import errors as e
from applications.domain.errors import Refusal
from applications.domain.values import AttachmentSummaryItem, FilerCategoryCode, FilingCase
from applications.reference.models import AttachmentRequirement, ReferenceSnapshot
from shared.vocabulary import BASIS_NAMES, RepresentationBasis, basis_ends_on, basis_in_force


def representation_refusals(case: FilingCase, today: date) -> list[Refusal]:
    """Refuse a filing by a representative whose recorded basis no longer holds (16th / 18th birthday)."""
    filer = case.filer
    if filer.category == FilerCategoryCode.SELF or filer.basis is None:
        return []
    born = case.applicant.date_of_birth
    if basis_in_force(filer.basis, born, today):
        return []
    ended = basis_ends_on(filer.basis, born)
    ja_name, en_name = BASIS_NAMES.get(RepresentationBasis(filer.basis), (filer.basis, filer.basis))
    return [
        e.refusal(
            e.REPRESENTATION_ENDED,
            f"登録された代理の根拠（{ja_name}）は{ended.isoformat() if ended else ''}に終了しています。"
            "新たな申請は申請人本人、又は現在の法定代理人が行ってください。"
            "終了前に申請した申請は、引き続き確認・資料の追加・取下げができます。",
            f"The recorded basis of your representation ({en_name}) ended on "
            f"{ended.isoformat() if ended else ''}. A new application must be filed by the applicant or their "
            "current legal representative. Applications you filed before that stay open to you.",
            basis=filer.basis,
            ended_on=ended.isoformat() if ended else "",
        )
    ]


def _months_before(day: date, months: int) -> date:
    """Return the same day ``months`` earlier (the last day of the month where that day does not exist)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise ValueError(f"no day {months} months before {day}")


def period_refusals(case: FilingCase, snapshot: ReferenceSnapshot, today: date) -> list[Refusal]:
    """Refuse filing before a procedure's window opens, and 外国人本人 whose period of stay is 3 months or less."""
    applicant = case.applicant
    expiry, months = applicant.period_of_stay_expires_on, applicant.period_of_stay_months
    procs = [p for p in (snapshot.procedure(c) for c in case.procedure_codes) if p is not None and p.online]
    refusals: list[Refusal] = []
    short = snapshot.policy.mid_to_long_term_min_period_months
    if (
        case.filer.category == FilerCategoryCode.SELF
        and short is not None
        and months is not None
        and months <= short
        and any(p.uses_current_status for p in procs)
    ):
        refusals.append(
            e.refusal(
                e.PERIOD_NOT_MID_TO_LONG_TERM,
                f"在留期間が{short}月以下の方は中長期在留者ではないため、外国人本人としてオンラインで申請できません。"
                "地方出入国在留管理官署の窓口で申請してください。",
                f"With a period of stay of {short} months or less you are not a mid-to-long-term resident and cannot "
                "file online as the foreign national. Please apply at the counter of a regional immigration services "
                "bureau.",
                period_of_stay_months=str(months),
            )
        )
    if expiry is None or today >= expiry:
        return refusals  # the last day and after: refused by the period rule of eligibility
    for proc in procs:
        before = proc.window_opens_months_before_expiry
        if before is None:
            continue
        minimum = proc.window_min_period_months
        if months is not None and minimum is not None and months < minimum:
            continue  # shorter stays: any time before expiry
        opens = _months_before(expiry, before)
        if today < opens:
            refusals.append(
                e.refusal(
                    e.PERIOD_WINDOW_NOT_OPEN,
                    f"「{proc.name.ja}」は在留期間の満了日（{expiry.isoformat()}）のおおむね{before}か月前"
                    f"（{opens.isoformat()}）から申請できます。その日以降に申請してください。"
                    + (
                        f"在留期間が{minimum}か月未満の方は、在留期間を入力してください（満了日までいつでも申請できます）。"
                        if minimum is not None and months is None
                        else ""
                    ),
                    f"{proc.name.en} can be filed from about {before} months before your period of stay expires "
                    f"({expiry.isoformat()}), that is from {opens.isoformat()}. Please file from that day."
                    + (
                        f" If your period of stay is shorter than {minimum} months, enter it: you may then file at "
                        "any time before it expires."
                        if minimum is not None and months is None
                        else ""
                    ),
                    procedure=proc.code,
                    opens_on=opens.isoformat(),
                    expires_on=expiry.isoformat(),
                )
            )
    return refusals


def notice_refusals(case: FilingCase, snapshot: ReferenceSnapshot) -> list[Refusal]:
    """Refuse a 特定活動 notice for a procedure its data excludes (告示15 extension, EPA notices COE)."""
    refusals: list[Refusal] = []
    selections = [s for s in (case.applicant.current_status, case.requested_status) if s is not None]
    seen: set[tuple[str, str]] = set()
    for selection in selections:
        status = snapshot.status(selection.code)
        if status is None or status.designated_activity_notices is None:
            continue
        notice = next(
            (
                n
                for n in status.designated_activity_notices
                if n.number == selection.designated_activity_notice
            ),
            None,
        )
        if notice is None:
            continue
        for code in case.procedure_codes:
            proc = snapshot.procedure(code)
            if proc is None or code not in notice.excluded_procedures or (notice.number, code) in seen:
                continue
            seen.add((notice.number, code))
            refusals.append(
                e.refusal(
                    e.STATUS_OUT_OF_SCOPE,
                    f"「{status.name.ja}」（告示{notice.number}号：{notice.name.ja}）の「{proc.name.ja}」は"
                    "オンライン申請の対象外です。地方出入国在留管理官署の窓口で申請してください。",
                    f"{proc.name.en} for {status.name.en} (notice No. {notice.number}: {notice.name.en}) is not "
                    "covered by online applications. Please apply at the counter of a regional immigration "
                    "services bureau.",
                    status=status.code,
                    designated_activity_notice=notice.number,
                    procedure=code,
                )
            )
    return refusals


def abroad_refusals(filing_from_abroad: bool, snapshot: ReferenceSnapshot) -> list[Refusal]:
    """Refuse a filing made from abroad, with the explanation of the reference data."""
    text = snapshot.policy.filing_from_abroad
    if not filing_from_abroad or text is None:
        return []
    return [e.refusal(e.PROCEDURE_NOT_ONLINE, text.ja, text.en, reason="filing_from_abroad")]


def not_accepted_refusals(
    requirements: Sequence[AttachmentRequirement],
    attachments: Sequence[AttachmentSummaryItem],
    snapshot: ReferenceSnapshot,
) -> list[Refusal]:
    """Refuse attachments of a kind a requirement does not accept here (the no-photo JPEG for a card holder)."""
    refusals: list[Refusal] = []
    present = {a.kind for a in attachments}
    for req in requirements:
        wrong = [k for k in req.not_accepted if k in present]
        if not wrong:
            continue
        names = [snapshot.attachment_kind(k) for k in wrong]
        wanted = [snapshot.attachment_kind(k) for k in req.any_of]
        ja_wrong = "、".join(f"「{n.name.ja}」" for n in names if n)
        en_wrong = ", ".join(n.name.en for n in names if n)
        ja_wanted = "、".join(f"「{n.name.ja}」" for n in wanted if n)
        en_wanted = ", ".join(n.name.en for n in wanted if n)
        refusals.append(
            e.refusal(
                e.ATTACHMENTS_PHOTO_PLACEHOLDER_NOT_ALLOWED,
                f"この申請では{ja_wrong}は使えません（中長期在留者の申請には顔写真が必要です）。"
                f"削除して{ja_wanted}を添付してください。",
                f"This application cannot use the {en_wrong}: a mid-to-long-term resident's application needs a "
                f"real face photo. Remove it and attach the {en_wanted}.",
                requirement=req.code,
                kinds=",".join(wrong),
            )
        )
    return refusals
