"""alive and ready: ready means the database and the broker answer; the outbox backlog is shown to operators."""

from __future__ import annotations

import pytest
from pydantic_settings import SettingsConfigDict

from shared.service import ServiceRuntime, build_app
from shared.settings import ServiceSettings
from tests.support.apps import Infra, running
from tests.support.stack import free_port

pytestmark = pytest.mark.integration


class HealthSettings(ServiceSettings):
    """A service's settings, as every service declares them."""

    model_config = SettingsConfigDict(env_prefix="HEALTH_TEST_", env_nested_delimiter="__", extra="ignore")


async def test_a_service_is_ready_when_its_database_and_broker_answer(infra: Infra) -> None:
    app = build_app(
        ServiceRuntime("health", HealthSettings(**infra.common("identity"))), title="t", routers=[]
    )
    async with running(app) as client:
        alive = await client.get("/alive")
        ready = await client.get("/ready")
    assert alive.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert isinstance(ready.json()["outbox_backlog"], int)


async def test_a_service_whose_database_is_unreachable_is_alive_but_not_ready(infra: Infra) -> None:
    settings = HealthSettings(
        **(
            infra.common("identity")
            | {"database_url": f"postgresql+asyncpg://ras@127.0.0.1:{free_port()}/none"}
        )
    )
    app = build_app(ServiceRuntime("health", settings), title="t", routers=[])
    async with running(app) as client:
        alive = await client.get("/alive")
        ready = await client.get("/ready")
    assert alive.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["broker"] == "ok"
    assert ready.json()["checks"]["database"].startswith("error")
    assert "outbox_backlog" not in ready.json()
