"""Entrypoints: the loopback HTTP API and the diagnostic CLI (thin translators over the gateway)."""
