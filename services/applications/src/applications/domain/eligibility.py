"""Eligibility: may this case be filed online, and is it ready to submit? Every refusal is returned, not the first.

Checked at draft creation (:func:`check_eligibility`) and again at submission (:func:`check_submission`, which adds
the attachment checks). Dates are Japan dates from the injected clock; the reference data is the version in force
on that date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from applications.domain import errors as e
from applications.domain.clock import Clock, age_on, japan_today
from applications.domain.errors import Refusal
from applications.domain.filing_rules import (
    abroad_refusals,
    not_accepted_refusals,
    notice_refusals,
    period_refusals,
    representation_refusals,
)
from applications.domain.values import (
    AttachmentState,
    AttachmentSummaryItem,
    FilerCategoryCode,
    FilingCase,
    StatusSelection,
)
from applications.reference.loader import ReferenceData
from applications.reference.models import AttachmentRequirement, Procedure, ReferenceSnapshot


def _join_ja(items: Sequence[str]) -> str:
    return "、".join(items)


def _join_en(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _online_procedures(case: FilingCase, snap: ReferenceSnapshot) -> list[Procedure]:
    found = (snap.procedure(code) for code in case.procedure_codes)
    return [p for p in found if p is not None and p.online]


def _check_procedures(case: FilingCase, snap: ReferenceSnapshot) -> list[Refusal]:
    refusals: list[Refusal] = []
    for req in case.procedures:
        proc = snap.procedure(req.code)
        if proc is None:
            refusals.append(
                e.refusal(
                    e.PROCEDURE_UNKNOWN,
                    f"手続「{req.code}」はありません。一覧から選んでください。",
                    f"There is no procedure {req.code!r}. Choose one from the list.",
                    procedure=req.code,
                )
            )
        elif not proc.online:
            assert proc.explanation is not None  # guaranteed by the reference model
            refusals.append(
                e.refusal(
                    e.PROCEDURE_NOT_ONLINE,
                    f"「{proc.name.ja}」はオンラインでは申請できません。{proc.explanation.ja}",
                    f"{proc.name.en} is not available online. {proc.explanation.en}",
                    procedure=proc.code,
                )
            )
        elif proc.variants and req.variant not in {v.code for v in proc.variants}:
            refusals.append(
                e.refusal(
                    e.PROCEDURE_VARIANT_INVALID,
                    f"「{proc.name.ja}」の種類を選んでください（{_join_ja([v.name.ja for v in proc.variants])}）。",
                    f"Choose the kind of {proc.name.en} ({_join_en([v.name.en for v in proc.variants])}).",
                    procedure=proc.code,
                )
            )
        elif not proc.variants and req.variant is not None:
            refusals.append(
                e.refusal(
                    e.PROCEDURE_VARIANT_INVALID,
                    f"「{proc.name.ja}」には種類の選択はありません。",
                    f"{proc.name.en} has no kinds to choose from.",
                    procedure=proc.code,
                )
            )
    return refusals


def _check_combination(case: FilingCase, snap: ReferenceSnapshot) -> list[Refusal]:
    combos = snap.combinations
    codes = [p.code for p in _online_procedures(case, snap)]
    if not case.procedures:
        return [
            e.refusal(
                e.COMBINATION_NOT_ALLOWED,
                "申請する手続を選んでください。",
                "Choose the procedure to apply for.",
            )
        ]

    def names(items: Sequence[str]) -> tuple[list[str], list[str]]:
        procs = [snap.procedure(c) for c in items]
        return [p.name.ja for p in procs if p], [p.name.en for p in procs if p]

    refusals: list[Refusal] = []
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        ja, en = names(duplicates)
        refusals.append(
            e.refusal(
                e.COMBINATION_NOT_ALLOWED,
                f"同じ手続を2回選ぶことはできません（{_join_ja(ja)}）。",
                f"The same procedure cannot be chosen twice ({', '.join(en)}).",
                procedures=",".join(duplicates),
            )
        )
    mains = sorted({c for c in codes if c in combos.main})
    if len(mains) > 1:
        ja, en = names(mains)
        refusals.append(
            e.refusal(
                e.COMBINATION_NOT_ALLOWED,
                f"一度に申請できる主たる手続は1つです（選択中: {_join_ja(ja)}）。手続ごとに申請してください。",
                f"Only one main procedure can be filed at a time (chosen: {', '.join(en)}). File them separately.",
                procedures=",".join(mains),
            )
        )
    for addon in dict.fromkeys(c for c in codes if c in combos.addons):
        allowed = combos.addons[addon]
        if not any(m in allowed for m in mains):
            (addon_ja,), (addon_en,) = names([addon])
            ja, en = names(allowed)
            refusals.append(
                e.refusal(
                    e.COMBINATION_NOT_ALLOWED,
                    f"「{addon_ja}」は{_join_ja(ja)}のいずれかと同時にのみオンラインで申請できます。",
                    f"{addon_en} can be filed online only together with {_join_en(en)}.",
                    procedure=addon,
                    allowed_with=",".join(allowed),
                )
            )
    return refusals


def application_status(case: FilingCase, snap: ReferenceSnapshot) -> StatusSelection | None:
    """Return the status the application is about: the requested one where the main procedure asks for one."""
    mains = [p for p in _online_procedures(case, snap) if p.code in snap.combinations.main]
    if mains and mains[0].uses_requested_status:
        return case.requested_status
    return case.applicant.current_status


def _status_refusal(selection: StatusSelection, snap: ReferenceSnapshot) -> Refusal | None:
    status = snap.status(selection.code)
    if status is None:
        return e.refusal(
            e.STATUS_OUT_OF_SCOPE,
            f"在留資格「{selection.code}」はオンライン申請の対象ではありません。",
            f"The status of residence {selection.code!r} is not covered by online applications.",
            status=selection.code,
        )
    if not status.in_scope:
        assert status.explanation is not None  # guaranteed by the reference model
        return e.refusal(
            e.STATUS_OUT_OF_SCOPE,
            f"在留資格「{status.name.ja}」はオンライン申請の対象外です。{status.explanation.ja}",
            f"The status {status.name.en} is not covered by online applications. {status.explanation.en}",
            status=status.code,
        )
    fields = status.specified_skill_fields
    if fields is not None and selection.specified_skill_field not in {f.code for f in fields}:
        return e.refusal(
            e.STATUS_OUT_OF_SCOPE,
            f"「{status.name.ja}」の分野を一覧から選んでください（{_join_ja([f.name.ja for f in fields])}）。",
            f"Choose the field of {status.name.en} from the list ({', '.join(f.name.en for f in fields)}).",
            status=status.code,
            specified_skill_field=selection.specified_skill_field or "",
        )
    notices = status.designated_activity_notices
    if notices is not None and selection.designated_activity_notice not in {n.number for n in notices}:
        listed = [n.number for n in notices]
        given = selection.designated_activity_notice
        return e.refusal(
            e.STATUS_OUT_OF_SCOPE,
            (
                f"「{status.name.ja}」（告示{given}号）はオンライン申請の対象外です。"
                if given
                else f"「{status.name.ja}」の告示番号を選んでください。"
            )
            + f"オンラインで申請できるのは告示{'・'.join(listed)}号です。それ以外は地方出入国在留管理官署の窓口で申請してください。",
            (
                f"{status.name.en} (notice No. {given}) is not covered by online applications. "
                if given
                else f"Choose the notice number of {status.name.en}. "
            )
            + f"Online applications cover notice Nos. {', '.join(listed)}; for others apply at a regional immigration services bureau.",
            status=status.code,
            designated_activity_notice=given or "",
        )
    return None


def _check_statuses(case: FilingCase, snap: ReferenceSnapshot) -> list[Refusal]:
    procs = _online_procedures(case, snap)
    refusals: list[Refusal] = []
    wanted: list[StatusSelection] = []
    if any(p.uses_current_status for p in procs):
        if case.applicant.current_status is None:
            refusals.append(
                e.refusal(
                    e.STATUS_MISSING,
                    "現在お持ちの在留資格を選んでください。",
                    "Choose your current status of residence.",
                    which="current",
                )
            )
        else:
            wanted.append(case.applicant.current_status)
    if any(p.uses_requested_status for p in procs):
        if case.requested_status is None:
            refusals.append(
                e.refusal(
                    e.STATUS_MISSING,
                    "希望する在留資格を選んでください。",
                    "Choose the status of residence you are applying for.",
                    which="requested",
                )
            )
        elif case.requested_status not in wanted:
            wanted.append(case.requested_status)
    if any(p.checks_period_of_stay for p in procs) and case.applicant.period_of_stay_expires_on is None:
        refusals.append(
            e.refusal(
                e.STATUS_MISSING,
                "在留期間の満了日を入力してください（在留カードに記載されています）。",
                "Enter the date your period of stay expires (shown on your residence card).",
                which="period_of_stay_expires_on",
            )
        )
    refusals.extend(r for r in (_status_refusal(s, snap) for s in wanted) if r is not None)
    return refusals


def _check_category(case: FilingCase, snap: ReferenceSnapshot, today: date) -> list[Refusal]:
    filer = case.filer
    category = snap.category(filer.category)
    if category is None:
        return [
            e.refusal(
                e.CATEGORY_NOT_ALLOWED,
                f"利用者区分「{filer.category}」ではオンライン申請できません。",
                f"The user category {filer.category!r} cannot file online applications.",
                category=filer.category,
            )
        ]
    refusals: list[Refusal] = []
    if category.relationships and filer.relationship not in {r.code for r in category.relationships}:
        refusals.append(
            e.refusal(
                e.CATEGORY_NOT_ALLOWED,
                f"{category.name.ja}として申請できるのは、申請人の{_join_ja([r.name.ja for r in category.relationships])}です。"
                "申請人との関係を選んでください。",
                f"As {category.name.en} you may file if you are the applicant's "
                f"{_join_en([r.name.en.lower() for r in category.relationships])}. Choose your relationship to the applicant.",
                category=category.code,
                relationship=filer.relationship or "",
            )
        )
    row = snap.filing.matrix[category.code]
    procs = _online_procedures(case, snap)
    never = [p for p in procs if row[p.code] == "not_allowed"]
    if never:
        refusals.append(
            e.refusal(
                e.CATEGORY_NOT_ALLOWED,
                f"{category.name.ja}の方は「{_join_ja([p.name.ja for p in never])}」を申請できません。"
                "申請人本人又は法定代理人が申請してください。",
                f"As {category.name.en} you cannot file {_join_en([p.name.en for p in never])}. "
                "The applicant or their legal representative must file it.",
                category=category.code,
                procedures=",".join(p.code for p in never),
            )
        )
    conditional = [p for p in procs if row[p.code] == "conditional"]
    under = snap.policy.relative_filing_applicant_under_age
    if conditional and not filer.illness_declared and age_on(case.applicant.date_of_birth, today) >= under:
        refusals.append(
            e.refusal(
                e.CATEGORY_NOT_ALLOWED,
                f"{category.name.ja}の方が申請できるのは、申請人が{under}歳未満の場合、又は病気その他の理由で申請人本人が"
                "申請できない場合に限られます。該当する場合は、その旨を申告してください。",
                f"As {category.name.en} you may file only if the applicant is under {under}, or cannot apply because "
                "of illness or a similar reason. If so, declare it.",
                category=category.code,
                procedures=",".join(p.code for p in conditional),
            )
        )
    return refusals


def _check_age_of_self_filer(case: FilingCase, snap: ReferenceSnapshot, today: date) -> list[Refusal]:
    minimum = snap.policy.self_filing_min_age
    if (
        case.filer.category != FilerCategoryCode.SELF
        or age_on(case.applicant.date_of_birth, today) >= minimum
    ):
        return []
    return [
        e.refusal(
            e.APPLICANT_UNDER_15_SELF,
            f"{minimum}歳未満の方はご本人として申請できません。法定代理人又は親族（配偶者・子・父又は母）の方が申請してください。",
            f"Applicants under {minimum} cannot file for themselves. A legal representative or a relative "
            "(spouse, child, father or mother) must file for them.",
            minimum_age=str(minimum),
        )
    ]


def _check_period(case: FilingCase, snap: ReferenceSnapshot, today: date) -> list[Refusal]:
    expiry = case.applicant.period_of_stay_expires_on
    if expiry is None or not any(p.checks_period_of_stay for p in _online_procedures(case, snap)):
        return []
    if today < expiry:
        return []
    when_ja = "当日" if today == expiry else "後"
    when_en = "on the day" if today == expiry else "after the day"
    return [
        e.refusal(
            e.PERIOD_LAST_DAY_OR_AFTER,
            f"在留期間の満了日（{expiry.isoformat()}）の{when_ja}はオンラインで申請できません。"
            "お近くの地方出入国在留管理官署の窓口で申請してください。",
            f"Applications cannot be filed online {when_en} your period of stay expires ({expiry.isoformat()}). "
            "Please apply at the counter of your nearest regional immigration services bureau.",
            expires_on=expiry.isoformat(),
            today=today.isoformat(),
        )
    ]


def eligibility_refusals(case: FilingCase, snapshot: ReferenceSnapshot, today: date) -> tuple[Refusal, ...]:
    """Return every reason why the case cannot be filed online on ``today`` (a Japan date), by one snapshot."""
    return (
        *_check_procedures(case, snapshot),
        *_check_combination(case, snapshot),
        *_check_statuses(case, snapshot),
        *_check_category(case, snapshot, today),
        *_check_age_of_self_filer(case, snapshot, today),
        *_check_period(case, snapshot, today),
        *representation_refusals(case, today),
        *period_refusals(case, snapshot, today),
        *notice_refusals(case, snapshot),
        *abroad_refusals(case.filing_from_abroad, snapshot),
    )


def check_eligibility(case: FilingCase, *, reference: ReferenceData, clock: Clock) -> tuple[Refusal, ...]:
    """Return every refusal for creating this draft today (Japan time, by the injected clock); empty if eligible."""
    today = japan_today(clock)
    return eligibility_refusals(case, reference.as_of(today), today)


def _applies(req: AttachmentRequirement, case: FilingCase, snap: ReferenceSnapshot) -> bool:
    when = req.when
    if when.filer_categories is not None and case.filer.category not in when.filer_categories:
        return False
    if when.procedures is not None and not set(case.procedure_codes) & set(when.procedures):
        return False
    if when.statuses is not None:
        status = application_status(case, snap)
        if status is None or status.code not in when.statuses:
            return False
    return True


def required_attachments(case: FilingCase, snapshot: ReferenceSnapshot) -> tuple[AttachmentRequirement, ...]:
    """Return the attachment requirements that apply to this case (for the UI's checklist and for submission)."""
    return tuple(r for r in snapshot.attachments.requirements if _applies(r, case, snapshot))


def _kind_names(codes: Sequence[str], snap: ReferenceSnapshot) -> tuple[list[str], list[str]]:
    kinds = [snap.attachment_kind(c) for c in codes]
    ja = [k.name.ja if k else c for k, c in zip(kinds, codes, strict=True)]
    en = [k.name.en if k else c for k, c in zip(kinds, codes, strict=True)]
    return ja, en


def attachment_refusals(
    case: FilingCase, attachments: Sequence[AttachmentSummaryItem], snapshot: ReferenceSnapshot
) -> tuple[Refusal, ...]:
    """Return every refusal about the attachments of the current round (missing, too many, rejected, unchecked)."""
    refusals: list[Refusal] = []
    present = Counter(a.kind for a in attachments)
    for req in required_attachments(case, snapshot):
        count = sum(present[k] for k in req.any_of)
        ja, en = _kind_names(req.any_of, snapshot)
        if count == 0:
            refusals.append(
                e.refusal(
                    req.refusal,
                    f"{_join_ja([f'「{n}」' for n in ja])}{'のいずれか' if len(ja) > 1 else ''}を添付してください。",
                    f"Attach the {_join_en(en)}.",
                    requirement=req.code,
                    kinds=",".join(req.any_of),
                )
            )
        elif req.max_count is not None and count > req.max_count:
            refusals.append(
                e.refusal(
                    e.ATTACHMENTS_TOO_MANY,
                    f"{_join_ja([f'「{n}」' for n in ja])}は{req.max_count}件まで添付できます（現在{count}件）。"
                    "不要なものを削除してください。",
                    f"Attach at most {req.max_count} file(s) of {_join_en(en)} (now {count}). Remove the extra ones.",
                    requirement=req.code,
                    kinds=",".join(req.any_of),
                )
            )
    refusals.extend(not_accepted_refusals(required_attachments(case, snapshot), attachments, snapshot))
    refusals.extend(attachment_state_refusals(attachments, snapshot))
    return tuple(refusals)


def attachment_state_refusals(
    attachments: Sequence[AttachmentSummaryItem], snapshot: ReferenceSnapshot
) -> tuple[Refusal, ...]:
    """Return the refusals for attachments that were rejected or are still being checked."""
    refusals: list[Refusal] = []
    rejected = [a for a in attachments if a.state == AttachmentState.REJECTED]
    if rejected:
        ja, en = _kind_names([a.kind for a in rejected], snapshot)
        reasons = sorted({r for a in rejected for r in a.reasons})
        refusals.append(
            e.refusal(
                e.ATTACHMENTS_REJECTED,
                f"確認の結果、受け付けられない添付ファイルがあります（{_join_ja(ja)}）。理由を確認し、削除するか差し替えてください。",
                f"Some attachments were rejected by the checks ({', '.join(en)}). See the reasons, then remove or replace them.",
                attachment_ids=",".join(a.attachment_id or "" for a in rejected),
                reasons=",".join(reasons),
            )
        )
    checking = [a for a in attachments if a.state == AttachmentState.CHECKING]
    if checking:
        ja, en = _kind_names([a.kind for a in checking], snapshot)
        refusals.append(
            e.refusal(
                e.ATTACHMENTS_NOT_CHECKED,
                f"添付ファイルを確認中です（{_join_ja(ja)}）。数秒後にもう一度お試しください。",
                f"Some attachments are still being checked ({', '.join(en)}). Try again in a few seconds.",
                attachment_ids=",".join(a.attachment_id or "" for a in checking),
            )
        )
    return tuple(refusals)


def check_submission(
    case: FilingCase, attachments: Sequence[AttachmentSummaryItem], *, reference: ReferenceData, clock: Clock
) -> tuple[Refusal, ...]:
    """Return every refusal for submitting today: eligibility again, then the attachments; empty if ready."""
    today = japan_today(clock)
    snapshot = reference.as_of(today)
    return (*eligibility_refusals(case, snapshot, today), *attachment_refusals(case, attachments, snapshot))
