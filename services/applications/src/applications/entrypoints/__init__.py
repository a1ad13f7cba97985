"""Entrypoints of the applications service: HTTP routes and Kafka subscribers."""
