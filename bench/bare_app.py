"""The baseline for API throughput: a bare FastAPI endpoint returning a document of similar size, no auth, no DB."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()

DOCUMENT: dict[str, Any] = {
    "id": "00000000-0000-0000-0000-000000000000",
    "state": "submitted",
    "procedures": ["extension"],
    "provisional_receipt_number": "T20261126000001",
    "history": [{"state": "submitted", "at": "2026-11-26T00:00:00+00:00", "actor_id": "x"}],
    "attachments": [{"kind": "photo", "state": "accepted"}, {"kind": "document", "state": "accepted"}],
}


@app.get("/bare")
async def read_bare() -> dict[str, Any]:
    """Return the fixed document."""
    return DOCUMENT
