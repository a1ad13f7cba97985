"""Display helpers for mail templates: times in Japan Standard Time, yen, and names of codes in ja and en.

The labels repeat names the applications service keeps in its reference data, because the events carry only
codes; a code without a label is shown as it is, so a new code never breaks a mail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")

PROCEDURES: dict[str, tuple[str, str]] = {
    "coe": ("在留資格認定証明書交付申請", "Certificate of Eligibility"),
    "change": ("在留資格変更許可申請", "Change of status of residence"),
    "extension": ("在留期間更新許可申請", "Extension of period of stay"),
    "acquisition": ("在留資格取得許可申請", "Acquisition of status of residence"),
    "work_certificate": ("就労資格証明書交付申請", "Certificate of authorised employment"),
    "reentry": ("再入国許可申請", "Re-entry permit"),
    "outside_activity": ("資格外活動許可申請", "Permission to engage in activity outside status"),
}

SEND_ITEMS: dict[str, tuple[str, str]] = {
    "fee_payment_form": (
        "手数料納付書（所定の額の収入印紙を貼付したもの）",
        "Fee payment form with revenue stamps for the fee due",
    ),
    "return_envelope": (
        "返信用封筒（宛先を明記し、簡易書留用の郵便切手を貼付したもの）",
        "Return envelope with your address and postage for simple registered mail",
    ),
    "current_residence_card": ("現在お持ちの在留カード", "Your current residence card"),
    "passport": ("旅券（パスポート）", "Your passport"),
}

ATTACHMENT_KINDS: dict[str, tuple[str, str]] = {
    "document": ("添付資料（PDF）", "supporting documents (PDF)"),
    "photo": ("顔写真", "face photo"),
    "tax_info": ("所得・個人住民税情報", "income and resident-tax data"),
}

_INDEX = {"ja": 0, "en": 1}


def _label(table: dict[str, tuple[str, str]], code: str, locale: str) -> str:
    names = table.get(code)
    return names[_INDEX[locale]] if names else code


def procedure_name(code: str, locale: str) -> str:
    """Return the name of a procedure code (``extension`` -> 在留期間更新許可申請), or the code itself."""
    return _label(PROCEDURES, code, locale)


def send_item_name(code: str, locale: str) -> str:
    """Return the name of something to send after review, or the text itself when it is not a known code."""
    return _label(SEND_ITEMS, code, locale)


def attachment_kind_name(code: str, locale: str) -> str:
    """Return the name of an attachment kind."""
    return _label(ATTACHMENT_KINDS, code, locale)


def _jst(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(JST)


def when(value: datetime, locale: str) -> str:
    """Return a moment in Japan Standard Time: ``2026年12月26日 15:00`` or ``26 December 2026, 15:00 JST``."""
    jst = _jst(value)
    if locale == "ja":
        return f"{jst.year}年{jst.month}月{jst.day}日 {jst:%H:%M}"
    return f"{jst.day} {jst:%B %Y, %H:%M} JST"


def day(value: datetime | date, locale: str) -> str:
    """Return the date in Japan Standard Time: ``2026年12月26日`` or ``26 December 2026`` (a date is shown as is)."""
    jst = _jst(value) if isinstance(value, datetime) else value
    if locale == "ja":
        return f"{jst.year}年{jst.month}月{jst.day}日"
    return f"{jst.day} {jst:%B %Y}"


def yen(amount: int, locale: str) -> str:
    """Return an amount of yen: ``5,500円`` or ``JPY 5,500``."""
    return f"{amount:,}円" if locale == "ja" else f"JPY {amount:,}"
