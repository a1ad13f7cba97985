"""Form validation per field, with messages in Japanese and English that say what to enter.

A draft is validated at every save: the values are kept whatever they are, and the result lists what is wrong
(``issues``) apart from what is still empty (``missing``). Submission needs both lists empty. A field that does
not apply is never required: ``required_when`` ties it to a sibling's value, and a group's rows are optional.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from applications.domain.errors import FieldIssue, FormInputRefused
from applications.reference.models import FieldDef, FormDef, Option, ReferenceSnapshot

RESIDENCE_CARD_NUMBER = re.compile(r"^[A-Z]{2}\d{8}[A-Z]{2}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LATIN_CAPITALS = re.compile(r"^[A-Z][A-Z ,.'\-]*$")
_HALF_WIDTH_ALNUM = re.compile(r"^[A-Z0-9]+$")
_PHONE = re.compile(r"^[0-9]+(-[0-9]+)*$")
_DIGITS = re.compile(r"^[0-9]+$")
_FULL_WIDTH = re.compile(r"[\u3000\uff01-\uff5e]")
_HALF_WIDTH_KANA = re.compile(r"[\uff61-\uff9f]")
_LOWERCASE = re.compile(r"[a-z]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: The longest string a non-text field (date, choice, number, card number) may hold; text fields have max_length.
MAX_SCALAR_CHARS = 64
#: The largest whole number a form value may be (what JavaScript can hold exactly).
MAX_ABS_INTEGER = 2**53
#: How many input problems a refusal lists (the first one is named in the message).
MAX_LISTED_PROBLEMS = 20


@dataclass(frozen=True)
class FormValidation:
    """The result of validating one form: wrong values and still-missing required values."""

    form_code: str
    issues: tuple[FieldIssue, ...]
    missing: tuple[FieldIssue, ...]

    @property
    def complete(self) -> bool:
        """Tell whether the form can be submitted as it is."""
        return not self.issues and not self.missing

    @property
    def all_issues(self) -> tuple[FieldIssue, ...]:
        """Return the wrong values followed by the missing ones."""
        return self.issues + self.missing


def _empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return len(value) == 0
    return False


def _issue(path: str, code: str, ja: str, en: str) -> FieldIssue:
    return FieldIssue(path=path, code=code, message_ja=ja, message_en=en)


class _Validator:
    def __init__(self, snapshot: ReferenceSnapshot, today: date) -> None:
        self.snapshot = snapshot
        self.today = today
        self.issues: list[FieldIssue] = []
        self.missing: list[FieldIssue] = []

    # -- options ------------------------------------------------------------------------------------------
    def options(self, f: FieldDef) -> tuple[Option, ...]:
        if f.options is not None:
            return f.options
        if f.options_from == "statuses_in_scope":
            return tuple(Option(value=s.code, label=s.name) for s in self.snapshot.statuses if s.in_scope)
        collected: list[Option] = []
        for s in self.snapshot.statuses:
            if f.options_from == "specified_skill_fields":
                collected += [Option(value=x.code, label=x.name) for x in s.specified_skill_fields or ()]
            elif f.options_from == "designated_activity_notices":
                collected += [
                    Option(value=n.number, label=n.name) for n in s.designated_activity_notices or ()
                ]
        return tuple(collected)

    # -- fields -------------------------------------------------------------------------------------------
    def fields(self, defs: Sequence[FieldDef], values: Mapping[str, object], prefix: str) -> None:
        known = {d.name for d in defs}
        for name in values:
            if name not in known:
                self.issues.append(
                    _issue(
                        f"{prefix}{name}",
                        "field.unknown",
                        f"「{name}」はこの申請書の項目ではありません。入力を削除してください。",
                        f"{name!r} is not a field of this form. Remove it.",
                    )
                )
        for d in defs:
            path = f"{prefix}{d.name}"
            value = values.get(d.name)
            if _empty(value):
                self.require(d, defs, values, path)
            else:
                self.check(d, value, path)

    def require(self, d: FieldDef, defs: Sequence[FieldDef], values: Mapping[str, object], path: str) -> None:
        verb_ja, verb_en = ("選んで", "Choose") if d.type in {"enum", "boolean"} else ("入力して", "Enter")
        if d.required:
            self.missing.append(
                _issue(
                    path,
                    "field.required",
                    f"「{d.label.ja}」を{verb_ja}ください。",
                    f"{verb_en} the {d.label.en.lower()}.",
                )
            )
        elif d.required_when is not None and values.get(d.required_when.field) == d.required_when.equals:
            trigger = next(x for x in defs if x.name == d.required_when.field)
            shown = next((o.label for o in self.options(trigger) if o.value == d.required_when.equals), None)
            ja_value = shown.ja if shown else str(d.required_when.equals)
            en_value = shown.en if shown else str(d.required_when.equals)
            self.missing.append(
                _issue(
                    path,
                    "field.required",
                    f"「{trigger.label.ja}」で「{ja_value}」を選んだ場合は、「{d.label.ja}」を{verb_ja}ください。",
                    f"As you answered '{en_value}' to '{trigger.label.en}', {verb_en.lower()} the {d.label.en.lower()}.",
                )
            )

    def check(self, d: FieldDef, value: object, path: str) -> None:
        if d.type == "text":
            self.text(d, value, path)
        elif d.type == "date":
            self.date(d, value, path)
        elif d.type == "enum":
            self.enum(d, value, path)
        elif d.type == "boolean":
            if not isinstance(value, bool):
                self.issues.append(
                    _issue(
                        path,
                        "field.not_boolean",
                        f"「{d.label.ja}」は「はい」か「いいえ」を選んでください。",
                        f"Choose yes or no for the {d.label.en.lower()}.",
                    )
                )
        elif d.type == "integer":
            self.integer(d, value, path)
        elif d.type == "residence_card_number":
            self.card_number(d, value, path)
        else:
            self.group(d, value, path)

    def text(self, d: FieldDef, value: object, path: str) -> None:
        label_ja, label_en = d.label.ja, d.label.en
        if not isinstance(value, str):
            self.issues.append(
                _issue(
                    path,
                    "field.not_text",
                    f"「{label_ja}」は文字で入力してください。",
                    f"Enter the {label_en.lower()} as text.",
                )
            )
            return
        if d.max_length is not None and len(value) > d.max_length:
            self.issues.append(
                _issue(
                    path,
                    "field.too_long",
                    f"「{label_ja}」は{d.max_length}文字以内で入力してください（現在{len(value)}文字）。",
                    f"Enter at most {d.max_length} characters for the {label_en.lower()} (now {len(value)}).",
                )
            )
        if d.min_length is not None and len(value.strip()) < d.min_length:
            self.issues.append(
                _issue(
                    path,
                    "field.too_short",
                    f"「{label_ja}」は{d.min_length}文字以上で入力してください。",
                    f"Enter at least {d.min_length} characters for the {label_en.lower()}.",
                )
            )
        issue = _charset_issue(d, value, path)
        if issue is not None:
            self.issues.append(issue)

    def date(self, d: FieldDef, value: object, path: str) -> None:
        parsed = parse_date(value)
        if parsed is None:
            self.issues.append(
                _issue(
                    path,
                    "field.invalid_date",
                    f"「{d.label.ja}」は実在する日付を西暦の年-月-日で入力してください（例: 1990-04-01）。",
                    f"Enter the {d.label.en.lower()} as a real date, year-month-day (e.g. 1990-04-01).",
                )
            )
            return
        rule = d.date_rule
        if rule == "past" and parsed > self.today:
            self.issues.append(
                _issue(
                    path,
                    "field.date_in_future",
                    f"「{d.label.ja}」に未来の日付は入力できません。今日以前の日付を入力してください。",
                    f"The {d.label.en.lower()} cannot be in the future. Enter today or an earlier date.",
                )
            )
        elif rule == "future" and parsed <= self.today:
            self.issues.append(
                _issue(
                    path,
                    "field.date_not_future",
                    f"「{d.label.ja}」には明日以降の日付を入力してください。",
                    f"Enter a date after today for the {d.label.en.lower()}.",
                )
            )
        elif rule == "today_or_future" and parsed < self.today:
            self.issues.append(
                _issue(
                    path,
                    "field.date_in_past",
                    f"「{d.label.ja}」には今日以降の日付を入力してください。",
                    f"Enter today or a later date for the {d.label.en.lower()}.",
                )
            )

    def enum(self, d: FieldDef, value: object, path: str) -> None:
        options = self.options(d)
        if isinstance(value, str) and value in {o.value for o in options}:
            return
        if len(options) <= 8:
            ja = "、".join(o.label.ja for o in options)
            en = ", ".join(o.label.en for o in options)
            message_ja = f"「{d.label.ja}」は次から選んでください: {ja}。"
            message_en = f"Choose the {d.label.en.lower()} from: {en}."
        else:
            message_ja = f"「{d.label.ja}」は一覧から選んでください。"
            message_en = f"Choose the {d.label.en.lower()} from the list."
        self.issues.append(_issue(path, "field.not_an_option", message_ja, message_en))

    def integer(self, d: FieldDef, value: object, path: str) -> None:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _DIGITS.match(value.strip()):
            number = int(value.strip())
        if number is None:
            full = isinstance(value, str) and bool(_FULL_WIDTH.search(value))
            self.issues.append(
                _issue(
                    path,
                    "field.not_integer",
                    f"「{d.label.ja}」は半角数字で入力してください"
                    + ("（全角数字は使えません）。" if full else "。"),
                    f"Enter the {d.label.en.lower()} as a whole number in half-width digits (0-9)"
                    + (", not full-width digits." if full else "."),
                )
            )
            return
        low, high = d.minimum, d.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            range_ja = f"{low if low is not None else ''}〜{high if high is not None else ''}"
            range_en = f"{low if low is not None else '…'} to {high if high is not None else '…'}"
            self.issues.append(
                _issue(
                    path,
                    "field.out_of_range",
                    f"「{d.label.ja}」は{range_ja}の範囲で入力してください。",
                    f"Enter a number from {range_en} for the {d.label.en.lower()}.",
                )
            )

    def card_number(self, d: FieldDef, value: object, path: str) -> None:
        if isinstance(value, str) and RESIDENCE_CARD_NUMBER.match(value):
            return
        hint_ja, hint_en = "", ""
        if isinstance(value, str) and _FULL_WIDTH.search(value):
            hint_ja, hint_en = (
                "全角文字が含まれています。半角で入力してください。",
                "It contains full-width characters: use half-width ones. ",
            )
        elif isinstance(value, str) and _LOWERCASE.search(value):
            hint_ja, hint_en = "英字は大文字で入力してください。", "Use capital letters. "
        elif isinstance(value, str) and re.search(r"[\s\-]", value):
            hint_ja, hint_en = "スペースやハイフンは入れないでください。", "Leave out spaces and hyphens. "
        label_ja = d.label.ja
        self.issues.append(
            _issue(
                path,
                "field.residence_card_number",
                f"{hint_ja}{label_ja}は英字2文字・数字8桁・英字2文字で入力してください（例: AB12345678CD）。",
                f"{hint_en}Enter the residence card number as 2 letters, 8 digits and 2 letters (e.g. AB12345678CD).",
            )
        )

    def group(self, d: FieldDef, value: object, path: str) -> None:
        assert d.fields is not None and d.max_rows is not None  # guaranteed by the reference model
        if not isinstance(value, list | tuple) or not all(isinstance(row, Mapping) for row in value):
            self.issues.append(
                _issue(
                    path,
                    "field.not_rows",
                    f"「{d.label.ja}」は行ごとに入力してください。",
                    f"Enter the {d.label.en.lower()} row by row.",
                )
            )
            return
        if len(value) > d.max_rows:
            self.issues.append(
                _issue(
                    path,
                    "field.too_many_rows",
                    f"「{d.label.ja}」は{d.max_rows}行まで入力できます（現在{len(value)}行）。それ以上は別紙として添付資料に含めてください。",
                    f"Enter at most {d.max_rows} rows of {d.label.en.lower()} (now {len(value)}). Put the others in the attached PDF.",
                )
            )
        for index, row in enumerate(value):
            if all(_empty(v) for v in row.values()):
                continue  # an empty row is no row
            self.fields(d.fields, {str(k): v for k, v in row.items()}, f"{path}[{index}].")


def _charset_issue(d: FieldDef, value: str, path: str) -> FieldIssue | None:
    label_ja, label_en = d.label.ja, d.label.en.lower()
    rule = d.charset
    if rule == "any":
        if _HALF_WIDTH_KANA.search(value):
            return _issue(
                path,
                "field.half_width_kana",
                f"「{label_ja}」に半角カタカナが含まれています。全角カタカナで入力してください。",
                f"The {label_en} contains half-width katakana: use full-width katakana.",
            )
        if _CONTROL.search(value):
            return _issue(
                path,
                "field.control_characters",
                f"「{label_ja}」に使えない制御文字が含まれています。削除してください。",
                f"The {label_en} contains control characters: remove them.",
            )
        return None
    patterns = {
        "latin_capitals": _LATIN_CAPITALS,
        "half_width_alphanumeric": _HALF_WIDTH_ALNUM,
        "phone": _PHONE,
        "digits": _DIGITS,
    }
    if patterns[rule].match(value):
        return None
    explain_ja, explain_en, example = {
        "latin_capitals": (
            "パスポートと同じつづりで、半角の英大文字（A〜Z）で入力してください。スペース、ハイフン（-）、アポストロフィ（'）、カンマ、ピリオドも使えます。漢字・かな・数字は使えません",
            "as spelt in your passport, in half-width capital letters (A-Z); spaces, hyphens, apostrophes, commas and full stops are allowed, but not kanji, kana or digits",
            "TANAKA",
        ),
        "half_width_alphanumeric": (
            "半角の英大文字と数字（A〜Z、0〜9）で、スペースやハイフンを入れずに入力してください",
            "in half-width capital letters and digits (A-Z, 0-9) without spaces or hyphens",
            "TK1234567",
        ),
        "phone": (
            "半角数字で入力してください。区切りにはハイフン（-）が使えます",
            "in half-width digits, optionally separated by hyphens",
            "03-1234-5678",
        ),
        "digits": ("半角数字（0〜9）だけで入力してください", "in half-width digits (0-9) only", "12345"),
    }[rule]
    if _FULL_WIDTH.search(value):
        lead_ja = f"「{label_ja}」に全角文字（全角の英数字・記号・スペース）が含まれています。"
        lead_en = (
            f"The {label_en} contains full-width characters (full-width letters, digits, symbols or spaces). "
        )
        code = "field.full_width"
    elif _LOWERCASE.search(value) and rule in {"latin_capitals", "half_width_alphanumeric"}:
        lead_ja = f"「{label_ja}」に英小文字が含まれています。"
        lead_en = f"The {label_en} contains lower-case letters. "
        code = "field.lowercase"
    else:
        lead_ja = f"「{label_ja}」に使えない文字が含まれています。"
        lead_en = f"The {label_en} contains characters that cannot be used. "
        code = "field.characters"
    return _issue(
        path,
        code,
        f"{lead_ja}{explain_ja}（例: {example}）。",
        f"{lead_en}Enter it {explain_en} (e.g. {example}).",
    )


def parse_date(value: object) -> date | None:
    """Return a date from a ``date`` or a ``YYYY-MM-DD`` string, or None if it is not a real date."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def validate_form(
    form: FormDef, values: Mapping[str, object], *, snapshot: ReferenceSnapshot, today: date, prefix: str = ""
) -> FormValidation:
    """Validate a (partial or complete) form; never raises on content: wrong and missing values are listed."""
    validator = _Validator(snapshot, today)
    validator.fields(form.fields, values, prefix)
    return FormValidation(
        form_code=form.code, issues=tuple(validator.issues), missing=tuple(validator.missing)
    )


