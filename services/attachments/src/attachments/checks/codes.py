"""Finding codes of the attachment checks, with their severity and bilingual messages.

The codes are a public API (HTTP responses, events, e-mails and the UI key on them): never rename or reuse one,
add new ones instead. Every message says what is wrong and how to fix it; ``{name}`` placeholders are filled from
the finding's ``params``, which are listed in ``CodeSpec.params``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How a finding affects the verdict."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Code(StrEnum):
    """Stable finding codes."""

    # PDF: size and type
    PDF_TOO_LARGE = "pdf.too_large"
    PDF_NOT_PDF = "pdf.not_pdf"
    PDF_TRUNCATED = "pdf.truncated"
    PDF_NO_EOF = "pdf.no_eof"
    # PDF: security settings
    PDF_ENCRYPTED_USER_PASSWORD = "pdf.encrypted.user_password"
    PDF_ENCRYPTED_OWNER_PASSWORD = "pdf.encrypted.owner_password"
    PDF_RESTRICTED_PRINT = "pdf.restricted.print"
    PDF_RESTRICTED_COPY = "pdf.restricted.copy"
    PDF_RESTRICTED_MODIFY = "pdf.restricted.modify"
    PDF_DRM_NETWORK_AUTH = "pdf.drm.network_auth"
    PDF_DRM_EMBEDDED_PROTECTED = "pdf.drm.embedded_protected"
    PDF_ENCRYPTED_UNREADABLE = "pdf.encrypted.unreadable"
    # PDF: structure (ISO 32000-1)
    PDF_DAMAGED_XREF_REPAIRED = "pdf.damaged.xref_repaired"
    PDF_DAMAGED_HEADER_OFFSET = "pdf.damaged.header_offset"
    PDF_DAMAGED_HEADER_VERSION = "pdf.damaged.header_version"
    PDF_DAMAGED_SYNTAX = "pdf.damaged.syntax"
    PDF_DAMAGED_STREAM = "pdf.damaged.stream"
    PDF_DAMAGED_PAGE_COUNT = "pdf.damaged.page_count"
    PDF_DAMAGED_PAGE_TREE = "pdf.damaged.page_tree"
    PDF_DAMAGED_MISSING_OBJECT = "pdf.damaged.missing_object"
    PDF_DAMAGED_UNREADABLE = "pdf.damaged.unreadable"
    PDF_NO_PAGES = "pdf.no_pages"
    PDF_TOO_MANY_PAGES = "pdf.too_many_pages"
    PDF_TOO_COMPLEX = "pdf.too_complex"
    PDF_VERSION_NOT_ISO32000_1 = "pdf.version.not_iso32000_1"
    PDF_DATA_AFTER_EOF = "pdf.damaged.data_after_eof"
    PDF_DAMAGED_PAGE_SIZE = "pdf.damaged.page_size"
    PDF_DAMAGED_PAGE_RESOURCES = "pdf.damaged.page_resources"
    # PDF: remarks (accepted; kept for the officer and the record)
    PDF_PADDING_AFTER_EOF = "pdf.padding_after_eof"
    PDF_REPAIRED_MINOR = "pdf.repaired_minor"
    PDF_UNRESOLVED_REFERENCE = "pdf.unresolved_reference"
    PDF_INTERACTIVE_IRREGULAR = "pdf.interactive_irregular"
    PDF_ACTIVE_CONTENT = "pdf.active_content"
    # PDF: legibility
    PDF_LOW_RESOLUTION = "pdf.low_resolution"
    PDF_RESOLUTION_INCOMPLETE = "pdf.resolution_incomplete"
    # Face photo
    PHOTO_TOO_LARGE = "photo.too_large"
    PHOTO_NOT_JPEG = "photo.not_jpeg"
    PHOTO_TRUNCATED = "photo.truncated"
    PHOTO_DAMAGED = "photo.damaged"
    PHOTO_TRAILING_DATA = "photo.trailing_data"
    PHOTO_TOO_MANY_PIXELS = "photo.too_many_pixels"
    PHOTO_TOO_FEW_PIXELS = "photo.too_few_pixels"
    PHOTO_WRONG_PROPORTIONS = "photo.wrong_proportions"
    PHOTO_NO_PHOTO_PLACEHOLDER = "photo.no_photo_placeholder"
    # The checker itself
    CHECK_TIMEOUT = "check.timeout"
    CHECK_MEMORY = "check.memory"
    CHECK_CRASHED = "check.crashed"
    CHECK_UNAVAILABLE = "check.unavailable"


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """Default severity, messages and message parameters of one code."""

    severity: Severity
    message_ja: str
    message_en: str
    params: tuple[str, ...] = ()
    # True when strict/lenient policy decides between ERROR and WARNING (repairable damage).
    policy_governed: bool = False


_RESAVE_JA = (
    "元の文書から PDF を作成し直すか、PDF 編集ソフトで「名前を付けて保存」し直してから添付してください。"
)
_RESAVE_EN = "Create the PDF again from the original document, or open it in a PDF editor and use Save As, then attach it again."

CODES: dict[Code, CodeSpec] = {
    Code.PDF_TOO_LARGE: CodeSpec(
        Severity.ERROR,
        "PDF のサイズ（{size_bytes} バイト、{size_mb} MB）が上限の {max_bytes} バイト（{max_mb} MB）を超えています。"
        "解像度を下げて保存し直すか、上限内に収まる分を添付し、参考様式9（資料添付に係る申告書）を添えて残りを後から添付してください。",
        "The PDF is {size_bytes} bytes ({size_mb} MB), over the limit of {max_bytes} bytes ({max_mb} MB). Save it "
        "again at a lower resolution, or attach what fits with the declaration form 9 (参考様式9) and attach the rest "
        "later.",
        ("size_mb", "max_mb", "size_bytes", "max_bytes"),
    ),
    Code.PDF_NOT_PDF: CodeSpec(
        Severity.ERROR,
        "このファイルは PDF ではありません（{detected}）。拡張子を変えるのではなく、PDF として保存・出力したファイルを添付してください。",
        "This file is not a PDF ({detected}). Do not just rename a file: export or save the document as PDF and "
        "attach that file.",
        ("detected",),
    ),
    Code.PDF_TRUNCATED: CodeSpec(
        Severity.ERROR,
        "PDF が途中で切れています（ダウンロードやコピーが完了していない可能性があります）。元のファイルを確認し、もう一度添付してください。",
        "The PDF is cut off (the download or copy may not have finished). Check the original file and attach it "
        "again.",
    ),
    Code.PDF_NO_EOF: CodeSpec(
        Severity.ERROR,
        "PDF の終わりを示す %%EOF がありません（ファイルが途中で切れている可能性があります）。" + _RESAVE_JA,
        "The PDF lacks its %%EOF end marker (the file may be cut off). " + _RESAVE_EN,
        policy_governed=True,
    ),
    Code.PDF_ENCRYPTED_USER_PASSWORD: CodeSpec(
        Severity.ERROR,
        "PDF を開くのにパスワードが必要です。パスワードを解除してから保存し直し、添付してください。",
        "The PDF needs a password to open. Remove the password, save the PDF again and attach it.",
    ),
    Code.PDF_ENCRYPTED_OWNER_PASSWORD: CodeSpec(
        Severity.ERROR,
        "PDF にセキュリティ設定（権限パスワード）があります（制限: {restrictions}）。セキュリティ設定を「なし」にして保存し直してください。",
        "The PDF has security settings (a permissions password; restricted: {restrictions}). Set security to "
        "'No Security', save the PDF again and attach it.",
        ("restrictions",),
    ),
    Code.PDF_RESTRICTED_PRINT: CodeSpec(
        Severity.ERROR,
        "PDF の印刷が禁止されています。セキュリティ設定を解除し、印刷を許可して保存し直してください。",
        "Printing the PDF is prohibited. Remove the security settings so that printing is allowed and save the PDF "
        "again.",
    ),
    Code.PDF_RESTRICTED_COPY: CodeSpec(
        Severity.ERROR,
        "PDF の内容のコピーが禁止されています。セキュリティ設定を解除し、コピーを許可して保存し直してください。",
        "Copying the PDF's content is prohibited. Remove the security settings so that copying is allowed and save "
        "the PDF again.",
    ),
    Code.PDF_RESTRICTED_MODIFY: CodeSpec(
        Severity.ERROR,
        "PDF の変更が禁止されています。セキュリティ設定を解除して保存し直してください。",
        "Changing the PDF is prohibited. Remove the security settings and save the PDF again.",
    ),
    Code.PDF_DRM_NETWORK_AUTH: CodeSpec(
        Severity.ERROR,
        "PDF を開くのにネットワーク認証（権利管理: {handler}）が必要です。保護を解除した PDF を作成し直して添付してください。",
        "The PDF needs network authentication to open (rights management: {handler}). Create an unprotected PDF "
        "and attach it.",
        ("handler",),
    ),
    Code.PDF_DRM_EMBEDDED_PROTECTED: CodeSpec(
        Severity.ERROR,
        "PDF の中身が保護された文書（{name}）として埋め込まれており、開くのに認証が必要です。保護（秘密度ラベルなど）を解除した PDF を作成し直してください。",
        "The PDF only wraps a protected document ({name}) that needs authentication to open. Remove the protection "
        "(e.g. the sensitivity label) and create the PDF again.",
        ("name",),
    ),
    Code.PDF_DAMAGED_XREF_REPAIRED: CodeSpec(
        Severity.ERROR,
        "PDF の内部の索引（相互参照表）が壊れています（{detail}）。" + _RESAVE_JA,
        "The PDF's internal index (cross-reference table) is damaged ({detail}). " + _RESAVE_EN,
        ("detail",),
        policy_governed=True,
    ),
    Code.PDF_DAMAGED_HEADER_OFFSET: CodeSpec(
        Severity.ERROR,
        "PDF の先頭（%PDF-）の前に余分なデータ（{offset} バイト）があります。" + _RESAVE_JA,
        "There are {offset} extra bytes before the PDF header (%PDF-). " + _RESAVE_EN,
        ("offset",),
        policy_governed=True,
    ),
    Code.PDF_DAMAGED_HEADER_VERSION: CodeSpec(
        Severity.ERROR,
        "PDF のヘッダーのバージョン表記（{version}）が正しくありません。" + _RESAVE_JA,
        "The PDF header has an invalid version ({version}). " + _RESAVE_EN,
        ("version",),
        policy_governed=True,
    ),
    Code.PDF_DAMAGED_SYNTAX: CodeSpec(
        Severity.ERROR,
        "PDF の構造に誤りがあります（{detail}）。" + _RESAVE_JA,
        "The PDF's structure has errors ({detail}). " + _RESAVE_EN,
        ("detail",),
        policy_governed=True,
    ),
    Code.PDF_DAMAGED_STREAM: CodeSpec(
        Severity.ERROR,
        "PDF の中のデータ（画像やページの内容）が壊れていて読めません（{detail}）。" + _RESAVE_JA,
        "Data inside the PDF (an image or page content) is corrupt and cannot be read ({detail}). "
        + _RESAVE_EN,
        ("detail",),
    ),
    Code.PDF_DAMAGED_PAGE_COUNT: CodeSpec(
        Severity.ERROR,
        "PDF に記録されたページ数（{declared}）と実際のページ数（{actual}）が一致しません。" + _RESAVE_JA,
        "The page count recorded in the PDF ({declared}) differs from the actual number of pages ({actual}). "
        + _RESAVE_EN,
        ("declared", "actual"),
        policy_governed=True,
    ),
    Code.PDF_DAMAGED_PAGE_TREE: CodeSpec(
        Severity.ERROR,
        "PDF のページ構成（ページツリー）が壊れています（{detail}）。" + _RESAVE_JA,
        "The PDF's page structure (page tree) is broken ({detail}). " + _RESAVE_EN,
        ("detail",),
    ),
    Code.PDF_DAMAGED_MISSING_OBJECT: CodeSpec(
        Severity.ERROR,
        "PDF に必要な内部データ（ページまたはページの内容）が {count} 箇所で欠けています（例: {example}）。内容の一部が失われています。"
        + _RESAVE_JA,
        "The PDF lacks {count} internal objects it needs (a page or a page's content, e.g. {example}); part of the "
        "content is lost. " + _RESAVE_EN,
        ("count", "example"),
    ),
    Code.PDF_DAMAGED_UNREADABLE: CodeSpec(
        Severity.ERROR,
        "PDF が壊れていて開けません（{detail}）。" + _RESAVE_JA,
        "The PDF is damaged and cannot be opened ({detail}). " + _RESAVE_EN,
        ("detail",),
    ),
    Code.PDF_NO_PAGES: CodeSpec(
        Severity.ERROR,
        "PDF にページがありません。書類を含む PDF を作成し直して添付してください。",
        "The PDF has no pages. Create a PDF that contains the documents and attach it.",
    ),
    Code.PDF_TOO_MANY_PAGES: CodeSpec(
        Severity.ERROR,
        "PDF のページ数（{pages}）が上限の {max_pages} を超えています。必要な書類だけにするか、分けて添付してください。",
        "The PDF has {pages} pages, over the limit of {max_pages}. Keep only the required documents, or attach "
        "them in several rounds.",
        ("pages", "max_pages"),
    ),
    Code.PDF_TOO_COMPLEX: CodeSpec(
        Severity.ERROR,
        "PDF の中に、展開すると極端に大きくなるデータ（{detail}）があり、確認できません。通常の解像度（200〜300 dpi）でスキャン・保存し直してください。",
        "The PDF contains data that expands to an extreme size ({detail}) and cannot be checked. Scan or save it "
        "again at a normal resolution (200-300 dpi).",
        ("detail",),
    ),
    Code.PDF_ENCRYPTED_UNREADABLE: CodeSpec(
        Severity.ERROR,
        "PDF にセキュリティ設定（暗号化の指定: {detail}）があり、内容を確認できません。セキュリティ設定を「なし」にして保存し直してください。",
        "The PDF has security settings (an encryption entry: {detail}) that cannot be read. Set security to "
        "'No Security', save the PDF again and attach it.",
        ("detail",),
    ),
    Code.PDF_VERSION_NOT_ISO32000_1: CodeSpec(
        Severity.ERROR,
        "PDF のバージョン（{version}）が ISO 32000-1（PDF 1.0〜1.7）ではありません（PDF 2.0 は ISO 32000-2 です）。"
        "PDF 作成ソフトの保存・書き出しの設定で互換性を「PDF 1.7（Acrobat 8 以降）」にするか、PDF/A-2b として保存し直してから添付してください。",
        "The PDF is version {version}, not ISO 32000-1 (PDF 1.0 to 1.7; PDF 2.0 is ISO 32000-2). In your PDF "
        "software's save or export settings choose compatibility 'PDF 1.7 (Acrobat 8 and later)', or save it as "
        "PDF/A-2b, then attach it again.",
        ("version",),
    ),
    Code.PDF_DATA_AFTER_EOF: CodeSpec(
        Severity.ERROR,
        "PDF の終わり（%%EOF）の後ろに PDF ではないデータ（{bytes} バイト）が付いています。" + _RESAVE_JA,
        "There are {bytes} bytes of other data after the end of the PDF (%%EOF). " + _RESAVE_EN,
        ("bytes",),
        policy_governed=True,
    ),
    Code.PDF_DAMAGED_PAGE_SIZE: CodeSpec(
        Severity.ERROR,
        "PDF の {page} ページに用紙サイズ（MediaBox）の指定がなく、表示・印刷の大きさが決まりません。"
        + _RESAVE_JA,
        "Page {page} of the PDF has no page size (MediaBox), so its size on screen and paper is undefined. "
        + _RESAVE_EN,
        ("page",),
        policy_governed=True,
    ),
    Code.PDF_DAMAGED_PAGE_RESOURCES: CodeSpec(
        Severity.ERROR,
        "PDF の {page} ページは文字や画像を描きますが、その元データ（リソース）の指定がないため表示できません。"
        + _RESAVE_JA,
        "Page {page} of the PDF draws text or images but lacks the resources they come from, so they cannot be "
        "shown. " + _RESAVE_EN,
        ("page",),
        policy_governed=True,
    ),
    Code.PDF_PADDING_AFTER_EOF: CodeSpec(
        Severity.INFO,
        "PDF の終わり（%%EOF）の後ろに空白のデータ（{bytes} バイト）がありましたが、内容に影響しないため受け付けました。",
        "There were {bytes} blank bytes after the end of the PDF (%%EOF); they do not affect the content, and the "
        "file was accepted.",
        ("bytes",),
    ),
    Code.PDF_REPAIRED_MINOR: CodeSpec(
        Severity.INFO,
        "PDF に、どの閲覧ソフトも同じように補う軽微な不備がありました（{detail}）。内容に影響しないため受け付けました。",
        "The PDF had a minor omission that every reader fills in the same way ({detail}); it does not affect the "
        "content, and the file was accepted.",
        ("detail",),
    ),
    Code.PDF_UNRESOLVED_REFERENCE: CodeSpec(
        Severity.INFO,
        "PDF が存在しない内部データを {count} 箇所で参照しています（例: {example}）。ISO 32000-1 では空（null）として扱われ、"
        "必要な内容は欠けていないため受け付けました。",
        "The PDF refers to {count} internal objects that do not exist (e.g. {example}). ISO 32000-1 reads them as "
        "null; nothing the document needs is missing, and the file was accepted.",
        ("count", "example"),
    ),
    Code.PDF_INTERACTIVE_IRREGULAR: CodeSpec(
        Severity.INFO,
        "PDF の入力フォーム・しおり・ページ番号の設定に不備があります（{detail}）。閲覧ソフトは問題なく開けるため受け付けました。",
        "The PDF's form fields, bookmarks or page labels have irregularities ({detail}); readers open it without "
        "trouble, and the file was accepted.",
        ("detail",),
    ),
    Code.PDF_ACTIVE_CONTENT: CodeSpec(
        Severity.INFO,
        "PDF に自動で動作する内容（{kinds}）が含まれています。受け付けましたが、このシステムでは実行されず、審査の担当者には表示されます。"
        "書類の表示に必要な場合は、PDF/A として保存し直してください。",
        "The PDF contains active content ({kinds}). It was accepted, but this content is never run here and is "
        "shown to the reviewing officer. If the document needs it to display correctly, save it as PDF/A.",
        ("kinds",),
    ),
    Code.PDF_LOW_RESOLUTION: CodeSpec(
        Severity.WARNING,
        "{page} ページの画像の解像度が {dpi} dpi で、推奨の {min_dpi} dpi 未満です。読み取れない場合は {min_dpi} dpi 以上でスキャンし直してください。",
        "An image on page {page} has {dpi} dpi, below the recommended {min_dpi} dpi. If it is hard to read, scan "
        "it again at {min_dpi} dpi or more.",
        ("page", "dpi", "min_dpi"),
    ),
    Code.PDF_RESOLUTION_INCOMPLETE: CodeSpec(
        Severity.INFO,
        "PDF が複雑なため、画像の解像度を一部しか確認できませんでした（{detail}）。画像が読み取れることを確認してください。",
        "The PDF is too complex to measure the resolution of every image ({detail}). Make sure the images are "
        "legible.",
        ("detail",),
    ),
    Code.PHOTO_TOO_LARGE: CodeSpec(
        Severity.ERROR,
        "写真のファイルサイズ（{size_mb} MB）が上限の {max_mb} MB を超えています。画質を下げて JPEG で保存し直してください。",
        "The photo is {size_mb} MB, over the {max_mb} MB limit. Save it again as JPEG at a lower quality.",
        ("size_mb", "max_mb"),
    ),
    Code.PHOTO_NOT_JPEG: CodeSpec(
        Severity.ERROR,
        "写真が JPEG 形式ではありません（{detected}）。拡張子を変えるのではなく、画像ソフトで JPEG 形式に変換して保存してください。",
        "The photo is not a JPEG ({detected}). Do not just rename the file: convert it to JPEG in an image editor "
        "and save it.",
        ("detected",),
    ),
    Code.PHOTO_TRUNCATED: CodeSpec(
        Severity.ERROR,
        "写真のファイルが途中で切れています。元の写真をもう一度 JPEG で保存し、添付してください。",
        "The photo file is cut off. Save the original photo as JPEG again and attach it.",
    ),
    Code.PHOTO_DAMAGED: CodeSpec(
        Severity.ERROR,
        "写真のファイルが壊れていて読めません（{detail}）。元の写真をもう一度 JPEG で保存し、添付してください。",
        "The photo file is corrupt and cannot be read ({detail}). Save the original photo as JPEG again and attach "
        "it.",
        ("detail",),
    ),
    Code.PHOTO_TRAILING_DATA: CodeSpec(
        Severity.ERROR,
        "JPEG の画像データの後ろに余分なデータ（{bytes} バイト）が付いています。画像ソフトで JPEG として保存し直してください。",
        "There are {bytes} extra bytes after the end of the JPEG image. Open the photo in an image editor and save "
        "it again as JPEG.",
        ("bytes",),
    ),
    Code.PHOTO_TOO_MANY_PIXELS: CodeSpec(
        Severity.ERROR,
        "写真の画素数（{width}×{height}）が上限（{max_width}×{max_height}、{max_megapixels} メガピクセル）を超えています。縮小して保存し直してください。",
        "The photo is {width}×{height} pixels, over the limit ({max_width}×{max_height}, {max_megapixels} "
        "megapixels). Resize it and save it again.",
        ("width", "height", "max_width", "max_height", "max_megapixels"),
    ),
    Code.PHOTO_TOO_FEW_PIXELS: CodeSpec(
        Severity.ERROR,
        "写真の画素数（{width}×{height}）が少なすぎます。{min_width}×{min_height} 以上の写真を添付してください。",
        "The photo is only {width}×{height} pixels. Attach a photo of at least {min_width}×{min_height} pixels.",
        ("width", "height", "min_width", "min_height"),
    ),
    Code.PHOTO_WRONG_PROPORTIONS: CodeSpec(
        Severity.ERROR,
        "写真の縦横比（{width}×{height}）が、縦 4：横 3 の縦長になっていません。縦 4 cm × 横 3 cm の比率にトリミングしてください。",
        "The photo's shape ({width}×{height}) is not portrait 3:4 (width:height). Crop it to the proportions of "
        "3 cm wide by 4 cm high.",
        ("width", "height"),
    ),
    Code.PHOTO_NO_PHOTO_PLACEHOLDER: CodeSpec(
        Severity.INFO,
        "「写真不要」の画像として受け付けました。写真が必要な申請ではないことを確認してください。",
        "Accepted as the 'no photo needed' image. Make sure your application does not require a photo.",
    ),
    Code.CHECK_TIMEOUT: CodeSpec(
        Severity.ERROR,
        "ファイルの確認に時間がかかりすぎたため中止しました（上限 {seconds} 秒）。ページ数や画像の解像度を減らして保存し直してください。",
        "Checking the file took too long and was stopped (limit {seconds} s). Reduce the number of pages or the "
        "image resolution and save it again.",
        ("seconds",),
    ),
    Code.CHECK_MEMORY: CodeSpec(
        Severity.ERROR,
        "ファイルの確認に必要なメモリが上限（{limit_mb} MB）を超えたため中止しました。画像の解像度を下げて保存し直してください。",
        "Checking the file needed more memory than allowed ({limit_mb} MB) and was stopped. Save it again with "
        "lower-resolution images.",
        ("limit_mb",),
    ),
    Code.CHECK_CRASHED: CodeSpec(
        Severity.ERROR,
        "ファイルを確認できませんでした（{detail}）。ファイルが壊れている可能性があります。" + _RESAVE_JA,
        "The file could not be checked ({detail}); it may be damaged. " + _RESAVE_EN,
        ("detail",),
    ),
    Code.CHECK_UNAVAILABLE: CodeSpec(
        Severity.ERROR,
        "システムの都合でファイルを確認できませんでした（{detail}）。しばらくしてからもう一度お試しください。",
        "The file could not be checked because of a problem on our side ({detail}). Please try again later.",
        ("detail",),
    ),
}
