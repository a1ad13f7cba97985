"""Service layer of the applications service: one function per use case, each in one transaction (unit of work)."""
