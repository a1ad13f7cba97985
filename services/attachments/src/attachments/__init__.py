"""The attachments service (see services/attachments/README.md for what it owns, publishes and consumes)."""
