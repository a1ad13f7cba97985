"""Refusals the attachments service gives clients: HTTP status, stable code, what to do in ja and en.

The codes are a public API (the UI and clients key on them): never rename or reuse one.
"""

from __future__ import annotations

from shared.errors import AppError

MB = 1024 * 1024


class Refusal(AppError):
    """A request the service refuses, with a stable code and bilingual advice (headers such as Retry-After)."""


def _mb(value: int) -> str:
    return f"{value / MB:.1f}".rstrip("0").rstrip(".")


def round_too_large(*, round_number: int, limit: int, used: int, incoming: int | None) -> Refusal:
    """413: the file does not fit in what is left of the round's limit."""
    remaining = max(0, limit - used)
    size_ja = f"（{_mb(incoming)} MB）" if incoming is not None else ""
    size_en = f" ({_mb(incoming)} MB)" if incoming is not None else ""
    return Refusal(
        413,
        "attachments.round_limit_exceeded",
        f"このファイル{size_ja}を添付すると、第{round_number}回の添付の上限 {_mb(limit)} MB（{limit:,} バイト）を超えます"
        f"（残り {_mb(remaining)} MB）。解像度を下げて保存し直すか、上限内に収まる分だけを添付し、"
        "参考様式9（資料添付に係る申告書）で申告のうえ残りを後から添付してください。",
        f"This file{size_en} would take round {round_number} over its {_mb(limit)} MB ({limit:,} bytes) limit "
        f"({_mb(remaining)} MB left). Save it again at a lower resolution, or attach what fits, declare the rest "
        "with Reference Form 9 (参考様式9) and attach it later.",
        extra={"limit_bytes": limit, "used_bytes": used, "remaining_bytes": remaining},
    )


def file_too_large(*, kind: str, limit: int, incoming: int | None) -> Refusal:
    """413: one file is over its own limit (e.g. the face photo)."""
    return Refusal(
        413,
        "attachments.file_too_large",
        f"ファイルが上限の {_mb(limit)} MB（{limit:,} バイト）を超えています。サイズを小さくして保存し直してください。",
        f"The file is over the {_mb(limit)} MB ({limit:,} bytes) limit for this kind of attachment ({kind}). Make "
        "it smaller and save it again.",
        extra={"limit_bytes": limit, "size_bytes": incoming},
    )


def too_many_files(*, kind: str, limit: int, round_number: int) -> Refusal:
    """409: the round already holds as many files of the kind as allowed."""
    return Refusal(
        409,
        "attachments.too_many_files",
        f"第{round_number}回の添付では、この種類のファイル（{kind}）は {limit} 件までです"
        "（確認で受付不可となったファイルは数えません）。",
        f"Round {round_number} takes at most {limit} file(s) of this kind ({kind}). Files refused by the check "
        "do not count.",
        extra={"kind": kind, "limit": limit},
    )


def wrong_extension(*, kind: str, filename: str, expected: str) -> Refusal:
    """415: the file name does not end as the kind requires."""
    return Refusal(
        415,
        "attachments.wrong_extension",
        f"ファイル名「{filename}」の拡張子が正しくありません。{expected} のファイルを添付してください。",
        f"The file name '{filename}' has the wrong extension. Attach a {expected} file.",
        extra={"kind": kind, "expected": expected},
    )


def not_pdf(*, detected: str) -> Refusal:
    """415: the content is not a PDF."""
    return Refusal(
        415,
        "attachments.not_pdf",
        f"このファイルは PDF ではありません（{detected}）。拡張子を変えるのではなく、PDF として保存・出力したファイルを添付してください。",
        f"This file is not a PDF ({detected}). Do not just rename a file: export or save the document as PDF and "
        "attach that file.",
        extra={"detected": detected},
    )


def not_jpeg(*, detected: str) -> Refusal:
    """415: the content is not a JPEG."""
    return Refusal(
        415,
        "attachments.not_jpeg",
        f"写真が JPEG 形式ではありません（{detected}）。画像ソフトで JPEG 形式に変換して保存してください。",
        f"The photo is not a JPEG ({detected}). Convert it to JPEG in an image editor and save it.",
        extra={"detected": detected},
    )


