"""The staff command takes a bureau only from the shared bureau list (the one applications files drafts with)."""

from __future__ import annotations

import io

import pytest

from identity.cli import main
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import random_email

pytestmark = pytest.mark.integration


def test_an_officer_of_a_bureau_not_in_the_list_is_refused_naming_the_list(
    identity: Identity, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(
            ["create-officer", "--email", random_email("officer"), "--bureau", "ZZZ"],
            settings=identity.services.settings,
            out=io.StringIO(),
        )
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "not in the bureau list" in err and "NAH (Naha District Immigration Services Office)" in err
    out = io.StringIO()
    assert (
        main(
            ["create-officer", "--email", random_email("officer"), "--bureau", "NAH"],
            settings=identity.services.settings,
            out=out,
        )
        == 0
    )
    assert "officer (NAH)" in out.getvalue()
