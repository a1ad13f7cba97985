"""Typed card-gateway errors: each has a stable machine code and a message in Japanese and English."""

from __future__ import annotations

from typing import Any

from card_gateway.domain.models import PinKind

_PIN_NAMES_JA = {
    PinKind.AUTH: "利用者証明用電子証明書の暗証番号（数字4桁）",
    PinKind.SIGNATURE: "署名用電子証明書の暗証番号（英数字6〜16文字）",
}
_PIN_NAMES_EN = {
    PinKind.AUTH: "user authentication PIN (4 digits)",
    PinKind.SIGNATURE: "digital signature PIN (6–16 letters and digits)",
}


class CardGatewayError(Exception):
    """Base of every error the gateway reports to a caller: ``code`` is stable, messages are for people."""

    code: str = "card.error"

    def __init__(self, message_ja: str, message_en: str, **details: Any) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en
        self.details: dict[str, Any] = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, details={self.details!r})"


class NoReaderError(CardGatewayError):
    """No card reader is connected (or the named reader is not there)."""

    code = "reader.not_found"

    def __init__(self, reader: str | None = None) -> None:
        if reader is None:
            super().__init__(
                "カードリーダーが見つかりません。カードリーダーをパソコンに接続してから、もう一度お試しください。",
                "No card reader was found. Connect a card reader to this computer and try again.",
            )
        else:
            super().__init__(
                f"カードリーダー「{reader}」が見つかりません。接続を確認してから、もう一度お試しください。",
                f"The card reader '{reader}' was not found. Check that it is connected and try again.",
                reader=reader,
            )


def _reader_list_ja(readers: list[str]) -> str:
    """Return 「A」「B」 for a Japanese message."""
    return "".join(f"「{name}」" for name in readers)


def _reader_list_en(readers: list[str]) -> str:
    """Return 'A', 'B' for an English message."""
    return ", ".join(f"'{name}'" for name in readers)


class NoCardError(CardGatewayError):
    """A reader is there but no card is in it (``readers``: every reader that was looked at)."""

    code = "card.not_present"

    def __init__(self, reader: str | None = None, *, readers: list[str] | None = None) -> None:
        if readers:
            super().__init__(
                f"カードリーダー{_reader_list_ja(readers)}のどれにもカードがありません。"
                "マイナンバーカードをカードリーダーにセットしてください。",
                f"There is no card in any card reader ({_reader_list_en(readers)}). "
                "Put your My Number Card on a reader.",
                readers=list(readers),
            )
            return
        super().__init__(
            "カードリーダーにカードがありません。マイナンバーカードをカードリーダーにセットしてください。",
            "There is no card in the card reader. Put your My Number Card on the reader.",
            **({"reader": reader} if reader else {}),
        )


class NotMyNumberCardError(CardGatewayError):
    """The card in the reader has no JPKI application or is not a My Number Card (``readers``: every one tried)."""

    code = "card.not_my_number_card"

    def __init__(
        self, reader: str | None = None, token: str | None = None, *, readers: list[str] | None = None
    ) -> None:
        if readers:
            super().__init__(
                f"カードリーダー{_reader_list_ja(readers)}にあるカードは、どれもマイナンバーカードではありません。"
                "マイナンバーカードをカードリーダーにセットしてください。",
                f"None of the cards in the card readers ({_reader_list_en(readers)}) is a My Number Card. "
                "Put your My Number Card on a reader.",
                readers=list(readers),
            )
            return
        where_ja = f"カードリーダー「{reader}」" if reader else "カードリーダー"
        where_en = f"the card reader '{reader}'" if reader else "the reader"
        super().__init__(
            f"{where_ja}にあるカードはマイナンバーカードではありません。マイナンバーカードをセットしてください。",
            f"The card in {where_en} is not a My Number Card. Put your My Number Card on the reader.",
            **({"reader": reader} if reader else {}),
            **({"token": token} if token else {}),
        )


