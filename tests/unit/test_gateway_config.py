"""The gateway's configuration: one set of templates for the local stack and docker-compose, and the merged API."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.support.stack import ROOT, Ports, Stack

pytestmark = pytest.mark.unit

import gateway_config  # noqa: E402  (deploy/ is on sys.path through tests.support.stack)

GATEWAY = ROOT / "deploy" / "gateway"
VARIABLE = re.compile(r"\$\{(RAS_[A-Z0-9_]+)\}")


def template_variables(*names: str) -> set[str]:
    """Every ${RAS_…} the named templates use."""
    return {v for name in names for v in VARIABLE.findall((GATEWAY / name).read_text())}


def test_render_replaces_only_our_variables_and_refuses_a_missing_one() -> None:
    text = "listen ${RAS_X}; set $ras_y $remote_addr;"
    assert gateway_config.render(text, {"RAS_X": "8080"}) == "listen 8080; set $ras_y $remote_addr;"
    with pytest.raises(gateway_config.GatewayConfigError, match="RAS_X"):
        gateway_config.render(text, {})


def test_docker_compose_mounts_the_same_templates_and_gives_every_value() -> None:
    gateway = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["gateway"]
    mounted = {v.split(":")[0].removeprefix("./") for v in gateway["volumes"]}
    plain = [p.name for p in GATEWAY.glob("*.template") if "tls" not in p.name]
    for name in plain:
        assert f"deploy/gateway/{name}" in mounted, name
    missing = template_variables(*plain) - set(gateway["environment"])
    assert not missing, missing
    # No service publishes a port of its own: the gateway is the one public address.
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("identity", "applications", "attachments", "notifications"):
        assert "ports" not in services[name], name
    # Identity believes X-Forwarded-For from the gateway's fixed address and from no one else.
    address = gateway["networks"]["default"]["ipv4_address"]
    assert yaml.safe_load(services["identity"]["environment"]["IDENTITY_TRUSTED_PROXIES"]) == [address]


def test_the_local_stack_renders_a_configuration_that_nginx_accepts(tmp_path: pytest.TempPathFactory) -> None:
    stack = Stack(tmp_path, Ports())  # type: ignore[arg-type]
    conf = stack.render_gateway()
    check = subprocess.run(
        ["nginx", "-t", "-q", "-p", f"{stack.gateway_dir}/", "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    rendered = "".join(p.read_text() for p in (stack.gateway_dir / "conf.d").iterdir())
    assert "${RAS_" not in rendered
    assert f"server 127.0.0.1:{stack.ports.services['identity']}" in rendered


def test_merged_openapi_keeps_every_public_path_and_separates_component_names() -> None:
    def doc(path: str) -> dict[str, object]:
        return {
            "paths": {
                path: {"get": {"responses": {"200": {"$ref": "#/components/schemas/Problem"}}}},
                "/ready": {"get": {}},
            },
            "components": {"schemas": {"Problem": {"type": "object"}}},
            "tags": [{"name": "health"}],
        }

    merged = gateway_config.merge_openapi(
        {"identity": doc("/api/identity/me"), "card-gateway": doc("/api/x")}
    )
    assert set(merged["paths"]) == {"/api/identity/me", "/api/x"}  # /ready is not public
    ref = merged["paths"]["/api/identity/me"]["get"]["responses"]["200"]["$ref"]
    assert ref == "#/components/schemas/IdentityProblem"
    assert set(merged["components"]["schemas"]) == {"IdentityProblem", "CardGatewayProblem"}
    with pytest.raises(gateway_config.GatewayConfigError, match="two services"):
        gateway_config.merge_openapi({"a": doc("/api/same"), "b": doc("/api/same")})
