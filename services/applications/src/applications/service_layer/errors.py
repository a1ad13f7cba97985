"""Errors of the service layer (not found, stale version, who may act): problem details with ja/en messages."""

from __future__ import annotations

from shared.errors import AppError


def not_found() -> AppError:
    """The application does not exist or the caller may not see it (the two are not told apart)."""
    return AppError(
        404,
        "application.not_found",
        "申請が見つかりません。申請情報検索から申請を選び直してください。",
        "The application was not found. Choose it again from your list of applications.",
    )


def version_conflict(*, expected: int, current: int) -> AppError:
    """The draft changed since the caller read it (another tab or person saved it)."""
    return AppError(
        409,
        "application.version_conflict",
        "この申請は別の画面又は別の方により更新されています。最新の内容を読み込んでから、もう一度保存してください。",
        "This application was changed in another tab or by someone else since you opened it. "
        "Reload it to see the latest version, then save again.",
        extra={"expected_version": expected, "current_version": current},
    )


def precondition_required() -> AppError:
    """A draft write must say which version it changes (If-Match)."""
    return AppError(
        428,
        "application.precondition_required",
        "保存するには、読み込んだ版（ETag）を If-Match ヘッダーで指定してください。",
        "To save, send the version you read (its ETag) in the If-Match header.",
    )


def not_linked() -> AppError:
    """The caller may not file for this applicant."""
    return AppError(
        403,
        "application.applicant_not_linked",
        "この申請人の代わりに申請する権限がありません。法定代理人又は親族としての登録を確認してください。",
        "You may not file for this applicant. Check your registration as their legal representative or relative.",
    )


def applicant_required() -> AppError:
    """A representative or relative must name the applicant."""
    return AppError(
        422,
        "application.applicant_required",
        "申請人（代わりに申請する方）を選んでください。",
        "Choose the applicant you are filing for.",
    )


def cannot_file() -> AppError:
    """Officers and operators do not file applications."""
    return AppError(
        403,
        "application.filer_not_allowed",
        "この利用者区分では申請を作成できません。",
        "Your user category cannot create applications.",
    )


def no_bureau() -> AppError:
    """An officer's token names no bureau."""
    return AppError(
        403,
        "back_office.no_bureau",
        "所属する地方出入国在留管理官署が登録されていません。管理者に連絡してください。",
        "Your account names no regional bureau. Ask an administrator to set it.",
    )