def empty_file() -> Refusal:
    """400: nothing was sent."""
    return Refusal(
        400,
        "attachments.empty_file",
        "ファイルの中身が空です。添付するファイルを選び直してください。",
        "The file is empty. Choose the file to attach again.",
    )


def incomplete_upload(*, expected: int, received: int) -> Refusal:
    """400: the body ended before its announced length."""
    return Refusal(
        400,
        "attachments.incomplete_upload",
        "ファイルの送信が途中で終わりました。通信状態を確認して、もう一度添付してください。",
        "The upload ended early. Check your connection and attach the file again.",
        extra={"expected_bytes": expected, "received_bytes": received},
    )


def bad_filename() -> Refusal:
    """422: the file name is missing or unusable."""
    return Refusal(
        422,
        "attachments.bad_filename",
        "ファイル名がないか、長すぎるか、使えない文字を含みます。ファイル名を変えてから添付してください。",
        "The file name is missing, too long or contains characters that cannot be used. Rename the file and "
        "attach it again.",
    )


def round_closed(*, round_number: int | None) -> Refusal:
    """409: no round is open for uploads."""
    which_ja = f"第{round_number}回の添付は" if round_number else "添付は"
    which_en = f"Round {round_number} is" if round_number else "Attachments are"
    return Refusal(
        409,
        "attachments.round_closed",
        f"{which_ja}締め切られています（申請後は、入管から追加資料の提出を求められたときだけ添付できます）。",
        f"{which_en} closed (after submission you can attach files only when the bureau asks for more "
        "documents).",
        extra={"round_number": round_number},
    )


def not_owner() -> Refusal:
    """403: the application belongs to someone the caller may not act for."""
    return Refusal(
        403,
        "attachments.not_owner",
        "この申請には添付できません（ご本人、またはご本人の法定代理人・親族として登録された方だけが添付できます）。",
        "You cannot attach files to this application: only the applicant or someone registered to act for them "
        "can.",
    )


def cannot_act_for() -> Refusal:
    """403: the caller names an applicant they are not linked to."""
    return Refusal(
        403,
        "attachments.cannot_act_for",
        "指定された申請人のために手続きをする権限がありません。",
        "You are not registered to act for the applicant you named.",
    )


def applicant_mismatch() -> Refusal:
    """409: a different applicant was named than the one recorded for the application."""
    return Refusal(
        409,
        "attachments.applicant_mismatch",
        "この申請には別の申請人が記録されています。申請を確認してください。",
        "A different applicant is recorded for this application. Check which application you are working on.",
    )


def applicants_only() -> Refusal:
    """403: officers and operators only read."""
    return Refusal(
        403,
        "attachments.applicants_only",
        "添付は申請人またはその代理人・親族だけが行えます。",
        "Only the applicant, or someone acting for them, can attach files.",
    )


def forbidden() -> Refusal:
    """403: the caller may not see this application."""
    return Refusal(
        403,
        "attachments.forbidden",
        "この申請の添付ファイルを見る権限がありません。",
        "You are not allowed to see this application's attachments.",
    )


def application_not_found() -> Refusal:
    """404: nothing was ever attached to (or recorded for) this application."""
    return Refusal(
        404,
        "attachments.application_not_found",
        "この申請の添付ファイルはまだありません。申請番号を確認してください。",
        "No attachments are recorded for this application. Check the application id.",
    )


def attachment_not_found() -> Refusal:
    """404: no such attachment (or not visible to the caller)."""
    return Refusal(
        404,
        "attachments.not_found",
        "指定された添付ファイルが見つかりません。",
        "No such attachment.",
    )


def round_not_found(*, round_number: int) -> Refusal:
    """404: the round does not exist."""
    return Refusal(
        404,
        "attachments.round_not_found",
        f"第{round_number}回の添付はありません。",
        f"There is no attachment round {round_number}.",
    )
