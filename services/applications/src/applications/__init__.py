"""The applications service (see services/applications/README.md for what it owns, publishes and consumes)."""
