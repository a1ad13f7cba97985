"""Test support shared by every service's tests and simulators (never imported by production code paths).

- :mod:`shared.testing.jpki`: the one test PKI of the project (JPKI-like CAs, card certificates, CRLs, card signatures).
"""
