"""The portal's sessions in its own PostgreSQL database: kept, replaced, expired and ended."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.db import create_engine
from tests.support.apps import Infra
from web.sessions import PostgresSessionStore, new_cookie

pytestmark = pytest.mark.integration


async def test_sessions_are_kept_by_the_hash_of_their_cookie_and_end_when_told_or_expired(
    infra: Infra,
) -> None:
    engine = create_engine(infra.stack.database_url("ras_test_web"))
    store = PostgresSessionStore(engine)
    try:
        cookie = new_cookie()
        assert await store.load(cookie) is None
        await store.save(cookie, {"access_token": "a", "csrf": "c"}, timedelta(minutes=5))
        assert await store.load(cookie) == {"access_token": "a", "csrf": "c"}
        await store.save(cookie, {"csrf": "d"}, timedelta(minutes=5))
        assert await store.load(cookie) == {"csrf": "d"}
        async with engine.connect() as conn:
            from sqlalchemy import text

            stored = (await conn.execute(text("SELECT id_hash FROM web_session"))).scalars().all()
        assert cookie not in stored and len(stored[0]) == 64  # only the hash is stored

        expired = new_cookie()
        await store.save(expired, {"x": 1}, timedelta(seconds=-1))
        assert await store.load(expired) is None

        await store.delete(cookie)
        assert await store.load(cookie) is None
    finally:
        await engine.dispose()
