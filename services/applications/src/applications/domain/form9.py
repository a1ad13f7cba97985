"""参考様式9 (資料添付に係る申告書): the one model of the declaration, its two checkbox texts and when it is required.

The applications service owns it (docs/adr/0014): the texts are those of the seed, verbatim in Japanese, with a
faithful English rendering; the events that need it (application-submitted, application-returned) carry the tick
and both texts, so no other service keeps a copy.

The rule *(policy, domain.md §5)*: at filing, only when the data exceeds 10 MB and the filer declares that more will
follow (tick "more later"); in a later round, only when the application took that route at filing (tick "the bureau
asked for additional documents"). Documents handed in by post or at the counter need no declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DECLARATION_KIND = "declaration_form9"
"""The reference-data attachment kind of 参考様式9."""


class Form9Tick(StrEnum):
    """The two checkboxes of 参考様式9."""

    MORE_LATER = "more_will_be_attached_later"
    BUREAU_REQUESTED = "bureau_requested_additional_documents"


@dataclass(frozen=True)
class Form9Text:
    """One checkbox of 参考様式9: its code and its text in Japanese (verbatim) and English."""

    tick: Form9Tick
    ja: str
    en: str


FORM9_TEXTS: dict[Form9Tick, Form9Text] = {
    Form9Tick.MORE_LATER: Form9Text(
        Form9Tick.MORE_LATER,
        "添付資料のデータの容量が10MBを超えるため、在留申請オンラインシステムに資料を追加で添付します。",
        "As the data of the attached documents exceeds 10 MB, I will attach further documents through the "
        "Residence Application Online System.",
    ),
    Form9Tick.BUREAU_REQUESTED: Form9Text(
        Form9Tick.BUREAU_REQUESTED,
        "申請した地方出入国在留管理官署からの追加資料の提出依頼があったので、在留申請オンラインシステムに資料を追加で添付します。",
        "As the regional immigration services bureau where I applied asked me to submit additional documents, "
        "I will attach further documents through the Residence Application Online System.",
    ),
}


def tick_for_round(round_number: int) -> Form9Tick:
    """Return the only tick that fits a round: "more later" at filing (round 1), "the bureau asked" afterwards."""
    return Form9Tick.MORE_LATER if round_number == 1 else Form9Tick.BUREAU_REQUESTED


def required_form9(round_number: int, *, over_10mb_declared: bool) -> Form9Text | None:
    """Return the 参考様式9 checkbox a round needs, or None when the round needs no declaration."""
    if not over_10mb_declared:
        return None
    return FORM9_TEXTS[tick_for_round(round_number)]
