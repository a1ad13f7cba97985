"""Versioned reference data for identity policies *(policy)*: change here with a new version, never inline in code."""

from __future__ import annotations

POLICY_VERSION = "2026-01"

# A small list of passwords too common to allow (compared case-insensitively). Long enough to pass the length rule on
# purpose: short ones are already refused by it. Replace with a larger breached-password corpus when one is adopted.
COMMON_PASSWORDS: frozenset[str] = frozenset(
    {
        "password1234",
        "password12345",
        "password123456",
        "password!234",
        "passw0rd1234",
        "p@ssw0rd1234",
        "p@ssword1234",
        "123456789012",
        "1234567890ab",
        "qwertyuiop12",
        "qwerty123456",
        "1qaz2wsx3edc",
        "1q2w3e4r5t6y",
        "iloveyou1234",
        "abc123456789",
        "abcdefghijkl",
        "aa1234567890",
        "admin1234567",
        "welcome12345",
        "letmein12345",
        "sunshine1234",
        "princess1234",
        "football1234",
        "baseball1234",
        "dragon123456",
        "monkey123456",
        "zaq12wsxcde3",
        "japan1234567",
        "nippon123456",
        "tokyo1234567",
        "sakura123456",
        "doraemon1234",
        "pokemon12345",
        "myname123456",
        "mynumber1234",
        "zairyu123456",
        "immigration1",
        "immigration123",
        "changeme1234",
        "secret123456",
    }
)
