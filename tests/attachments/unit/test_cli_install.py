"""The ``attachments-check`` command is installed with the package and works."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.attachments.checks.attachment_check_factories import Files

pytestmark = pytest.mark.integration


def test_the_installed_attachments_check_command_checks_a_file(tmp_path: Path) -> None:
    command = shutil.which("attachments-check", path=str(Path(sys.executable).parent))
    assert command, (
        "attachments-check is not installed next to the interpreter (pip install -e services/attachments)"
    )
    files = Files(tmp_path)
    result = subprocess.run(
        [command, str(files.save(files.text_pdf(), "ok.pdf"))], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "ACCEPTED" in result.stdout