class _InputBounds:
    """Hard bounds of a save, from the form definition: what may be stored at all (content is checked later)."""

    def __init__(self) -> None:
        self.problems: list[FieldIssue] = []

    def add(self, path: str, code: str, ja: str, en: str) -> None:
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(_issue(path, code, ja, en))

    def fields(
        self, defs: Sequence[FieldDef], values: Mapping[str, object], prefix: str, where: tuple[str, str]
    ) -> None:
        by_name = {d.name: d for d in defs}
        for name, value in values.items():
            path = f"{prefix}{name}"
            d = by_name.get(name)
            if d is None:
                shown = name if len(name) <= MAX_SCALAR_CHARS else name[:MAX_SCALAR_CHARS] + "…"
                self.add(
                    f"{prefix}{shown}",
                    "form.unknown_field",
                    f"「{shown}」は{where[0]}の項目ではありません。この項目を送らないでください。",
                    f"{shown!r} is not a field of {where[1]}. Leave it out.",
                )
            elif value is not None:
                self.value(d, value, path)

    def value(self, d: FieldDef, value: object, path: str) -> None:
        label_ja, label_en = d.label.ja, d.label.en.lower()
        if d.type == "group":
            assert d.fields is not None and d.max_rows is not None  # guaranteed by the reference model
            if not isinstance(value, list) or not all(isinstance(row, Mapping) for row in value):
                self.add(
                    path,
                    "form.value_type",
                    f"「{label_ja}」は行（項目と値の組）の一覧で送ってください。",
                    f"Send the {label_en} as a list of rows (objects of fields and values).",
                )
                return
            if len(value) > d.max_rows:
                self.add(
                    path,
                    "form.too_many_rows",
                    f"「{label_ja}」は{d.max_rows}行まで入力できます（送信は{len(value)}行）。それ以上は別紙として添付資料に含めてください。",
                    f"Enter at most {d.max_rows} rows of {label_en} (you sent {len(value)}). Put the others in the attached PDF.",
                )
                return
            for index, row in enumerate(value):
                self.fields(
                    d.fields,
                    {str(k): v for k, v in row.items()},
                    f"{path}[{index}].",
                    (f"「{label_ja}」の行", f"a row of the {label_en}"),
                )
            return
        if isinstance(value, bool):
            return
        if isinstance(value, int):
            if abs(value) > MAX_ABS_INTEGER:
                self.add(
                    path,
                    "form.value_too_long",
                    f"「{label_ja}」の数値が大きすぎます。",
                    f"The number for the {label_en} is too large.",
                )
            return
        if not isinstance(value, str):
            self.add(
                path,
                "form.value_type",
                f"「{label_ja}」には文字、数値、または「はい／いいえ」を一つだけ送ってください。",
                f"Send one text, number or yes/no value for the {label_en}.",
            )
            return
        limit = d.max_length if d.type == "text" and d.max_length is not None else MAX_SCALAR_CHARS
        if len(value) > limit:
            self.add(
                path,
                "form.value_too_long",
                f"「{label_ja}」は{limit}文字以内で入力してください（送信は{len(value)}文字）。",
                f"Enter at most {limit} characters for the {label_en} (you sent {len(value)}).",
            )


