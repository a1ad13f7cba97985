"""The regional bureaus and district offices that receive applications: one list for every service.

The list is reference data (``shared/reference/bureaus.yaml``): code, names ja/en, address, phone and the prefectures
served. Applications refuses a draft for an unknown bureau, suggests one from the prefecture of the address and
names it in mails; identity's staff command refuses an officer of an unknown bureau. Services never import each
other, so the list lives here (ADR 0013).

``RAS_BUREAUS_FILE`` replaces the shipped file; ``RAS_EXTRA_BUREAUS_FILE`` adds bureaus and *code patterns* (desks
whose codes match a pattern, used by test and training stacks that need a fresh bureau per test).
"""

from __future__ import annotations

import importlib.resources
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

BUREAU_CODE_PATTERN = r"^[A-Z0-9]{2,6}$"
BUREAUS_FILE_ENV = "RAS_BUREAUS_FILE"
EXTRA_BUREAUS_FILE_ENV = "RAS_EXTRA_BUREAUS_FILE"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(_Frozen):
    """A text in Japanese and English."""

    ja: str = Field(min_length=1, max_length=300)
    en: str = Field(min_length=1, max_length=300)


class Prefecture(_Frozen):
    """A prefecture (JIS X 0401 code and names)."""

    code: str = Field(pattern=r"^(0[1-9]|[1-3][0-9]|4[0-7])$")
    ja: str
    en: str


class Bureau(_Frozen):
    """A bureau or district office that receives applications, and the prefectures it serves."""

    code: str = Field(pattern=BUREAU_CODE_PATTERN)
    kind: Literal["regional_bureau", "district_office", "test_desk"] = "regional_bureau"
    parent: str | None = Field(default=None, pattern=BUREAU_CODE_PATTERN)
    name: LocalizedText
    address: LocalizedText
    phone: str = Field(pattern=r"^[0-9][0-9-]{8,14}$")
    prefectures: tuple[str, ...] = ()
    verify: bool = Field(
        default=False, description="True until the address and phone are checked against ISA."
    )


class CodePattern(_Frozen):
    """Bureau codes matching ``pattern`` are desks of a test or training stack, all with these particulars."""

    pattern: str
    name: LocalizedText
    address: LocalizedText
    phone: str


class BureauFile(_Frozen):
    """The content of a bureau list file."""

    version: str | None = None
    prefectures: tuple[Prefecture, ...] = ()
    bureaus: tuple[Bureau, ...] = ()
    code_patterns: tuple[CodePattern, ...] = ()


class BureauDirectory(_Frozen):
    """Every bureau, by code and by prefecture served."""

    prefectures: tuple[Prefecture, ...]
    bureaus: tuple[Bureau, ...]
    code_patterns: tuple[CodePattern, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        codes = [b.code for b in self.bureaus]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate bureau codes {duplicates}")
        known = {p.code for p in self.prefectures}
        for bureau in self.bureaus:
            unknown = set(bureau.prefectures) - known
            if unknown:
                raise ValueError(f"bureau {bureau.code} serves unknown prefectures {sorted(unknown)}")
            if bureau.parent is not None and bureau.parent not in codes:
                raise ValueError(f"bureau {bureau.code} names an unknown parent {bureau.parent}")
        for pattern in self.code_patterns:
            re.compile(pattern.pattern)
        return self

    def get(self, code: str) -> Bureau | None:
        """Return the bureau with this code (a test desk when a code pattern matches), or None."""
        found = next((b for b in self.bureaus if b.code == code), None)
        if found is not None:
            return found
        for pattern in self.code_patterns:
            if re.fullmatch(pattern.pattern, code) and re.fullmatch(BUREAU_CODE_PATTERN, code):
                return Bureau(
                    code=code,
                    kind="test_desk",
                    name=pattern.name,
                    address=pattern.address,
                    phone=pattern.phone,
                )
        return None

    def prefecture(self, text: str) -> Prefecture | None:
        """Return the prefecture named by its JIS code ("13"), Japanese name (東京都, 東京) or English name."""
        value = text.strip()
        if value.isdigit() and len(value) == 1:
            value = "0" + value
        for p in self.prefectures:
            short = p.ja[:-1] if p.ja[-1] in "都府県" else p.ja
            if value in (p.code, p.ja, short) or value.casefold() == p.en.casefold():
                return p
        return None

    def serving(self, prefecture: Prefecture) -> tuple[Bureau, ...]:
        """Return the bureaus that serve a prefecture (the one with jurisdiction first)."""
        return tuple(b for b in self.bureaus if prefecture.code in b.prefectures)


def _read(path: Path) -> BureauFile:
    with open(path, encoding="utf-8") as fh:
        return BureauFile.model_validate(yaml.safe_load(fh))


def shipped_bureaus_file() -> Path:
    """Return the bureau list shipped with the shared package."""
    return Path(str(importlib.resources.files("shared") / "reference" / "bureaus.yaml"))


def load_bureaus(path: Path | None = None, *, extra: Path | None = None) -> BureauDirectory:
    """Load the bureau list (``path``, else ``RAS_BUREAUS_FILE``, else the shipped one) plus any extra file."""
    main = _read(path or Path(os.environ.get(BUREAUS_FILE_ENV) or shipped_bureaus_file()))
    extra_path = extra or (
        Path(os.environ[EXTRA_BUREAUS_FILE_ENV]) if os.environ.get(EXTRA_BUREAUS_FILE_ENV) else None
    )
    added = _read(extra_path) if extra_path else BureauFile()
    return BureauDirectory(
        prefectures=main.prefectures + added.prefectures,
        bureaus=main.bureaus + added.bureaus,
        code_patterns=main.code_patterns + added.code_patterns,
    )


@lru_cache(maxsize=1)
def default_bureaus() -> BureauDirectory:
    """Return the bureau list of this process's environment, loaded once."""
    return load_bureaus()
