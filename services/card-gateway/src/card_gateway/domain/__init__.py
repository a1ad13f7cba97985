"""The card-gateway domain: APDUs, PIN rules, typed errors and value objects (no PC/SC, no web framework)."""
