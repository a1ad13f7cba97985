"""The bureaus an application can go to (reference data shared with identity), suggested by prefecture."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from applications.entrypoints.http.deps import ServiceDep
from applications.entrypoints.http.errors import responses
from shared.bureaus import Bureau, Prefecture
from shared.errors import AppError

router = APIRouter(prefix="/api/applications/reference", tags=["reference data"])


class BureauList(BaseModel):
    """The bureaus (those serving the prefecture asked for, or all) and the suggestion."""

    prefecture: Prefecture | None
    suggested: str | None
    bureaus: list[Bureau]
    prefectures: list[Prefecture]


def prefecture_unknown(text: str) -> AppError:
    """422: the prefecture is neither a JIS code nor a prefecture's name."""
    return AppError(
        422,
        "reference.prefecture_unknown",
        f"都道府県「{text}」が分かりません。都道府県名（例：東京都）又は2桁のコード（例：13）で指定してください。",
        f"Unknown prefecture {text!r}. Give its name (e.g. Tokyo) or its two-digit code (e.g. 13).",
    )


@router.get("/bureaus", responses=responses((422, "reference.prefecture_unknown"), (422, "request.invalid")))
async def read_bureaus(
    service: ServiceDep,
    prefecture: Annotated[
        str | None,
        Query(max_length=20, description="The prefecture of the applicant's address: JIS code or name."),
    ] = None,
) -> BureauList:
    """The regional bureaus and district offices; with a prefecture, those serving it (the first is suggested)."""
    directory = service.bureaus
    if prefecture is None:
        return BureauList(
            prefecture=None,
            suggested=None,
            bureaus=list(directory.bureaus),
            prefectures=list(directory.prefectures),
        )
    found = directory.prefecture(prefecture)
    if found is None:
        raise prefecture_unknown(prefecture)
    serving = directory.serving(found)
    return BureauList(
        prefecture=found,
        suggested=serving[0].code if serving else None,
        bureaus=list(serving),
        prefectures=list(directory.prefectures),
    )
