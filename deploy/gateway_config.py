"""The public gateway's configuration: rendering the shared nginx templates, the local main file, a development
TLS certificate, and the merged OpenAPI document of the public gateway API.

The templates in ``deploy/gateway/`` are the one configuration of the gateway: the local stack renders them here,
docker-compose lets the official nginx image render them (envsubst), and the Kubernetes manifests mount them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

_VARIABLE = re.compile(r"\$\{(RAS_[A-Z0-9_]+)\}")


class GatewayConfigError(ValueError):
    """A template names a value that was not given."""


def render(template: str, values: dict[str, str]) -> str:
    """Replace every ``${RAS_…}`` of ``template`` by its value; nginx's own ``$name`` variables stay."""
    missing = sorted({name for name in _VARIABLE.findall(template) if name not in values})
    if missing:
        raise GatewayConfigError(f"the gateway template needs values for: {', '.join(missing)}")
    return _VARIABLE.sub(lambda m: values[m.group(1)], template)


def main_conf(gateway_dir: Path, log_dir: Path, *, user: str | None) -> str:
    """The local stack's nginx.conf: one worker, every path under the stack's folder, the rendered servers."""
    tmp = gateway_dir / "tmp"
    lines = [
        "# Written by deploy/localstack.py; edit deploy/gateway/*.template instead.",
        *([f"user {user} nogroup;"] if user else []),
        "worker_processes 1;",
        f"pid {gateway_dir / 'nginx.pid'};",
        f"error_log {log_dir / 'gateway-error.log'} warn;",
        "events { worker_connections 1024; }",
        "http {",
        "  include /etc/nginx/mime.types;",
        "  default_type application/octet-stream;",
        "  sendfile on;",
        f"  client_body_temp_path {tmp / 'body'};",
        f"  proxy_temp_path {tmp / 'proxy'};",
        f"  fastcgi_temp_path {tmp / 'fastcgi'};",
        f"  uwsgi_temp_path {tmp / 'uwsgi'};",
        f"  scgi_temp_path {tmp / 'scgi'};",
        f"  include {gateway_dir / 'conf.d'}/*.conf;",
        "}",
        "",
    ]
    return "\n".join(lines)


def ensure_certificate(folder: Path) -> tuple[Path, Path]:
    """Create a self-signed development certificate for 127.0.0.1 and localhost once; return (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = folder / "gateway.crt", folder / "gateway.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ras local gateway")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def merge_openapi(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge the services' OpenAPI documents into one: every path once, component names kept apart per service."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Residence Application Online System — public gateway API",
            "version": "1",
            "description": (
                "Every route that the public gateway passes to a service, merged from the services' own "
                "documents. Errors are RFC 9457 problem details with a stable `code` and `message_ja` / "
                "`message_en`. The gateway itself may answer 404, 408, 413, 429 (with Retry-After) and 503 "
                "(with Retry-After) in the same format."
            ),
        },
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    seen_tags: set[str] = set()
    for service, doc in sorted(documents.items()):
        prefix = "".join(part.capitalize() for part in service.split("-"))
        schemas = doc.get("components", {}).get("schemas", {})
        renames = {name: f"{prefix}{name}" for name in schemas}

        def rename(node: Any, renames: dict[str, str] = renames) -> Any:
            if isinstance(node, dict):
                out = {}
                for key, value in node.items():
                    if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                        target = value.rsplit("/", 1)[1]
                        out[key] = f"#/components/schemas/{renames.get(target, target)}"
                    else:
                        out[key] = rename(value)
                return out
            if isinstance(node, list):
                return [rename(item) for item in node]
            return node

        for path, item in doc.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue  # health and documents of a service are not public
            if path in merged["paths"]:
                raise GatewayConfigError(f"two services claim the path {path}")
            merged["paths"][path] = rename(item)
        for name, schema in schemas.items():
            merged["components"]["schemas"][renames[name]] = rename(schema)
        for name, scheme in doc.get("components", {}).get("securitySchemes", {}).items():
            merged["components"]["securitySchemes"].setdefault(name, scheme)
        for tag in doc.get("tags", []):
            if tag.get("name") not in seen_tags:
                seen_tags.add(tag.get("name"))
                merged["tags"].append(tag)
    return merged


def fetch_openapi(base_url: str, timeout: float = 10) -> dict[str, Any]:
    """Fetch one service's OpenAPI document."""
    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=timeout) as response:
        document: dict[str, Any] = json.loads(response.read())
    return document


def write_merged_openapi(services: dict[str, str], target: Path) -> Path:
    """Fetch every service's document, merge them and write the public document to ``target``."""
    merged = merge_openapi({name: fetch_openapi(url) for name, url in services.items()})
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(merged, ensure_ascii=False, indent=1))
    partial.replace(target)
    return target
