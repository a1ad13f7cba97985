"""Load the versioned reference data files, validate every version at start, and pick the one in force."""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from applications.domain.errors import ReferenceDataInvalid, ReferenceDataNotInForce
from applications.reference.models import SECTIONS, ReferenceSnapshot, VersionFile, valid_file_name


def default_data_directory() -> Path:
    """Return the directory of the reference data files shipped with the service."""
    return Path(str(importlib.resources.files("applications.reference") / "data"))


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  at {where}: {item['msg']}")
    return "\n".join(lines)


def _read(path: Path) -> VersionFile:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReferenceDataInvalid(source=path.name, detail=f"cannot be read as YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ReferenceDataInvalid(source=path.name, detail="the top level must be a mapping")
    # Top-level keys starting with "_" only hold YAML anchors shared inside the file.
    raw = {k: v for k, v in raw.items() if not (isinstance(k, str) and k.startswith("_"))}
    try:
        version = VersionFile.model_validate(raw)
    except ValidationError as exc:
        raise ReferenceDataInvalid(source=path.name, detail="\n" + _describe(exc)) from exc
    prefix = path.name[:10]
    if prefix != version.effective_from.isoformat():
        raise ReferenceDataInvalid(
            source=path.name,
            detail=f"the file name starts with {prefix} but effective_from is {version.effective_from}",
        )
    if not version.sections():
        raise ReferenceDataInvalid(source=path.name, detail="the file defines no section")
    return version


@dataclass(frozen=True)
class _Loaded:
    name: str
    version: VersionFile


class ReferenceData:
    """Every version of the reference data; ``as_of(day)`` gives the snapshot in force on that day."""

    def __init__(self, files: Iterable[tuple[str, VersionFile]]) -> None:
        """Build and validate the snapshot of every effective date; raise ReferenceDataInvalid on bad data."""
        loaded = sorted((_Loaded(n, v) for n, v in files), key=lambda f: (f.version.effective_from, f.name))
        if not loaded:
            raise ReferenceDataInvalid(source="(directory)", detail="no version file found")
        seen: dict[tuple[date, str], str] = {}
        for f in loaded:
            for section in f.version.sections():
                key = (f.version.effective_from, section)
                if key in seen:
                    raise ReferenceDataInvalid(
                        source=f.name,
                        detail=f"section {section!r} is also defined by {seen[key]} on the same date",
                    )
                seen[key] = f.name
        self._snapshots: list[ReferenceSnapshot] = []
        for day in sorted({f.version.effective_from for f in loaded}):
            self._snapshots.append(self._build(day, [f for f in loaded if f.version.effective_from <= day]))

    @staticmethod
    def _build(day: date, files: list[_Loaded]) -> ReferenceSnapshot:
        values: dict[str, Any] = {}
        sources: list[str] = []
        for section in SECTIONS:
            defining = [f for f in files if getattr(f.version, section) is not None]
            if not defining:
                raise ReferenceDataInvalid(
                    source=files[-1].name, detail=f"no file in force on {day} defines section {section!r}"
                )
            latest = defining[-1]
            values[section] = getattr(latest.version, section)
            if latest.name not in sources:
                sources.append(latest.name)
        try:
            return ReferenceSnapshot(effective_from=day, sources=tuple(sorted(sources)), **values)
        except ValidationError as exc:
            raise ReferenceDataInvalid(
                source=", ".join(sorted(sources)),
                detail=f"the version in force on {day} is inconsistent:\n" + _describe(exc),
            ) from exc

    @property
    def effective_dates(self) -> tuple[date, ...]:
        """Return the dates from which a new version is in force, oldest first."""
        return tuple(s.effective_from for s in self._snapshots)

    def as_of(self, day: date) -> ReferenceSnapshot:
        """Return the snapshot in force on ``day``; raise ReferenceDataNotInForce before the first version."""
        current: ReferenceSnapshot | None = None
        for snapshot in self._snapshots:
            if snapshot.effective_from <= day:
                current = snapshot
        if current is None:
            raise ReferenceDataNotInForce(day=day, first=self._snapshots[0].effective_from)
        return current


def load_reference_data(directory: Path | None = None) -> ReferenceData:
    """Load and validate every ``*.yaml`` version file of a directory (default: the shipped data); fail fast."""
    root = directory if directory is not None else default_data_directory()
    if not root.is_dir():
        raise ReferenceDataInvalid(source=str(root), detail="the reference data directory does not exist")
    files: list[tuple[str, VersionFile]] = []
    for path in sorted(root.iterdir()):
        if path.suffix not in {".yaml", ".yml"}:
            continue
        if not valid_file_name(path.name):
            raise ReferenceDataInvalid(
                source=path.name, detail="a version file must be named <YYYY-MM-DD>.<topic>.yaml"
            )
        files.append((path.name, _read(path)))
    return ReferenceData(files)