class InvalidPinFormatError(CardGatewayError):
    """The PIN breaks the card's rules; nothing was sent to the card and no try was spent."""

    code = "pin.invalid_format"

    def __init__(self, kind: PinKind, rule_ja: str, rule_en: str) -> None:
        super().__init__(
            f"{_PIN_NAMES_JA[kind]}の形式が正しくありません：{rule_ja}（カードには送信していないため、残り回数は減っていません）",
            f"The {_PIN_NAMES_EN[kind]} has the wrong format: {rule_en} (nothing was sent to the card; no try was used).",
            pin=kind.value,
        )


class LastTryConfirmationRequiredError(CardGatewayError):
    """Only one try is left and the caller did not confirm that it wants to spend it."""

    code = "pin.last_try_confirmation_required"

    def __init__(self, kind: PinKind) -> None:
        super().__init__(
            f"{_PIN_NAMES_JA[kind]}の残り回数はあと1回です。間違えるとロックされ、市区町村の窓口での手続きが必要になります。"
            "暗証番号を確かめたうえで、確認してから送信してください。",
            f"Only one try is left for the {_PIN_NAMES_EN[kind]}. A wrong PIN will lock it and you will have to visit "
            "your municipal office. Check the PIN, then confirm that you want to use the last try.",
            pin=kind.value,
            tries_left=1,
        )


class WrongPinError(CardGatewayError):
    """The card rejected the PIN; ``tries_left`` tries remain (None: the card did not say)."""

    code = "pin.wrong"

    def __init__(self, kind: PinKind, tries_left: int | None) -> None:
        if tries_left is None:
            super().__init__(
                f"{_PIN_NAMES_JA[kind]}が正しくありません。カードが残り回数を返さなかったため、残り回数は分かりません。"
                "続けて間違えるとロックされるおそれがあります。暗証番号を確かめてから、もう一度お試しください。",
                f"The {_PIN_NAMES_EN[kind]} is not correct. The card did not report how many tries are left; "
                "more wrong PINs may lock it. Check the PIN before you try again.",
                pin=kind.value,
                tries_left=None,
            )
            return
        warn_ja = "あと1回間違えるとロックされます。" if tries_left == 1 else ""
        warn_en = " One more wrong PIN will lock it." if tries_left == 1 else ""
        super().__init__(
            f"{_PIN_NAMES_JA[kind]}が正しくありません。残り{tries_left}回です。{warn_ja}",
            f"The {_PIN_NAMES_EN[kind]} is not correct. {tries_left} tries left.{warn_en}",
            pin=kind.value,
            tries_left=tries_left,
        )


class PinTriesUnknownError(CardGatewayError):
    """The card did not report the tries left (no ``63 Cx``), so no PIN is sent: it could be the last try or blocked."""

    code = "pin.tries_unknown"

    def __init__(self, kind: PinKind, reader: str | None = None) -> None:
        super().__init__(
            f"カードが{_PIN_NAMES_JA[kind]}の残り回数を返さないため、暗証番号を送信しませんでした"
            "（残り回数が分からないまま送ると、ロックされるおそれがあります）。"
            "カードを置き直して、もう一度お試しください。続く場合は、お住まいの市区町村の窓口にご相談ください。",
            f"The card did not report how many tries are left for the {_PIN_NAMES_EN[kind]}, so the PIN was not "
            "sent (without the count a wrong PIN could lock it). Put the card back on the reader and try again; "
            "if this keeps happening, ask the office of the municipality where you live.",
            pin=kind.value,
            tries_left=None,
            **({"reader": reader} if reader else {}),
        )


class PinBlockedError(CardGatewayError):
    """The PIN is locked after too many wrong tries; only the municipal office can reset it."""

    code = "pin.blocked"

    def __init__(self, kind: PinKind) -> None:
        super().__init__(
            f"{_PIN_NAMES_JA[kind]}は、誤入力が続いたためロックされています。"
            "お住まいの市区町村の窓口で暗証番号の初期化（再設定）を行ってください。",
            f"The {_PIN_NAMES_EN[kind]} is locked after too many wrong tries. "
            "Have it reset at the office of the municipality where you live.",
            pin=kind.value,
            tries_left=0,
        )


