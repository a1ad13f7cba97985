"""Fixtures of the unit tests of the applications domain."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from applications.domain.clock import FixedClock
from applications.reference import ReferenceData, default_data_directory, load_reference_data
from tests.applications.unit.applications_builders import TODAY, japan_clock


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    """The shipped reference data, loaded once."""
    return load_reference_data()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped reference data directory."""
    target = tmp_path / "data"
    shutil.copytree(default_data_directory(), target)
    return target


@pytest.fixture
def clock() -> FixedClock:
    """A clock at 10:00 Japan time on TODAY."""
    return japan_clock(TODAY)
