"""Shared building blocks of the Residence Application Online System.

Event contracts (``shared.events``), messaging with outbox and inbox (``shared.messaging``), telemetry,
database helpers, the settings base, problem-details errors and access-token verification. Services import
only this package from each other's world; they never import each other.
"""
