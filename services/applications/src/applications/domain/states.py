"""The application state machine of domain.md §6: states, actions and which action is allowed in which state."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class ApplicationState(StrEnum):
    """Where an application stands, as the applicant sees it."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"
    REVIEW_COMPLETED = "review_completed"
    CARD_DISPATCHED = "card_dispatched"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    REFUSED = "refused"

    @property
    def label_ja(self) -> str:
        """Return the Japanese name of the state."""
        return _STATE_LABELS[self][0]

    @property
    def label_en(self) -> str:
        """Return the English name of the state."""
        return _STATE_LABELS[self][1]


_STATE_LABELS: dict[ApplicationState, tuple[str, str]] = {
    ApplicationState.DRAFT: ("作成中", "draft"),
    ApplicationState.SUBMITTED: ("仮受付", "submitted"),
    ApplicationState.RECEIVED: ("受付済み", "received"),
    ApplicationState.UNDER_REVIEW: ("審査中", "under review"),
    ApplicationState.RETURNED: ("返却中", "returned for documents"),
    ApplicationState.REVIEW_COMPLETED: ("審査完了", "review completed"),
    ApplicationState.CARD_DISPATCHED: ("在留カード等発送済み", "card dispatched"),
    ApplicationState.CLOSED: ("完了", "closed"),
    ApplicationState.WITHDRAWN: ("取下げ", "withdrawn"),
    ApplicationState.REFUSED: ("不許可", "refused"),
}


class Action(StrEnum):
    """What can be done to an application (one command each)."""

    EDIT_DRAFT = "edit_draft"
    SUBMIT = "submit"
    ASSIGN_RECEIPT_NUMBER = "assign_receipt_number"
    START_REVIEW = "start_review"
    RETURN_FOR_DOCUMENTS = "return_for_documents"
    RESUBMIT_DOCUMENTS = "resubmit_documents"
    RECORD_DOCUMENTS_RECEIVED = "record_documents_received"
    COMPLETE_REVIEW = "complete_review"
    RECORD_CARD_DISPATCH = "record_card_dispatch"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    REFUSE = "refuse"

    @property
    def label_ja(self) -> str:
        """Return the Japanese name of the action."""
        return _ACTION_LABELS[self][0]

    @property
    def label_en(self) -> str:
        """Return the English name of the action."""
        return _ACTION_LABELS[self][1]


_ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.EDIT_DRAFT: ("申請内容の編集", "edit the draft"),
    Action.SUBMIT: ("申請", "submit"),
    Action.ASSIGN_RECEIPT_NUMBER: ("受付番号の付与", "assign the receipt number"),
    Action.START_REVIEW: ("審査開始", "start review"),
    Action.RETURN_FOR_DOCUMENTS: ("返却（資料の追加提出依頼）", "return for documents"),
    Action.RESUBMIT_DOCUMENTS: ("資料の再添付完了", "resubmit documents"),
    Action.RECORD_DOCUMENTS_RECEIVED: (
        "資料の受領（郵送・窓口）",
        "record documents received by post or at the counter",
    ),
    Action.COMPLETE_REVIEW: ("審査完了", "complete review"),
    Action.RECORD_CARD_DISPATCH: ("在留カード等の発送記録", "record card dispatch"),
    Action.CLOSE: ("完了", "close"),
    Action.WITHDRAW: ("取下げ", "withdraw"),
    Action.REFUSE: ("不許可", "refuse"),
}

S = ApplicationState
TRANSITIONS: dict[tuple[ApplicationState, Action], ApplicationState] = {
    (S.DRAFT, Action.EDIT_DRAFT): S.DRAFT,
    (S.DRAFT, Action.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, Action.ASSIGN_RECEIPT_NUMBER): S.RECEIVED,
    (S.RECEIVED, Action.START_REVIEW): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, Action.RETURN_FOR_DOCUMENTS): S.RETURNED,
    (S.RETURNED, Action.RESUBMIT_DOCUMENTS): S.UNDER_REVIEW,
    (S.RETURNED, Action.RECORD_DOCUMENTS_RECEIVED): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, Action.COMPLETE_REVIEW): S.REVIEW_COMPLETED,
    (S.REVIEW_COMPLETED, Action.RECORD_CARD_DISPATCH): S.CARD_DISPATCHED,
    (S.CARD_DISPATCHED, Action.CLOSE): S.CLOSED,
    (S.UNDER_REVIEW, Action.REFUSE): S.REFUSED,
    (S.RETURNED, Action.REFUSE): S.REFUSED,
    (S.SUBMITTED, Action.WITHDRAW): S.WITHDRAWN,
    (S.RECEIVED, Action.WITHDRAW): S.WITHDRAWN,
    (S.UNDER_REVIEW, Action.WITHDRAW): S.WITHDRAWN,
    (S.RETURNED, Action.WITHDRAW): S.WITHDRAWN,
}
"""(state, action) → next state. Anything not listed is refused with InvalidTransition."""
del S

TERMINAL_STATES: frozenset[ApplicationState] = frozenset(
    {ApplicationState.CLOSED, ApplicationState.WITHDRAWN, ApplicationState.REFUSED}
)


Audience = Literal["applicant", "officer"]
"""Who looks at an application: the applicant and those filing for them, or an officer of its bureau."""

ACTIONS_OF: dict[Audience, frozenset[Action]] = {
    "applicant": frozenset({Action.EDIT_DRAFT, Action.SUBMIT, Action.RESUBMIT_DOCUMENTS, Action.WITHDRAW}),
    "officer": frozenset(
        {
            Action.START_REVIEW,
            Action.RETURN_FOR_DOCUMENTS,
            Action.RECORD_DOCUMENTS_RECEIVED,
            Action.COMPLETE_REVIEW,
            Action.RECORD_CARD_DISPATCH,
            Action.CLOSE,
            Action.REFUSE,
        }
    ),
}
"""The actions each audience may take; the receipt-number assignment is the nightly job's alone."""


def allowed_actions(state: ApplicationState, audience: Audience | None = None) -> tuple[Action, ...]:
    """Return the actions allowed in a state (only the audience's own when one is named), in declaration order."""
    mine = ACTIONS_OF[audience] if audience is not None else frozenset(Action)
    return tuple(action for action in Action if (state, action) in TRANSITIONS and action in mine)
