"""The catalogue of every refusal the identity service returns: stable code, HTTP status, Japanese and English.

Domain refusals (``identity.domain``) bring their own messages; this module adds the HTTP status of each code and
the refusals of the use cases themselves (:class:`Refused`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from identity.domain.errors import IdentityRefusal, Reason
from identity.domain.jpki import CardRefusalCode

__all__ = ["MESSAGES", "STATUS", "Refused", "status_of"]

# HTTP status of every code, domain codes included.
STATUS: Mapping[str, int] = {
    # card responses (identity.domain.jpki)
    CardRefusalCode.CHALLENGE_UNKNOWN.value: 422,
    CardRefusalCode.CHALLENGE_REPLAYED.value: 409,
    CardRefusalCode.CHALLENGE_EXPIRED.value: 410,
    CardRefusalCode.SIGNATURE_INVALID.value: 422,
    CardRefusalCode.CERTIFICATE_MALFORMED.value: 422,
    CardRefusalCode.CERTIFICATE_UNKNOWN_CA.value: 422,
    CardRefusalCode.CERTIFICATE_WRONG_KIND.value: 422,
    CardRefusalCode.CERTIFICATE_EXPIRED.value: 422,
    CardRefusalCode.CERTIFICATE_NOT_YET_VALID.value: 422,
    CardRefusalCode.CERTIFICATE_REVOKED.value: 403,
    CardRefusalCode.CERTIFICATE_REVOCATION_UNKNOWN.value: 503,
    # links (identity.domain.link_token)
    "link.unknown": 404,
    "link.expired": 410,
    "link.used": 410,
    # password and representation rules (every broken rule is listed under ``reasons``)
    "password.rejected": 422,
    "representation.rejected": 422,
    # use cases
    "terms.not_agreed": 422,
    "registration.duplicate": 409,
    "registration.pending": 409,
    "registration.not_found": 404,
    "registration.expired": 410,
    "registration.completed": 409,
    "setup.resend_limited": 429,
    "rate.limited": 429,
    "signin.invalid_credentials": 401,
    "signin.locked": 423,
    "signin.address_locked": 429,
    "signin.password_expired": 403,
    "signin.card_not_registered": 401,
    "signin.category_required": 409,
    "signin.setup_incomplete": 403,
    "token.refresh_invalid": 401,
    "token.refresh_reused": 401,
    "representation.not_allowed": 403,
    "representation.duplicate": 409,
    "password.current_wrong": 403,
    "account.not_found": 404,
    "auth.required": 401,
    "auth.invalid_token": 401,
    "request.invalid": 422,
}

MESSAGES: Mapping[str, tuple[str, str]] = {
    "terms.not_agreed": (
        "利用規約に同意してください。同意いただけない場合は登録できません。",
        "Agree to the terms of use; registration is not possible without it.",
    ),
    "registration.duplicate": (
        "このマイナンバーカードは、この利用者区分で既に登録されています。認証IDとパスワードでサインインしてください。",
        "This My Number Card is already registered in this user category. Sign in with your 認証ID and password.",
    ),
    "registration.pending": (
        "このカードでの登録は受付済みで、パスワードの設定を待っています。届いたメールのリンクから設定するか、メールの再送信を依頼してください。",
        "A registration with this card is waiting for its password. Use the link in the e-mail, or have it sent again.",
    ),
    "registration.not_found": (
        "登録が見つかりません。最初から利用者情報登録を行ってください。",
        "No such registration. Start the registration from the beginning.",
    ),
    "registration.expired": (
        "登録から{days}日が過ぎたため、パスワード設定用のリンクは無効になりました。最初から利用者情報登録をやり直してください。",
        "More than {days} days have passed since registration, so the set-up link is no longer valid. "
        "Register again from the beginning.",
    ),
    "registration.completed": (
        "パスワードは設定済みです。認証IDとパスワードでサインインしてください。",
        "The password is already set. Sign in with your 認証ID and password.",
    ),
    "setup.resend_limited": (
        "メールの再送信は1時間に{limit}回までです。{retry_ja}以降にもう一度お試しください。",
        "The e-mail can be sent at most {limit} times per hour. Try again after {retry_en}.",
    ),
    "rate.limited": (
        "短時間のリクエストが多すぎます。{retry_ja}以降にもう一度お試しください。",
        "Too many requests in a short time. Try again after {retry_en}.",
    ),
    "signin.invalid_credentials": (
        "認証IDまたはパスワードが正しくありません。",
        "The 認証ID or password is not correct.",
    ),
    "signin.password_expired": (
        "パスワードの有効期限（1年）が切れています。「パスワードを忘れた場合」からパスワードを再設定してください。",
        "Your password has expired (passwords are valid for one year). Reset it with 'Forgot your password'.",
    ),
    "signin.card_not_registered": (
        "このマイナンバーカードで登録された利用者が見つかりません。先に利用者情報登録を行ってください。",
        "No user is registered with this My Number Card. Register first.",
    ),
    "signin.category_required": (
        "このカードは複数の利用者区分で登録されています。サインインする利用者区分を選択してください。",
        "This card is registered in more than one user category. Choose the category to sign in as.",
    ),
    "signin.setup_incomplete": (
        "パスワードがまだ設定されていません。登録時に届いたメールのリンクからパスワードを設定してください。",
        "The password has not been set yet. Set it with the link in the registration e-mail.",
    ),
    "token.refresh_invalid": (
        "サインインの有効期限が切れました。もう一度サインインしてください。",
        "Your sign-in has expired or was ended. Please sign in again.",
    ),
    "token.refresh_reused": (
        "安全のため、このサインインを終了しました。もう一度サインインしてください。",
        "For your safety this sign-in was ended (a used token was presented again). Please sign in again.",
    ),
    "representation.not_allowed": (
        "代理する申請人を登録できるのは、法定代理人または親族として登録した利用者だけです。",
        "Only users registered as a legal representative or a relative can record an applicant they act for.",
    ),
    "representation.duplicate": (
        "この申請人は既に登録されています。",
        "This applicant is already recorded.",
    ),
    "password.current_wrong": (
        "現在のパスワードが正しくありません。",
        "The current password is not correct.",
    ),
    "account.not_found": (
        "アカウントが見つかりません。もう一度サインインしてください。",
        "The account was not found. Please sign in again.",
    ),
    "password.rejected": (
        "パスワードが条件を満たしていません。下の各項目を確認してください。",
        "The password does not meet the rules; see each item below.",
    ),
    "representation.rejected": (
        "申請人の情報に誤りがあります。下の各項目を確認してください。",
        "Some details of the applicant are not acceptable; see each item below.",
    ),
}


def status_of(code: str) -> int:
    """Return the HTTP status of a refusal code (422 for codes of rule checks not listed)."""
    return STATUS.get(code, 422)


class Refused(IdentityRefusal):
    """A use case refused the request; ``extra`` goes into the problem body, ``retry_after`` into the header."""

    def __init__(
        self,
        code: str,
        *,
        extra: dict[str, Any] | None = None,
        retry_after: int | None = None,
        **values: Any,
    ) -> None:
        ja, en = MESSAGES[code]
        super().__init__(Reason(code, ja.format(**values), en.format(**values)))
        self.extra = extra or {}
        self.retry_after = retry_after


def refusal(
    reason: Reason, *, extra: dict[str, Any] | None = None, retry_after: int | None = None
) -> Refused:
    """Return a refusal with a reason made elsewhere (e.g. the lockout explanation)."""
    error = Refused.__new__(Refused)
    IdentityRefusal.__init__(error, reason)
    error.extra = extra or {}
    error.retry_after = retry_after
    return error
