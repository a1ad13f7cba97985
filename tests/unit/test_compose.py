"""docker-compose.yml cannot run here (no engine): check that it parses and names every part."""

from __future__ import annotations

import pytest
import yaml

from tests.support.stack import ROOT

pytestmark = pytest.mark.unit


def test_compose_file_parses_and_names_every_service_and_the_infrastructure() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("identity", "applications", "attachments", "notifications", "card-gateway"):
        assert name in services, name
        assert services[name]["build"]["args"]["SERVICE"] == name
        assert (ROOT / "services" / name).is_dir()
    for part in ("kafka", "postgres", "smtp", "jaeger"):
        assert part in services, part
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for name in ("identity", "applications", "attachments", "notifications"):
        env = services[name]["environment"]
        prefix = name.upper()
        assert env[f"{prefix}_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env[f"{prefix}_DATABASE_URL"].endswith(f"/ras_{name}")
