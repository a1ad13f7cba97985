"""Fixtures of the applications integration tests."""

from __future__ import annotations