class CardRemovedError(CardGatewayError):
    """The card left the reader (or was reset by another program) during the operation."""

    code = "card.removed"

    def __init__(self, reader: str | None = None) -> None:
        super().__init__(
            "処理中にカードがカードリーダーから離れました。カードをセットし直して、もう一度お試しください。"
            "暗証番号を送った後の場合は、先に残り回数を確認してください。",
            "The card was taken off the reader during the operation. Put it back and try again. "
            "If a PIN had been sent, check the tries left first.",
            **({"reader": reader} if reader else {}),
        )


class ReaderBusyError(CardGatewayError):
    """Another operation or another program is using the reader."""

    code = "reader.busy"

    def __init__(self, reader: str | None = None) -> None:
        super().__init__(
            "カードリーダーは別の処理（または別のソフトウェア）で使用中です。しばらく待ってから、もう一度お試しください。",
            "The card reader is in use by another operation or program. Wait a moment and try again.",
            **({"reader": reader} if reader else {}),
        )


class OperationTimeoutError(CardGatewayError):
    """The operation did not finish within the configured time."""

    code = "operation.timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"カードの処理が{seconds:g}秒以内に終わりませんでした。カードを置き直して、もう一度お試しください。"
            "暗証番号を送った後の場合は、先に残り回数を確認してください。",
            f"The card did not answer within {seconds:g} seconds. Put the card back on the reader and try again. "
            "If a PIN had been sent, check the tries left first.",
            timeout_s=seconds,
        )


class PcscUnavailableError(CardGatewayError):
    """The PC/SC service (pcscd / WinSCard) is not running or cannot be reached."""

    code = "pcsc.unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(
            "スマートカードのサービス（PC/SC）に接続できません。サービスが動いているか確認してください。",
            "The smart card service (PC/SC) cannot be reached. Check that it is running.",
            detail=detail,
        )


class CardCommunicationError(CardGatewayError):
    """The card or reader answered in a way the gateway did not expect."""

    code = "card.communication_error"

    def __init__(self, detail: str) -> None:
        super().__init__(
            "カードとの通信でエラーが発生しました。カードを置き直して、もう一度お試しください。",
            "Communication with the card failed. Put the card back on the reader and try again.",
            detail=detail,
        )


class UnsupportedKeyError(CardGatewayError):
    """The card's key is not RSA-2048, the only key the service verifies; nothing is signed."""

    code = "card.unsupported_key"

    def __init__(self, kind: PinKind, key: str, reader: str | None = None) -> None:
        usage_ja = "利用者証明用" if kind is PinKind.AUTH else "署名用"
        usage_en = "authentication" if kind is PinKind.AUTH else "signature"
        super().__init__(
            f"このカードの{usage_ja}電子証明書の鍵（{key}）には対応していません（対応しているのはRSA 2048ビットの鍵だけです）。"
            "署名は行っていません。このカードはこのシステムでは使えないため、お問い合わせ窓口にご相談ください。",
            f"The key of this card's {usage_en} certificate ({key}) is not supported: only RSA 2048-bit keys are. "
            "Nothing was signed. This card cannot be used with this service; please contact the help desk.",
            pin=kind.value,
            key=key,
            **({"reader": reader} if reader else {}),
        )


class InvalidChallengeError(CardGatewayError):
    """The data to sign is missing, not base64 or out of the allowed size."""

    code = "challenge.invalid"

    def __init__(self, rule_en: str) -> None:
        super().__init__(
            "署名するデータ（チャレンジ）が正しくありません。申請システムの画面からやり直してください。",
            f"The challenge to sign is not valid: {rule_en}. Start again from the application page.",
        )
