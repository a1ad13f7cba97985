"""Which bureau an application goes to: one of the list (shared reference data), never an unknown code."""

from __future__ import annotations

from shared.bureaus import BureauDirectory
from shared.errors import AppError
from shared.events.applications import BureauContact


def bureau_unknown(code: str) -> AppError:
    """422: the bureau is not in the list."""
    return AppError(
        422,
        "application.bureau_unknown",
        f"申請先の地方出入国在留管理官署「{code}」が見つかりません。一覧から選んでください"
        "（住居地の都道府県から管轄の官署を案内します: /api/applications/reference/bureaus?prefecture=…）。",
        f"There is no bureau {code!r}. Choose one from the list (the bureau for your address is suggested by "
        "prefecture: /api/applications/reference/bureaus?prefecture=…).",
        extra={"bureau": code},
    )


def prefecture_unknown(text: str) -> AppError:
    """422: the prefecture of the address is not known."""
    return AppError(
        422,
        "application.prefecture_unknown",
        f"都道府県「{text}」が分かりません。都道府県名（例：東京都）又は2桁のコード（例：13）で指定してください。",
        f"Unknown prefecture {text!r}. Give its name (e.g. Tokyo) or its two-digit code (e.g. 13).",
    )


def choose_bureau(
    directory: BureauDirectory, chosen: str | None, prefecture: str | None, default: str
) -> str:
    """Return the bureau chosen (refused when unknown), else the one serving the prefecture, else the default."""
    if chosen is not None:
        if directory.get(chosen) is None:
            raise bureau_unknown(chosen)
        return chosen
    if prefecture is not None:
        found = directory.prefecture(prefecture)
        if found is None:
            raise prefecture_unknown(prefecture)
        serving = directory.serving(found)
        if serving:
            return serving[0].code
    return default


def bureau_contact(directory: BureauDirectory, code: str) -> BureauContact | None:
    """Return the bureau's name, address and phone as mails show them (None for a code no longer listed)."""
    bureau = directory.get(code)
    if bureau is None:
        return None
    return BureauContact(
        code=bureau.code,
        name_ja=bureau.name.ja,
        name_en=bureau.name.en,
        address_ja=bureau.address.ja,
        address_en=bureau.address.en,
        phone=bureau.phone,
    )
