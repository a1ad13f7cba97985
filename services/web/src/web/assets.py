"""The portal's stylesheet: the Digital Agency design tokens (npm ``@digital-go-jp/design-tokens``) and our own
rules, joined into one file whose name carries its hash, so the gateway can cache it for a year."""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).parent
SOURCE = PACKAGE_DIR / "static" / "src" / "app.css"
NODE_MODULES = PACKAGE_DIR.parents[1] / "node_modules"
TOKENS = NODE_MODULES / "@digital-go-jp" / "design-tokens" / "dist" / "tokens.css"


class AssetsMissing(RuntimeError):
    """The front-end packages are not installed."""


def build(target: Path) -> str:
    """Write ``app.<hash>.css`` into ``target`` (once per content) and return its file name."""
    if not TOKENS.exists():
        raise AssetsMissing(
            f"{TOKENS} is missing: run scripts/bootstrap.sh (it runs `npm ci` in services/web)"
        )
    css = (
        "/* @digital-go-jp/design-tokens (MIT, Digital Agency) */\n"
        + TOKENS.read_text()
        + "\n/* the portal */\n"
        + SOURCE.read_text()
    ).encode()
    name = f"app.{hashlib.sha256(css).hexdigest()[:12]}.css"
    target.mkdir(parents=True, exist_ok=True)
    path = target / name
    if not path.exists():
        partial = path.with_suffix(".part")
        partial.write_bytes(css)
        partial.replace(path)
    return name