def check_input(form: FormDef, values: Mapping[str, object], *, step: str | None = None) -> None:
    """Refuse a save the form definition does not allow: an unknown step or field, a value too long, too many rows.

    These are hard bounds (nothing is saved, :class:`FormInputRefused`); whether the values are right is reported
    by :func:`validate_form` after saving.
    """
    bounds = _InputBounds()
    name_ja, name_en = form.name.ja, form.name.en
    if step is None:
        bounds.fields(form.fields, values, "", (f"「{name_ja}」", f"the form {name_en!r}"))
    else:
        steps = sorted({f.step for f in form.fields if f.step is not None})
        if step not in steps:
            shown = step[:MAX_SCALAR_CHARS]
            bounds.add(
                f"steps/{shown}",
                "form.unknown_step",
                f"「{name_ja}」に入力ステップ「{shown}」はありません（ステップ: {'、'.join(steps)}）。",
                f"The form {name_en!r} has no step {shown!r} (its steps: {', '.join(steps)}).",
            )
        else:
            in_step = tuple(f for f in form.fields if f.step == step)
            bounds.fields(
                in_step,
                values,
                "",
                (f"「{name_ja}」のステップ「{step}」", f"step {step!r} of the form {name_en!r}"),
            )
    if bounds.problems:
        raise FormInputRefused(bounds.problems)
