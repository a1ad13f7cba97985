"""Messaging: the broker factory, the transactional outbox and its relay, the inbox and dead letters."""
