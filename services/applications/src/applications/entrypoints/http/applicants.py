"""Routes for applicants and the people who file for them: drafts, submission, 申請情報検索, re-attachment."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from applications.domain.clock import japan_today
from applications.domain.states import ApplicationState, Audience
from applications.entrypoints.http import errors as e
from applications.entrypoints.http.deps import IfMatchDep, ServiceDep
from applications.entrypoints.http.schemas import (
    ApplicationCreate,
    ApplicationPage,
    ApplicationPublic,
    CaseChangedPublic,
    CaseUpdateIn,
    DraftSavedPublic,
    SubmissionCreate,
    ValidationPublic,
    WithdrawalCreate,
    application_public,
    case_changed_public,
    form_report,
    summary_public,
    validation_public,
)
from applications.service_layer.services import ApplicationService, ApplicationView, NewDraft, etag
from shared.auth import CurrentPrincipal
from shared.http import MAX_PAGE

router = APIRouter(prefix="/api/applications", tags=["applications"])

DRAFT_WRITE = e.responses(
    *e.AUTH,
    *e.NOT_FOUND,
    *e.TRANSITION,
    *e.INVALID_REQUEST,
    (422, "application.form_unreadable"),
    (422, "application.form_input_refused"),
    (428, "application.precondition_required"),
)


def present(
    service: ApplicationService,
    view: ApplicationView,
    response: Response,
    audience: Audience = "applicant",
) -> ApplicationPublic:
    """Return the application's public view (with the audience's own actions) and set its ETag."""
    response.headers["ETag"] = etag(view.record.version)
    return application_public(view, service.reference.as_of(japan_today(service.clock)), audience)


@router.post(
    "",
    status_code=201,
    responses=e.responses(
        *e.AUTH,
        (403, "application.applicant_not_linked"),
        (403, "application.filer_not_allowed"),
        (422, "application.not_eligible"),
        (422, "application.applicant_required"),
        (409, "application.representation_not_recorded"),
        (422, "application.date_of_birth_not_as_recorded"),
        (422, "application.bureau_unknown"),
        (422, "application.prefecture_unknown"),
        *e.INVALID_REQUEST,
    ),
)
async def create_application(
    body: ApplicationCreate, principal: CurrentPrincipal, service: ServiceDep, response: Response
) -> ApplicationPublic:
    """Create a draft after the eligibility check (every refusal is listed with its code and ja/en message)."""
    applicant = body.applicant
    view = await service.create_draft(
        principal,
        NewDraft(
            procedures=body.procedures_domain(),
            date_of_birth=applicant.date_of_birth,
            applicant_id=body.applicant_id,
            relationship=body.relationship,
            illness_declared=body.illness_declared,
            current_status=applicant.current_status.to_domain() if applicant.current_status else None,
            period_of_stay_expires_on=applicant.period_of_stay_expires_on,
            requested_status=body.requested_status.to_domain() if body.requested_status else None,
            applicant_email=str(applicant.email) if applicant.email else None,
            applicant_locale=applicant.locale,
            bureau=body.bureau,
            period_of_stay_months=applicant.period_of_stay_months,
            filing_from_abroad=body.filing_from_abroad,
            address_prefecture=body.address_prefecture,
        ),
    )
    response.headers["Location"] = f"/api/applications/{view.record.id}"
    return present(service, view, response)


@router.get("", responses=e.responses(*e.AUTH, *e.INVALID_REQUEST))
async def read_applications(
    principal: CurrentPrincipal,
    service: ServiceDep,
    state: ApplicationState | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ApplicationPage:
    """申請情報検索: your applications and those of the applicants you act for, newest first."""
    views, total = await service.list_own(
        principal, state=state.value if state else None, limit=page_size, offset=(page - 1) * page_size
    )
    return ApplicationPage(
        items=[summary_public(v) for v in views], total=total, page=page, page_size=page_size
    )


@router.get("/{application_id}", responses=e.responses(*e.AUTH, *e.NOT_FOUND))
async def read_application(
    application_id: uuid.UUID, principal: CurrentPrincipal, service: ServiceDep, response: Response
) -> ApplicationPublic:
    """One application: state, receipt numbers, forms, rounds, the verdict on each attachment, and the history."""
    return present(service, await service.read(principal, application_id), response)


@router.delete(
    "/{application_id}",
    status_code=204,
    responses=e.responses(*e.AUTH, *e.NOT_FOUND, *e.TRANSITION, *e.INVALID_REQUEST),
)
async def delete_application(
    application_id: uuid.UUID, principal: CurrentPrincipal, service: ServiceDep, if_match: IfMatchDep
) -> Response:
    """Delete a draft that was never submitted; its attachments are dropped and their files released."""
    await service.delete_draft(principal, application_id, if_match=if_match)
    return Response(status_code=204)


@router.get("/{application_id}/validation", responses=e.responses(*e.AUTH, *e.NOT_FOUND))
async def read_validation(
    application_id: uuid.UUID, principal: CurrentPrincipal, service: ServiceDep
) -> ValidationPublic:
    """The validation report of every form as it stands (what is wrong and what is still missing)."""
    view = await service.read(principal, application_id)
    return validation_public(service.validate(view))


async def _save(
    service: ApplicationService,
    principal: CurrentPrincipal,
    application_id: uuid.UUID,
    procedure: str,
    values: dict[str, Any],
    if_match: int | None,
    response: Response,
    step: str | None = None,
) -> DraftSavedPublic:
    view, result = await service.save_form(
        principal, application_id, procedure, values, if_match=if_match, step=step
    )
    return DraftSavedPublic(
        application=present(service, view, response), validation=form_report(procedure, result)
    )


@router.patch(
    "/{application_id}/case",
    responses=e.responses(
        *e.AUTH,
        *e.NOT_FOUND,
        *e.TRANSITION,
        *e.INVALID_REQUEST,
        (422, "application.not_eligible"),
        (428, "application.precondition_required"),
    ),
)
async def update_case(
    application_id: uuid.UUID,
    body: CaseUpdateIn,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
) -> CaseChangedPublic:
    """Change step-1 facts of a draft (expiry, statuses, procedures, bureau, the applicant's e-mail and locale).

    Eligibility runs again (an ineligible change is refused and nothing changes); the answer lists the facts that
    changed, the later-step values dropped and the later fields that are now invalid. Needs If-Match.
    """
    view, report = await service.change_case(principal, application_id, body.to_domain(), if_match=if_match)
    return case_changed_public(present(service, view, response), report)


@router.patch("/{application_id}/forms/{procedure}", responses=DRAFT_WRITE)
async def update_form(
    application_id: uuid.UUID,
    procedure: str,
    values: Annotated[dict[str, Any], Body(description="Field values; null clears a field.")],
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
) -> DraftSavedPublic:
    """Save some fields of a form (merged into the draft); never fails on missing or wrong values, reports them."""
    return await _save(service, principal, application_id, procedure, values, if_match, response)


@router.put("/{application_id}/forms/{procedure}/steps/{step}", responses=DRAFT_WRITE)
async def replace_form_step(
    application_id: uuid.UUID,
    procedure: str,
    step: str,
    values: Annotated[
        dict[str, Any], Body(description="Every value of the step; fields left out are cleared.")
    ],
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
) -> DraftSavedPublic:
    """Save one input step (e.g. 2-1, 2-2) as a whole; reports what is wrong or missing."""
    return await _save(service, principal, application_id, procedure, values, if_match, response, step)


@router.post(
    "/{application_id}/submit",
    responses=e.responses(
        *e.AUTH, *e.NOT_FOUND, *e.TRANSITION, *e.INVALID_REQUEST, (422, "application.submission_blocked")
    ),
)
async def submit_application(
    application_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
    body: SubmissionCreate | None = None,
) -> ApplicationPublic:
    """Submit: eligibility, attachments and forms are checked again; the provisional receipt number is given at once."""
    view = await service.submit(
        principal,
        application_id,
        over_10mb_declared=body.over_10mb_declared if body else False,
        if_match=if_match,
    )
    return present(service, view, response)


@router.post(
    "/{application_id}/resubmit",
    responses=e.responses(*e.AUTH, *e.NOT_FOUND, *e.TRANSITION, (422, "application.submission_blocked")),
)
async def resubmit_documents(
    application_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
) -> ApplicationPublic:
    """Finish the re-attachment the bureau asked for: the round closes and review goes on."""
    return present(
        service, await service.resubmit_documents(principal, application_id, if_match=if_match), response
    )


@router.post(
    "/{application_id}/withdraw",
    responses=e.responses(*e.AUTH, *e.NOT_FOUND, *e.TRANSITION, *e.INVALID_REQUEST),
)
async def withdraw_application(
    application_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
    body: WithdrawalCreate | None = None,
) -> ApplicationPublic:
    """Withdraw a submitted application (until review is completed)."""
    view = await service.withdraw(
        principal, application_id, reason=body.reason if body else None, if_match=if_match
    )
    return present(service, view, response)
