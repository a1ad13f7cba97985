"""Schemathesis over every service's OpenAPI document: no 5xx, and every response is documented and conforms.

Each operation gets a few generated requests (valid and invalid ones) with a valid token of a fresh applicant, sent
over real sockets to the service served by uvicorn on the real database. Bounded so that the suite stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.platform.edge_support import SERVICES, Served, build, headers_for, served
from tests.support.apps import Infra

pytestmark = pytest.mark.integration

EXAMPLES = 6  # per operation, valid and invalid requests with a token
ANONYMOUS_EXAMPLES = 2  # per operation, valid requests without a token
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module", params=SERVICES)
def server(
    request: pytest.FixtureRequest, infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One service at a time, served by uvicorn."""
    name: str = request.param
    with served(name, build(name, infra, tmp_path_factory.mktemp(name))) as running:
        yield running


def explore(
    operation: Any,
    server: Served,
    headers: dict[str, str],
    failures: list[str],
    *,
    examples: int,
    negative: bool,
) -> None:
    """Send a few generated requests (valid, and invalid if asked) to one operation; note every failed check."""
    label = f"{operation.label} ({'signed in' if headers else 'anonymous'})"
    modes = [schemathesis.GenerationMode.POSITIVE] + (
        [schemathesis.GenerationMode.NEGATIVE] if negative else []
    )
    strategy = st.one_of(*(operation.as_strategy(mode) for mode in modes))

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=server.base_url, headers=headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis raises a group of failed checks
            failures.append(f"{label}: {response.status_code}: {str(exc)[:800]}")

    run()


def test_every_operation_answers_without_5xx_and_as_documented(server: Served, infra: Infra) -> None:
    schema = schemathesis.openapi.from_dict(server.app.openapi())
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        if result.ok().path == "/ready":  # type: ignore[union-attr]
            continue  # 503 here by design: the servers run without their lifespan (test_health covers /ready)
        operations += 1
        operation = result.ok()  # type: ignore[union-attr]
        explore(
            operation, server, headers_for(server.name, infra), failures, examples=EXAMPLES, negative=True
        )
        if (
            server.name != "card-gateway"
        ):  # once more without a token: wherever 401 is given, it is documented
            explore(operation, server, {}, failures, examples=ANONYMOUS_EXAMPLES, negative=False)
    assert operations >= 3
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:40])
